// A Client is one client connection of the broker: it reads bytes from its stream into the
// protocol parser, turns operations into broker actions, and owns its subscriptions and its
// outbound queue. Created and owned by the Broker; runs on the node's loop. After close() it
// never reads, writes or routes again, and the Broker destroys it on a later loop turn.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth/authenticator.h"
#include "engine/base/log.h"
#include "engine/core/outbound.h"
#include "engine/core/sublist.h"
#include "engine/core/subscription.h"
#include "engine/io/io.h"
#include "engine/protocol/errors.h"
#include "engine/protocol/parser.h"

namespace herald::auth {
class ClientPermissions;
}  // namespace herald::auth

namespace herald::core {

class Account;
class Broker;

// How long a fast producer may be stalled on one slow consumer (nats-server client.go).
inline constexpr Duration stall_duration_min = Duration::milliseconds(100);
inline constexpr Duration stall_duration_max = Duration::seconds(1);
Duration stall_duration(std::size_t pending, std::size_t max_pending);

// Why a connection was closed: the texts of nats-server's ClosedState (monitor.go).
enum class CloseReason {
    client_closed,
    authentication_timeout,
    authentication_failure,
    slow_consumer_pending_bytes,
    slow_consumer_write_deadline,
    write_error,
    read_error,
    parse_error,
    stale_connection,
    protocol_violation,
    bad_client_protocol_version,
    max_connections_exceeded,
    max_payload_exceeded,
    max_control_line_exceeded,
    server_shutdown,
};

std::string_view close_reason_text(CloseReason reason);

// The CONNECT options a client sent (nats-server ClientOpts defaults: verbose, pedantic, echo).
struct ConnectOptions {
    bool verbose = true;
    bool pedantic = true;
    bool echo = true;
    bool headers = false;
    bool no_responders = false;
    std::int64_t protocol = 0;
    std::string name;
    std::string lang;
    std::string version;
    std::string user;
    std::string pass;
    std::string auth_token;
};

struct ClientStats {
    std::uint64_t in_msgs = 0;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_msgs = 0;
    std::uint64_t out_bytes = 0;
};

class Client {
public:
    Client(Broker& broker,
           io::Env& env,
           std::uint64_t cid,
           std::unique_ptr<io::Stream> stream,
           base::Logger log);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&&) = delete;
    Client& operator=(Client&&) = delete;

    // Sends INFO, starts reading and arms the auth and ping timers.
    void start(std::string_view info_line);
    // Closes now: no more reads, writes or deliveries. Idempotent.
    void close(CloseReason reason);
    // Stops reading, writes what is queued (bounded by write_deadline), then closes.
    void close_after_flush(CloseReason reason);
    // Sends a -ERR; closes after flushing it if the error is fatal.
    void send_error(protocol::ServerError error);
    void send_error_text(std::string_view text);

    // Queues one message for subscription `sub` of this client. Returns false if the client is
    // closed or was cut off as a slow consumer.
    bool deliver(Subscription& sub, const protocol::MessageArgs& message, std::string_view payload);
    // False when the client's subscribe permissions deny messages on `subject` (a wildcard
    // subscription that covers a denied subject).
    bool delivery_allowed(std::string_view subject);
    // This client received a request with `reply`: allow_responses may let it answer.
    void allow_response(std::string_view reply);
    // The account's match for `subject`, remembered across this client's publishes while the
    // account's Sublist does not change (a publisher usually repeats its subjects). The result
    // stays valid until this client's next call.
    const SublistResult& match(std::string_view subject);
    // Fast-producer stall: reading resumes when a consumer drained, or the stall timed out.
    void resume_reading();
    // Starts a write of queued bytes if none is in flight.
    void flush();

    std::uint64_t cid() const { return cid_; }
    bool closed() const { return closed_; }
    bool connected() const { return connected_; }
    bool echo() const { return options_.echo; }
    Account* account() const { return account_; }
    const ConnectOptions& connect_options() const { return options_; }
    const ClientStats& stats() const { return stats_; }
    std::size_t subscription_count() const { return subscriptions_.size(); }
    std::size_t bytes_pending() const { return outbound_.bytes_pending(); }
    const std::string& peer_address() const { return peer_address_; }

    // Parser handler (called by protocol::Parser::feed).
    void on_connect(std::string_view json);
    void on_pub(const protocol::MessageArgs& args, std::string_view payload);
    void on_sub(std::string_view subject, std::string_view queue, std::string_view sid);
    void on_unsub(std::string_view sid, std::optional<std::uint64_t> max);
    void on_ping();
    void on_pong();
    void on_parse_error(protocol::ParseError error);
    bool parse_stopped() const { return closed_ || closing_; }

private:
    void read_more();
    void read_callback(Result<std::size_t> result);
    void write_callback(Status status);
    void queue(std::string_view bytes);
    void queue_flush();
    void ping_timer_callback();
    void auth_timer_callback();
    void write_deadline_callback(std::uint64_t write_generation);
    void arm_ping_timer(Duration after);
    bool check_slow_consumer();
    bool over_stall_threshold() const;
    bool stall_on_consumers();
    void release_stalled_producers();
    void remove_subscription(
        std::map<std::string, std::unique_ptr<Subscription>, std::less<>>::iterator it);
    bool authorize();
    bool ensure_identity();
    bool bind_identity(Result<auth::Identity> identity);

    Broker& broker_;
    io::Env& env_;
    std::uint64_t cid_;
    std::unique_ptr<io::Stream> stream_;
    base::Logger log_;
    std::string peer_address_;
    protocol::Parser parser_;

    ConnectOptions options_;
    Account* account_ = nullptr;
    std::unique_ptr<auth::ClientPermissions> permissions_;  // none = everything allowed
    bool connected_ = false;                                // a CONNECT was accepted
    bool closing_ = false;                                  // flushing before close
    CloseReason closing_reason_ = CloseReason::server_shutdown;
    bool closed_ = false;
    bool flush_queued_ = false;

    std::vector<std::byte> read_buffer_;
    Outbound outbound_;
    std::uint64_t write_generation_ = 0;  // increments at each write start
    Instant write_started_;
    io::TimerId write_deadline_timer_ = 0;  // 0 = not armed

    // Fast-producer stall (nats-server stalledWait), as producer and as consumer.
    bool stalled_ = false;                          // reads paused until a consumer drains
    io::TimerId stall_timer_ = 0;
    bool stall_noted_ = false;                      // in the broker's list for this read batch
    std::vector<std::uint64_t> stalled_producers_;  // cids waiting for this client to drain

    std::map<std::string, std::unique_ptr<Subscription>, std::less<>> subscriptions_;  // by sid
    std::vector<std::unique_ptr<Subscription>> retired_;  // removed while a route may see them

    io::TimerId ping_timer_ = 0;
    io::TimerId auth_timer_ = 0;
    io::TimerId close_timer_ = 0;
    std::uint32_t pings_outstanding_ = 0;
    bool first_ping_sent_ = false;
    Instant last_read_;
    Instant canary_drop_at_;  // canary: test-only (Options::canaries.drop_after_reconnect).
    ClientStats stats_;

    // The last match made for this client's publishes (see match()).
    std::string last_subject_;
    SublistResultPtr last_result_;
    std::uint64_t last_generation_ = 0;

    friend class Broker;
};

}  // namespace herald::core
