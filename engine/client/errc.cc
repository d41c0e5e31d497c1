#include "engine/client/errc.h"

#include <string>

namespace herald::client {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.client"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::invalid_argument: return "invalid argument";
            case Errc::invalid_subject: return "invalid subject";
            case Errc::max_payload: return "maximum payload exceeded";
            case Errc::headers_not_supported: return "headers not supported by the server";
            case Errc::not_connected: return "not connected";
            case Errc::connection_closed: return "connection closed";
            case Errc::disconnected: return "disconnected";
            case Errc::connection_refused: return "no server could be reached";
            case Errc::no_servers: return "no servers available for connection";
            case Errc::timeout: return "timeout";
            case Errc::no_responders: return "no responders available for request";
            case Errc::reconnect_buffer_full: return "outbound buffer limit exceeded while reconnecting";
            case Errc::outbound_full: return "outbound buffer limit exceeded";
            case Errc::draining: return "connection draining";
            case Errc::bad_subscription: return "invalid subscription";
            case Errc::tls_required: return "the server requires TLS, not supported by this client";
            case Errc::authorization_violation: return "authorization violation";
            case Errc::permission_violation: return "permissions violation";
            case Errc::stale_connection: return "stale connection";
            case Errc::server_error: return "server error";
            case Errc::protocol_error: return "protocol error";
            case Errc::io_error: return "i/o error";
        }
        return "unknown";
    }
};

bool starts_with_lower(std::string_view text, std::string_view lower_prefix) {
    if (text.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

bool equals_lower(std::string_view text, std::string_view lower) {
    return text.size() == lower.size() && starts_with_lower(text, lower);
}

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

// Matches nats.go processErr / checkAuthError (1.22): lower-cased compare after the quotes are
// stripped; permission errors keep the connection, auth errors go through reconnect, stale
// connection and max connections reconnect, anything else closes.
ServerErrorKind classify_server_error(std::string_view text) {
    if (starts_with_lower(text, "permissions violation")) return ServerErrorKind::permission;
    if (equals_lower(text, "stale connection")) return ServerErrorKind::stale;
    if (equals_lower(text, "maximum connections exceeded")) return ServerErrorKind::max_connections;
    if (equals_lower(text, "authorization violation") ||
        equals_lower(text, "user authentication expired") ||
        equals_lower(text, "user authentication revoked") ||
        equals_lower(text, "account authentication expired")) {
        return ServerErrorKind::authorization;
    }
    return ServerErrorKind::fatal;
}

Errc errc_of(ServerErrorKind kind) {
    switch (kind) {
        case ServerErrorKind::permission: return Errc::permission_violation;
        case ServerErrorKind::authorization: return Errc::authorization_violation;
        case ServerErrorKind::stale: return Errc::stale_connection;
        case ServerErrorKind::max_connections: return Errc::server_error;
        case ServerErrorKind::fatal: return Errc::server_error;
    }
    return Errc::server_error;
}

}  // namespace herald::client
