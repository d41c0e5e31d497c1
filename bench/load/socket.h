// A plain non-blocking TCP socket for the load tool, with every wait bounded by a deadline and an
// abort flag. bench/ is outside engine/, so POSIX sockets and std::chrono are allowed here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace herald::load {

using Clock = std::chrono::steady_clock;

// Shared by all threads of one run: the deadline every wait respects, and a flag that one thread
// sets on failure so the others stop within one poll slice.
struct RunControl {
    Clock::time_point deadline;
    std::atomic<bool> aborted{false};
};

// Outcome of an I/O call. `message` is set when ok is false.
struct IoResult {
    bool ok = true;
    std::size_t bytes = 0;  // For receive: 0 with ok == true means end of stream.
    std::string message;
};

// Owns one connected socket. Not thread-safe: one thread per connection.
class TcpSocket {
public:
    TcpSocket() = default;
    ~TcpSocket();
    TcpSocket(const TcpSocket&) = delete;
    TcpSocket& operator=(const TcpSocket&) = delete;
    TcpSocket(TcpSocket&& other) noexcept;
    TcpSocket& operator=(TcpSocket&& other) noexcept;

    // Connects with TCP_NODELAY and O_NONBLOCK set.
    IoResult connect_to(const std::string& host, std::uint16_t port, RunControl& control);
    // Sends every byte; waits (bounded) while the kernel buffer is full.
    IoResult send_all(const char* data, std::size_t size, RunControl& control);
    // Receives at least one byte, or reports end of stream, timeout or abort.
    IoResult receive_some(char* target, std::size_t size, RunControl& control);
    void close();
    bool is_open() const { return fd_ >= 0; }

private:
    // Waits for `events` on the socket in short slices until ready, deadline or abort.
    IoResult wait_for(short events, RunControl& control);

    int fd_ = -1;
};

}  // namespace herald::load
