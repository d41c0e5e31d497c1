// A plain TCP connection that speaks bytes, for interop tests that check the NATS wire protocol
// exactly (INFO contents, -ERR strings, verbose +OK) without a client library in between.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace herald::interop {

// One blocking TCP connection to 127.0.0.1:<port>. Every read has a deadline; nothing waits
// forever. Owned by one test thread; closes its socket on destruction.
class RawClient {
public:
    static constexpr std::chrono::milliseconds read_timeout{5'000};

    explicit RawClient(int port);
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void send(std::string_view bytes);
    // The next line including its "\r\n", or nullopt on EOF or timeout (then eof() tells which).
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = read_timeout);
    // Exactly count bytes, or nullopt on EOF or timeout.
    std::optional<std::string> read_bytes(std::size_t count,
                                          std::chrono::milliseconds timeout = read_timeout);
    // Everything up to and including the first occurrence of marker; nullopt on EOF or timeout.
    std::optional<std::string> read_until(std::string_view marker,
                                          std::chrono::milliseconds timeout = read_timeout);
    // Reads until the server closes the connection; true if it did within the timeout. Bytes read
    // on the way are returned through `rest` when given.
    bool wait_closed(std::chrono::milliseconds timeout = read_timeout, std::string* rest = nullptr);
    bool eof() const { return eof_; }

    // Reads the INFO line, sends `connect_json` as CONNECT followed by PING, and reads up to the
    // PONG. Returns the INFO line.
    std::string handshake(std::string_view connect_json = R"({"verbose":false,"pedantic":false})");

private:
    // Appends at most one read's worth of bytes to buffer_; false on EOF, error or deadline.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

}  // namespace herald::interop
