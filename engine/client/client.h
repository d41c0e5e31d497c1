// Connection: a callback-driven NATS client over io::Env. It runs unchanged on the real Env
// (AsioEnv) and on the simulated one (sim::SimNode), so the CLI, simulator workloads, benchmarks
// and tests share one client. Core NATS only for now: publish, subscribe (wildcards, queue
// groups), request/reply over one muxed inbox, headers, flush, drain, reconnect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "engine/base/result.h"
#include "engine/base/time.h"
#include "engine/client/errc.h"
#include "engine/client/headers.h"
#include "engine/io/io.h"

namespace herald::client {

// A received message. `headers` is empty unless it came as HMSG.
struct Message {
    std::string subject;
    std::string reply;
    Headers headers;
    std::string payload;
    std::uint64_t sid = 0;
    bool has_headers = false;
};

// Handlers see a Message the Connection reuses for the next delivery: copy what you keep.
using MessageHandler = std::function<void(const Message&)>;
using RequestCallback = std::function<void(Result<Message>)>;
using StatusCallback = std::function<void(Status)>;

struct Options {
    // "nats://host:port", "host:port" or "host" (port 4222); "nats://user:pass@host:port" and
    // "nats://token@host:port" carry credentials. An entry may hold several URLs split by commas.
    std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
    std::string user;
    std::string password;
    std::string token;
    std::string name;
    bool echo = true;           // receive our own publishes
    bool no_responders = true;  // 503 status for requests nobody hears (needs headers)
    bool headers = true;        // HPUB/HMSG
    bool verbose = false;       // +OK after each operation (counted, otherwise ignored)
    bool pedantic = false;
    // Visit the servers in a random order (from the Env's Random), like nats.go's default.
    bool randomize = true;

    // One connect attempt, from TCP connect to the first PONG.
    Duration connect_timeout = Duration::seconds(2);
    // Client PINGs; after max_pings_out unanswered ones the connection counts as stale.
    Duration ping_interval = Duration::seconds(120);
    std::uint32_t max_pings_out = 2;
    Duration flush_timeout = Duration::seconds(10);  // flush(callback)
    Duration drain_timeout = Duration::seconds(30);

    // Reconnect: after a lost connection, try the pool (servers + connect_urls learned from INFO)
    // in order. A server is retried no sooner than its backoff since its last attempt:
    // min(reconnect_wait * 2^failures, reconnect_wait_max) + uniform[0, reconnect_jitter].
    bool allow_reconnect = true;
    std::int32_t max_reconnect_attempts = 60;  // per server since its last success; -1 = forever
    Duration reconnect_wait = Duration::seconds(2);
    Duration reconnect_wait_max = Duration::seconds(16);
    Duration reconnect_jitter = Duration::milliseconds(100);
    // Bytes of publishes kept while disconnected and sent after the reconnect; past it publish()
    // fails with Errc::reconnect_buffer_full.
    std::size_t reconnect_buffer_size = 8 * 1024 * 1024;
    // Bytes of frames buffered while connected; past it publish() fails with Errc::outbound_full
    // until the loop has written some (a publisher that outruns the network).
    std::size_t outbound_size_max = 64 * 1024 * 1024;
    // If the first connect fails on every server, keep trying as if reconnecting.
    bool retry_on_failed_connect = false;

    std::string inbox_prefix = "_INBOX";

    // Events. Each runs on the Env's loop, never inline inside a call of the Connection.
    std::function<void(std::error_code why)> on_disconnected;
    std::function<void()> on_reconnected;
    std::function<void()> on_closed;
    // -ERR from the server (permission violations keep the connection) and other async errors.
    std::function<void(std::error_code error, std::string_view text)> on_error;
    // connect_urls in an INFO added servers to the pool.
    std::function<void()> on_servers_discovered;
};

// What the server said in its last INFO.
struct ServerInfo {
    std::string server_id;
    std::string server_name;
    std::string version;
    std::uint64_t client_id = 0;
    std::size_t max_payload = 1024 * 1024;
    bool headers = false;
    bool auth_required = false;
    bool lame_duck = false;
    std::vector<std::string> connect_urls;
};

struct Stats {
    std::uint64_t in_msgs = 0;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_msgs = 0;
    std::uint64_t out_bytes = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t dropped_bytes = 0;  // unsent outbound discarded when a connection was lost
};

enum class State { idle, connecting, connected, reconnecting, draining, closed };

class Connection;
namespace detail {
struct Core;
}  // namespace detail

// A handle on one subscription. Copyable; it does not keep the subscription alive, and it is
// safe to use after the Connection is gone (every call then fails with bad_subscription).
class Subscription {
public:
    Subscription() = default;

