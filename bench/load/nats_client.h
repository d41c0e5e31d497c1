// A minimal raw-protocol NATS connection for the load tool: handshake, vectored-free large sends,
// a growable read buffer fed to parse_frames, automatic PONG replies, and PING/PONG flushes.
// One thread owns one NatsClient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/frame_parser.h"
#include "bench/load/socket.h"

namespace herald::load {

inline constexpr std::size_t read_buffer_size = 1024 * 1024;  // Grows for larger frames.

// "nats://host:port", "host:port" or "host" (port 4222).
struct ServerAddress {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4222;
};
bool parse_url(std::string_view url, ServerAddress& address, std::string& error);

class NatsClient {
public:
    using MsgCallback = std::function<void(const MsgFrame&)>;

    explicit NatsClient(RunControl& control) : control_(control), read_buffer_(read_buffer_size) {}

    // Connects, reads INFO, sends CONNECT (verbose off) and waits for the first PONG.
    bool connect(const ServerAddress& address, std::string_view name);
    bool send(std::string_view bytes);
    // Sends PING and reads (delivering messages) until the matching PONG arrives.
    bool flush();
    // One receive plus parsing of every complete frame in it. Messages go to the callback.
    bool pump();

    void set_msg_callback(MsgCallback callback) { on_msg_ = std::move(callback); }
    const std::string& error() const { return error_; }
    std::uint64_t pongs_received() const { return pongs_received_; }

    // parse_frames handler interface.
    void on_msg(const MsgFrame& frame) {
        if (on_msg_) on_msg_(frame);
    }
    void on_ping() { pings_pending_++; }
    void on_pong() { pongs_received_++; }
    void on_info(std::string_view) { info_seen_ = true; }
    void on_ok() {}
    void on_err(std::string_view text) { server_error_ = std::string(text); }

private:
    bool fail(std::string message);

    RunControl& control_;
    TcpSocket socket_;
    std::vector<char> read_buffer_;
    std::size_t read_begin_ = 0;  // Unparsed bytes are [read_begin_, read_end_).
    std::size_t read_end_ = 0;
    MsgCallback on_msg_;
    std::uint64_t pongs_received_ = 0;
    std::uint64_t pings_sent_ = 0;
    std::uint64_t pings_pending_ = 0;  // Server PINGs still to answer.
    bool info_seen_ = false;
    std::string server_error_;
    std::string error_;
};

}  // namespace herald::load
