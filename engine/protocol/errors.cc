#include "engine/protocol/errors.h"

#include <fmt/format.h>

namespace herald::protocol {

ServerErrorInfo server_error_info(ServerError error) {
    switch (error) {
        case ServerError::authorization_violation:
            return {"Authorization Violation", true};
        case ServerError::authentication_timeout:
            return {"Authentication Timeout", true};
        case ServerError::max_payload_violation:
            return {"Maximum Payload Violation", true};
        case ServerError::max_control_line_exceeded:
            return {"maximum control line exceeded", true};
        case ServerError::stale_connection:
            return {"Stale Connection", true};
        case ServerError::unknown_protocol_operation:
            return {"Unknown Protocol Operation", true};
        case ServerError::invalid_subject:
            return {"Invalid Subject", false};
        case ServerError::invalid_publish_subject:
            return {"Invalid Publish Subject", false};
        case ServerError::max_connections_exceeded:
            return {"maximum connections exceeded", true};
        case ServerError::max_subscriptions_exceeded:
            return {"maximum subscriptions exceeded", false};
        case ServerError::invalid_client_protocol:
            return {"invalid client protocol", true};
        case ServerError::no_responders_requires_headers:
            return {"no responders requires headers support", true};
    }
    return {"Unknown Protocol Operation", true};
}

std::string go_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    out += fmt::format("\\x{:02x}", byte);
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

std::string publish_violation_text(std::string_view subject) {
    return fmt::format("Permissions Violation for Publish to {}", go_quote(subject));
}

std::string subscribe_violation_text(std::string_view subject, std::string_view queue) {
    if (queue.empty()) {
        return fmt::format("Permissions Violation for Subscription to {}", go_quote(subject));
    }
    return fmt::format("Permissions Violation for Subscription to {} using queue {}",
                       go_quote(subject),
                       go_quote(queue));
}

}  // namespace herald::protocol