    // Sends UNSUB and stops delivery at once.
    Status unsubscribe();
    // Sends UNSUB <sid> <max>: delivery stops after `max` messages in total (counted from the
    // subscribe, as the server counts). max <= delivered unsubscribes now.
    Status auto_unsubscribe(std::uint64_t max);
    bool valid() const;
    std::uint64_t sid() const { return sid_; }
    std::uint64_t delivered() const;

private:
    friend class Connection;
    friend struct detail::Core;
    Subscription(std::weak_ptr<detail::Core> core, std::uint64_t sid)
        : core_(std::move(core)), sid_(sid) {}
    std::weak_ptr<detail::Core> core_;
    std::uint64_t sid_ = 0;
};

// One client connection to a NATS server (or a pool of them).
//
// Lifecycle: construct with an Env and Options, call connect(); use it from the Env's loop only
// (no threads, nothing blocks). close() ends it; drain() ends it gracefully. Destroying it closes
// the stream at once without running on_closed. Do not destroy it from inside one of its own
// callbacks; close() it there and destroy it later.
//
// Outbound frames are encoded straight into reusable chunks and written with one vectored write
// per loop turn; received frames are parsed in place (protocol::Parser) and dispatched by sid.
class Connection {
public:
    Connection(io::Env& env, Options options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects to the first server of the pool that answers. `callback` runs once: OK when the
    // first PONG arrives, or the error when every server failed (unless retry_on_failed_connect).
    void connect(StatusCallback callback);

    // Publishes; returns at once (the bytes go out at the end of this loop turn). While
    // reconnecting, publishes are buffered up to reconnect_buffer_size.
    Status publish(std::string_view subject, std::string_view payload);
    Status publish(std::string_view subject, std::string_view reply, std::string_view payload);
    // Empty `headers` (no fields, no status) go out as a plain PUB, as nats.go does.
    Status publish(std::string_view subject, std::string_view reply, const Headers& headers,
                   std::string_view payload);

    // `handler` runs for each message, on the loop, in arrival order.
    Result<Subscription> subscribe(std::string_view subject, MessageHandler handler);
    Result<Subscription> queue_subscribe(std::string_view subject, std::string_view queue,
                                         MessageHandler handler);

    // Sends a request with reply subject <inbox_prefix>.<nuid>.<token> on the shared muxed inbox.
    // `callback` runs once, never inline: the reply, or Errc::no_responders, Errc::timeout,
    // Errc::connection_closed, or the publish error.
    void request(std::string_view subject, std::string_view payload, Duration timeout,
                 RequestCallback callback);
    void request(std::string_view subject, const Headers& headers, std::string_view payload,
                 Duration timeout, RequestCallback callback);

    // PING/PONG round trip: everything sent before has been processed by the server, and every
    // message it sent before the PONG has been delivered. Fails if the connection is lost.
    void flush(StatusCallback callback);
    void flush(Duration timeout, StatusCallback callback);

    // Unsubscribes everything, lets messages in flight arrive (a flush), sends what is buffered,
    // then closes. `callback` gets OK, or Errc::timeout after drain_timeout (closed anyway).
    void drain(StatusCallback callback);

    // Closes now: pending requests and flushes fail with connection_closed, on_closed runs.
    // Bytes already buffered are still written before the stream closes (if the Connection lives).
    void close();

    // A new unique inbox subject: <inbox_prefix>.<nuid>.
    std::string new_inbox();

    State state() const;
    bool connected() const { return state() == State::connected; }
    bool closed() const { return state() == State::closed; }
    const ServerInfo& server_info() const;
    // "host:port" of the server we are connected to (empty if none).
    std::string connected_address() const;
    // The server pool, "host:port" each, in visiting order.
    std::vector<std::string> servers() const;
    const Stats& stats() const;
    // The error that caused the last disconnect or close.
    std::error_code last_error() const;
    // Outbound bytes not yet handed to the stream.
    std::size_t buffered_bytes() const;
    std::size_t subscription_count() const;

private:
    std::shared_ptr<detail::Core> core_;
};

}  // namespace herald::client
