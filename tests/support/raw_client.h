// RawClient: a test-only NATS client that speaks raw protocol bytes over any io::Env (usually a
// simulated one) and records what the server sends, parsed with the client-role parser. Tests
// drive it with send() and wait with SimWorld::run_until on what it has recorded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/io/io.h"
#include "engine/protocol/parser.h"

namespace herald::testing {

struct ReceivedMessage {
    std::string subject;
    std::string sid;
    std::string reply;
    std::string headers;  // the header block of an HMSG, empty for MSG
    std::string payload;
};

class RawClient {
public:
    RawClient(io::Env& env, std::string address);
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;
    ~RawClient();

    void send(std::string_view bytes);
    void close();

    bool connected() const { return stream_ != nullptr; }
    bool connect_failed() const { return connect_failed_; }
    bool eof() const { return eof_; }
    const std::string& info() const { return info_; }
    const std::vector<ReceivedMessage>& messages() const { return messages_; }
    const std::vector<std::string>& errors() const { return errors_; }
    std::size_t pongs() const { return pongs_; }
    std::size_t pings() const { return pings_; }
    std::size_t oks() const { return oks_; }
    void set_auto_pong(bool on) { auto_pong_ = on; }

    // Parser handler.
    void on_info(std::string_view json) { info_.assign(json); }
    void on_msg(const protocol::MessageArgs& args, std::string_view payload);
    void on_ok() { ++oks_; }
    void on_err(std::string_view text) { errors_.emplace_back(text); }
    void on_ping();
    void on_pong() { ++pongs_; }
    void on_parse_error(protocol::ParseError) { parse_failed_ = true; }
    bool parse_stopped() const { return parse_failed_; }

private:
    void read_more();
    void write_more();

    io::Env& env_;
    std::unique_ptr<io::Stream> stream_;
    protocol::Parser parser_{protocol::Role::client, protocol::ParserLimits{4096, 0}};
    std::vector<std::byte> read_buffer_ = std::vector<std::byte>(16 * 1024);
    std::string pending_;     // not yet handed to the stream
    std::string in_flight_;   // being written
    std::span<const std::byte> iovec_;  // the one buffer of the write in flight
    bool writing_ = false;
    bool connect_failed_ = false;
    bool eof_ = false;
    bool parse_failed_ = false;
    bool auto_pong_ = true;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::string info_;
    std::vector<ReceivedMessage> messages_;
    std::vector<std::string> errors_;
    std::size_t pongs_ = 0;
    std::size_t pings_ = 0;
    std::size_t oks_ = 0;
};

}  // namespace herald::testing
