// Raw-protocol NATS connection used by herald-load.
#include "bench/load/nats_client.h"

#include <charconv>
#include <cstring>

namespace herald::load {

bool parse_url(std::string_view url, ServerAddress& address, std::string& error) {
    constexpr std::string_view scheme = "nats://";
    if (url.substr(0, scheme.size()) == scheme) url.remove_prefix(scheme.size());
    const std::size_t at = url.rfind('@');
    if (at != std::string_view::npos) url.remove_prefix(at + 1);  // Credentials are ignored.
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    const std::size_t colon = url.rfind(':');
    const std::size_t bracket = url.rfind(']');  // IPv6 literal: "[::1]:4222".
    if (colon == std::string_view::npos || (bracket != std::string_view::npos && bracket > colon)) {
        address.host = std::string(url);
        address.port = 4222;
    } else {
        address.host = std::string(url.substr(0, colon));
        const std::string_view port_text = url.substr(colon + 1);
        unsigned port = 0;
        auto [pointer, code] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (code != std::errc() || pointer != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            error = "bad port in url: " + std::string(port_text);
            return false;
        }
        address.port = static_cast<std::uint16_t>(port);
    }
    if (address.host.size() >= 2 && address.host.front() == '[' && address.host.back() == ']') {
        address.host = address.host.substr(1, address.host.size() - 2);
    }
    if (address.host.empty()) {
        error = "empty host in url";
        return false;
    }
    return true;
}

bool NatsClient::fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
}

bool NatsClient::connect(const ServerAddress& address, std::string_view name) {
    IoResult connected = socket_.connect_to(address.host, address.port, control_);
    if (!connected.ok) return fail(connected.message);
    while (!info_seen_) {
        if (!pump()) return false;
    }
    std::string hello = R"(CONNECT {"verbose":false,"pedantic":false,"echo":true,)"
                        R"("headers":true,"no_responders":false,"lang":"c++",)"
                        R"("version":"0.1.0","protocol":1,"name":")";
    hello.append(name);
    hello.append("\"}\r\n");
    if (!send(hello)) return false;
    return flush();
}

bool NatsClient::send(std::string_view bytes) {
    IoResult sent = socket_.send_all(bytes.data(), bytes.size(), control_);
    if (!sent.ok) return fail("send: " + sent.message);
    return true;
}

bool NatsClient::flush() {
    if (!send("PING\r\n")) return false;
    const std::uint64_t target = ++pings_sent_;
    while (pongs_received_ < target) {
        if (!pump()) return false;
    }
    return true;
}

bool NatsClient::pump() {
    if (read_begin_ == read_end_) {
        read_begin_ = 0;
        read_end_ = 0;
    } else if (read_end_ == read_buffer_.size()) {
        // A partial frame sits at the end: move it to the front, or grow if it fills the buffer.
        if (read_begin_ == 0) {
            read_buffer_.resize(read_buffer_.size() * 2);
        } else {
            std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_,
                         read_end_ - read_begin_);
            read_end_ -= read_begin_;
            read_begin_ = 0;
        }
    }
    IoResult received = socket_.receive_some(read_buffer_.data() + read_end_,
                                             read_buffer_.size() - read_end_, control_);
    if (!received.ok) return fail("receive: " + received.message);
    if (received.bytes == 0) {
        return fail(server_error_.empty() ? "connection closed by server"
                                          : "connection closed by server:" + server_error_);
    }
    read_end_ += received.bytes;
    ParseOutcome outcome =
        parse_frames(read_buffer_.data() + read_begin_, read_end_ - read_begin_, *this);
    read_begin_ += outcome.consumed;
    if (!outcome.ok) return fail("protocol: " + outcome.error);
    if (!server_error_.empty()) return fail("server error:" + server_error_);
    while (pings_pending_ > 0) {
        pings_pending_--;
        if (!send("PONG\r\n")) return false;
    }
    return true;
}

}  // namespace herald::load
