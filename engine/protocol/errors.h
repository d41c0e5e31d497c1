// Every -ERR text the server sends, in one table, spelled exactly as nats-server 2.9 sends them
// (client.go, parser.go, server.go). Clients match on these strings.
#pragma once

#include <string>
#include <string_view>

namespace herald::protocol {

enum class ServerError {
    authorization_violation,
    authentication_timeout,
    max_payload_violation,
    max_control_line_exceeded,
    stale_connection,
    unknown_protocol_operation,
    invalid_subject,
    invalid_publish_subject,
    max_connections_exceeded,
    max_subscriptions_exceeded,
    invalid_client_protocol,
    no_responders_requires_headers,
};

struct ServerErrorInfo {
    std::string_view text;
    bool fatal;  // the server closes the connection after sending it
};

ServerErrorInfo server_error_info(ServerError error);

// Go's %q quoting of a string (what nats-server puts inside permission errors).
std::string go_quote(std::string_view text);

std::string publish_violation_text(std::string_view subject);
std::string subscribe_violation_text(std::string_view subject, std::string_view queue);

}  // namespace herald::protocol
