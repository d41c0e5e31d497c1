// POSIX implementation of the load tool's TcpSocket.
#include "bench/load/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace herald::load {
namespace {

constexpr int poll_slice_ms = 100;  // How quickly a waiting thread notices an abort.

IoResult failure(std::string message) {
    IoResult result;
    result.ok = false;
    result.message = std::move(message);
    return result;
}

IoResult errno_failure(const char* what) {
    return failure(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

TcpSocket::~TcpSocket() { close(); }

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void TcpSocket::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

IoResult TcpSocket::connect_to(const std::string& host, std::uint16_t port,
                               RunControl& control) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return failure("cannot resolve " + host + ": " + ::gai_strerror(rc));
    }
    IoResult result = failure("no address for " + host);
    for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
        close();
        fd_ = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC,
                       address->ai_protocol);
        if (fd_ < 0) {
            result = errno_failure("socket");
            continue;
        }
        const int flags = ::fcntl(fd_, F_GETFL, 0);
        ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::string where = "connect " + host + ":" + service;
        if (::connect(fd_, address->ai_addr, address->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                result = errno_failure(where.c_str());
                continue;
            }
            result = wait_for(POLLOUT, control);  // Bounded by the run's deadline.
            if (!result.ok) continue;
            int error = 0;
            socklen_t error_size = sizeof error;
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &error_size);
            if (error != 0) {
                result = failure(where + ": " + std::strerror(error));
                continue;
            }
        }
        result = IoResult{};
        break;
    }
    ::freeaddrinfo(found);
    if (!result.ok) close();
    return result;
}

IoResult TcpSocket::wait_for(short events, RunControl& control) {
    for (;;) {
        if (control.aborted.load(std::memory_order_relaxed)) return failure("aborted");
        const auto now = Clock::now();
        if (now >= control.deadline) return failure("timed out");
        pollfd entry{};
        entry.fd = fd_;
        entry.events = events;
        const int rc = ::poll(&entry, 1, poll_slice_ms);
        if (rc < 0) {
            if (errno == EINTR) continue;
            return errno_failure("poll");
        }
        if (rc > 0) return IoResult{};
    }
}

IoResult TcpSocket::send_all(const char* data, std::size_t size, RunControl& control) {
    std::size_t sent = 0;
    while (sent < size) {
        const ssize_t rc = ::send(fd_, data + sent, size - sent, MSG_NOSIGNAL);
        if (rc > 0) {
            sent += static_cast<std::size_t>(rc);
            continue;
        }
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            IoResult waited = wait_for(POLLOUT, control);
            if (!waited.ok) return waited;
            continue;
        }
        return errno_failure("send");
    }
    IoResult result;
    result.bytes = sent;
    return result;
}

IoResult TcpSocket::receive_some(char* target, std::size_t size, RunControl& control) {
    for (;;) {
        const ssize_t rc = ::recv(fd_, target, size, 0);
        if (rc >= 0) {
            IoResult result;
            result.bytes = static_cast<std::size_t>(rc);
            return result;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            IoResult waited = wait_for(POLLIN, control);
            if (!waited.ok) return waited;
            continue;
        }
        return errno_failure("recv");
    }
}

}  // namespace herald::load
