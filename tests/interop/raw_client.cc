// Plain-socket NATS connection for wire-level interop tests; see raw_client.h.
#include "tests/interop/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace herald::interop {

namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error socket_error(const char* what) {
    return std::runtime_error(std::string("raw_client: ") + what + ": " + std::strerror(errno));
}

}  // namespace

RawClient::RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw socket_error("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback connect either succeeds or fails at once; it does not need a deadline.
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const auto error = socket_error("connect");
        close(fd_);
        throw error;
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
    if (fd_ >= 0) close(fd_);
}

void RawClient::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw socket_error("send");
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
}

bool RawClient::fill(Clock::time_point deadline) {
    if (eof_) return false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd entry{fd_, POLLIN, 0};
        const int ready = poll(&entry, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char chunk[16 * 1024];
        const ssize_t received = recv(fd_, chunk, sizeof chunk, 0);
        if (received < 0 && errno == EINTR) continue;
        if (received <= 0) {  // EOF, or ECONNRESET after the server closed on us.
            eof_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(received));
        return true;
    }
}

std::optional<std::string> RawClient::read_until(std::string_view marker,
                                                 std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto found = buffer_.find(marker);
        if (found != std::string::npos) {
            std::string result = buffer_.substr(0, found + marker.size());
            buffer_.erase(0, found + marker.size());
            return result;
        }
        if (!fill(deadline)) return std::nullopt;
    }
}

std::optional<std::string> RawClient::read_line(std::chrono::milliseconds timeout) {
    return read_until("\r\n", timeout);
}

std::optional<std::string> RawClient::read_bytes(std::size_t count,
                                                 std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (buffer_.size() < count) {
        if (!fill(deadline)) return std::nullopt;
    }
    std::string result = buffer_.substr(0, count);
    buffer_.erase(0, count);
    return result;
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout, std::string* rest) {
    const auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
    }
    if (rest != nullptr) *rest = buffer_;
    buffer_.clear();
    return eof_;
}

std::string RawClient::handshake(std::string_view connect_json) {
    auto info = read_line();
    if (!info || info->rfind("INFO ", 0) != 0) throw std::runtime_error("raw_client: no INFO line");
    send("CONNECT " + std::string(connect_json) + "\r\nPING\r\n");
    if (!read_until("PONG\r\n")) throw std::runtime_error("raw_client: no PONG after CONNECT");
    return *info;
}

}  // namespace herald::interop
