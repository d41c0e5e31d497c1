// Errors of the client library: what a caller of herald::client::Connection can get back from a
// call or a callback. Server -ERR texts are mapped onto these (see classify_server_error).
#pragma once

#include <string_view>
#include <system_error>

namespace herald::client {

enum class Errc {
    ok = 0,
    invalid_argument,         // bad options, URL, subject, queue name or header
    invalid_subject,          // empty subject or one with whitespace
    max_payload,              // payload (+ headers) larger than the server's max_payload
    headers_not_supported,    // the server said "headers": false
    not_connected,            // the operation needs a live connection (e.g. flush while reconnecting)
    connection_closed,        // the Connection is closed, or closed while the operation waited
    disconnected,             // the connection was lost while the operation waited
    connection_refused,       // no server could be reached (connect() gives up)
    no_servers,               // the server pool became empty (every server exceeded its attempts)
    timeout,                  // a request, flush, drain or connect attempt timed out
    no_responders,            // a request reached nobody: the server's 503 status message
    reconnect_buffer_full,    // publishing while disconnected would pass reconnect_buffer_size
    outbound_full,            // publishing would pass outbound_size_max: let the loop write first
    draining,                 // the Connection is draining and refuses new subscriptions
    bad_subscription,         // the subscription is no longer valid
    tls_required,             // the server requires TLS, which this client does not speak yet
    authorization_violation,  // -ERR 'Authorization Violation' and the other auth errors
    permission_violation,     // -ERR 'Permissions Violation for ...': async, connection kept
    stale_connection,         // -ERR 'Stale Connection' or too many unanswered PINGs
    server_error,             // any other -ERR: nats.go closes the connection on these
    protocol_error,           // the server sent bytes the parser rejects
    io_error,                 // the stream failed
};

const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

// How a client reacts to a -ERR, after nats.go processErr (core-protocol.md §9).
enum class ServerErrorKind {
    permission,      // async error only; the connection stays
    authorization,   // auth error: the server closes; reconnect unless repeated on that server
    stale,           // I/O-like: reconnect
    max_connections, // I/O-like: reconnect
    fatal,           // anything else: the client closes the connection
};

// Classifies the text of a -ERR (without the quotes), comparing case-insensitively as nats.go.
ServerErrorKind classify_server_error(std::string_view text);
Errc errc_of(ServerErrorKind kind);

}  // namespace herald::client

template <>
struct std::is_error_code_enum<herald::client::Errc> : std::true_type {};
