// Cluster: the simulator's world of N herald nodes and M NATS clients in one SimWorld, running a
// workload (publishers, subscribers with wildcards and queue groups, requesters, responders) and
// recording every client operation as a History entry with simulated invoke and completion
// times. chaos/ drives faults into it and turns its History into verdicts; herald-sim runs it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/log.h"
#include "engine/base/time.h"
#include "engine/config/options.h"
#include "sim/world.h"

namespace herald::client {
class Connection;
struct Message;
}  // namespace herald::client
namespace herald::server {
class Server;
}  // namespace herald::server

namespace herald::sim {

inline constexpr std::uint32_t no_client = std::numeric_limits<std::uint32_t>::max();
inline constexpr Instant instant_never{std::numeric_limits<std::uint64_t>::max()};

// ---------------------------------------------------------------------------------------------
// Spec: what to build. Plain data, filled by chaos::Scenario from a JSON file.

struct PublishSpec {
    std::string subject;
    std::uint64_t rate_per_second = 10;
    std::uint32_t size_bytes = 64;  // Payload size; at least the id prefix.
};

struct SubscribeSpec {
    std::string subject;  // May hold wildcards.
    std::string queue;    // Empty: a plain subscription.
};

struct RequestSpec {
    std::string subject;
    std::uint64_t rate_per_second = 2;
    Duration timeout = Duration::seconds(1);
};

// JetStream workload (single node; every server gets its own copy of each stream).
struct StreamSpec {
    std::string name;
    std::vector<std::string> subjects;
    bool file = true;  // storage "file" (else "memory").
    Duration duplicate_window = Duration::seconds(120);
};

// A JetStream publisher: one message in flight; each is a request to `subject` with
// Nats-Msg-Id = its payload id ("p3.17") and is retried with the same id after a timeout or an
// error, up to attempts_max tries, before the next message starts.
struct JsPublishSpec {
    std::string subject;
    std::uint64_t rate_per_second = 10;
    std::uint32_t size_bytes = 64;
    Duration timeout = Duration::seconds(1);
    std::uint32_t attempts_max = 20;
};

// A durable pull consumer (explicit ack): pulls one message at a time (MSG.NEXT batch 1 with
// `expires`) and double-acks it (+ACK as a request), recording the delivery and the ack.
struct JsConsumeSpec {
    std::string stream;
    std::string durable;
    Duration expires = Duration::seconds(1);
    Duration ack_wait = Duration::seconds(2);
    Duration timeout = Duration::seconds(1);  // Of each ack request.
};

struct ClientSpec {
    std::string name;                    // Unique; also the CONNECT name.
    std::vector<std::uint32_t> servers;  // Server node indexes, the client's pool.
    std::vector<PublishSpec> publish;
    std::vector<SubscribeSpec> subscribe;
    std::vector<RequestSpec> request;
    std::vector<SubscribeSpec> respond;  // Answers every request it hears.
    std::vector<JsPublishSpec> js_publish;
    std::vector<JsConsumeSpec> js_consume;
    Duration flush_interval = Duration::milliseconds(200);
    Duration ping_interval = Duration::seconds(2);
    std::uint32_t max_pings_out = 2;
    Duration connect_timeout = Duration::seconds(2);
    Duration reconnect_wait = Duration::milliseconds(200);
    Duration reconnect_wait_max = Duration::seconds(2);
};

struct NodeSpec {
    config::Options options;  // host and port are set by the Cluster.
    Duration sync_latency = Duration::milliseconds(1);  // Of its disk's fsyncs,
    Duration sync_latency_jitter{};                      // plus uniform [0, jitter].
};

struct ClusterSpec {
    std::vector<NodeSpec> nodes;
    std::vector<ClientSpec> clients;
    std::vector<StreamSpec> streams;  // Created by the JetStream clients (idempotent).
    SimWorldOptions world;
    base::LogLevel server_log_level = base::LogLevel::info;
};

// ---------------------------------------------------------------------------------------------
// History: what happened, for the checkers.

enum class Op : std::uint8_t {
    publish,   // invoke = complete; ok if publish() accepted it.
    flush,     // PING/PONG round trip; ok when the PONG came on the same connection.
    deliver,   // A message reached one subscription (invoke = complete = arrival).
    request,   // ok with the reply's id, fail on timeout/no responders/closed.
    respond,   // A responder published its answer.
    js_publish,  // One try of a JetStream publish: ok with js_seq (PubAck), fail (PubAck error)
                 // or unknown (timeout, connection lost).
    js_deliver,  // The pull consumer got stream message js_seq (invoke = complete = arrival).
    js_ack,      // Its double ack: ok when the server confirmed it, else fail / unknown.
};

enum class Outcome : std::uint8_t { ok, fail, unknown };

// Who wrote a payload and why: its first byte.
enum class PayloadKind : std::uint8_t { publish = 'p', request = 'q', reply = 'r' };

struct PayloadId {
    PayloadKind kind = PayloadKind::publish;
    std::uint32_t client = no_client;  // Publisher, requester (also for its reply).
    std::uint64_t seq = 0;             // Per client and kind, from 1.
    friend auto operator<=>(const PayloadId&, const PayloadId&) = default;
};

// "p3.17|" then filler bytes that depend on the id, up to `size` bytes.
std::string make_payload(PayloadId id, std::size_t size);
// The id, if `payload` is well formed and its filler is intact.
std::optional<PayloadId> parse_payload(std::string_view payload);

struct Entry {
    std::uint32_t client = no_client;
    Op op = Op::publish;
    Instant invoke{};
    Instant complete = instant_never;  // instant_never while unknown.
    Outcome outcome = Outcome::unknown;
    std::uint32_t epoch = 0;         // The client's connection epoch at invoke (see Epoch).
    std::uint32_t subscription = 0;  // deliver: index into ClientRecord::subscriptions;
                                     // js_deliver, js_ack: index into ClientSpec::js_consume.
    std::string subject;
    PayloadId id;                    // The payload sent, or received (deliver).
    std::optional<PayloadId> reply;  // request: the reply's id.
    bool payload_valid = true;       // deliver: the payload parsed and its filler was intact.
    std::string error;               // fail: why.
    std::uint64_t js_seq = 0;        // js_*: the stream sequence (PubAck, ack subject).
    bool js_duplicate = false;       // js_publish: the PubAck said duplicate.
    std::uint32_t attempt = 0;       // js_publish: 1 for the first try of this id.
    std::uint64_t deliveries = 0;    // js_deliver: the delivery count from the ack subject.
};

// One connection of one client, from the handshake's PONG to the loss. Epoch numbers grow by one
// per connection and survive a restart of the client's process (1 is the first connection).
struct Epoch {
    std::uint32_t client = no_client;
    std::uint32_t number = 0;
    std::uint32_t node = no_client;  // Server node index.
    Instant up{};
    Instant down = instant_never;
};

struct SubscriptionRecord {
    std::string subject;
    std::string queue;
    bool responder = false;
};

struct ClientRecord {
    std::string name;
    NodeIndex node = 0;  // The client's own SimNode.
    std::vector<SubscriptionRecord> subscriptions;
};

// A server and a client whose path a fault silenced: no bytes, no FIN, no RST. Whichever side
// still runs must notice through PING/PONG.
struct SilentPair {
    std::uint32_t server = 0;
    std::uint32_t client = 0;
    bool client_should_detect = false;  // The client runs and its server went silent.
    bool server_should_detect = false;  // The server runs and the client went silent.
};

// A fault as the nemesis applied it, for checkers that reason about faults (stale detection).
struct FaultRecord {
    std::string kind;  // chaos::FaultType name.
    std::vector<NodeIndex> nodes;
    Instant start{};
    Instant end = instant_never;  // When undone (instant faults: start).
    std::vector<SilentPair> silent;
    bool pauses_or_crashes = false;  // The targets' processes did not run for a while.
    std::uint64_t bits_flipped = 0;  // Disk bit flips applied to stream block files.
};

// A stream as its server holds it at the end of the run (after the final restart), read
// straight from the store, with what its last recovery reported.
struct StoredRecord {
    std::uint64_t seq = 0;
    std::string subject;
    std::optional<PayloadId> id;  // nullopt: the payload did not parse (damaged or foreign).
    std::string msg_id;           // Nats-Msg-Id header, empty if none.
};

struct StreamRecord {
    std::uint32_t server = 0;
    std::string name;
    bool found = false;  // The server has the stream.
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::vector<StoredRecord> messages;  // By seq.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> lost;  // Recovery report: lost ranges.
    std::uint64_t damage = 0;            // Recovery report: damage entries.
    std::uint64_t load_errors = 0;       // Loads that failed other than "deleted".
};

// A check the nemesis made during the run on server state (stale connections closed in time).
struct Probe {
    Instant at{};
    std::uint32_t server = 0;
    NodeIndex peer_node = 0;
    std::uint64_t open_connections = 0;  // Server connections from peer_node still open.
    std::string why;
};

struct History {
    std::vector<Entry> entries;
    std::vector<Epoch> epochs;  // In order of their start.
    std::vector<ClientRecord> clients;
    std::vector<FaultRecord> faults;
    std::vector<Probe> probes;
    std::vector<StreamRecord> streams;  // collect_streams().
    Instant heal_at = instant_never;  // Faults stopped; liveness is measured from here.
    Instant workload_end = instant_never;
    Instant end{};
};

// ---------------------------------------------------------------------------------------------

// Owns the SimWorld, one Server per node (node indexes 0..N-1) and one Connection per client,
// each on its own SimNode (index N + client index) so that faults can target a single client.
// Single-threaded; everything runs from world().step(). Lifecycle: construct, start(), run the
// world, stop_workload(), run on, then read history(). The destructor tears down clients and
// servers before the world.
class Cluster {
public:
    Cluster(std::uint64_t seed, ClusterSpec spec);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    SimWorld& world() { return *world_; }
    const ClusterSpec& spec() const { return spec_; }
    std::size_t server_count() const { return spec_.nodes.size(); }
    std::size_t client_count() const { return spec_.clients.size(); }
    NodeIndex client_node(std::uint32_t client) const;

    // Starts every server, connects every client and arms the workload timers.
    void start();
    // No new publishes or requests from now on (flushes go on, so messages settle).
    void stop_workload();

    // Process faults on a server node: crash (world.crash_node, the Server is destroyed) and a
    // restart that builds a new Server from the node's disk. Idempotent.
    void crash_server(std::uint32_t server, CrashOptions options);
    void restart_server(std::uint32_t server);
    bool server_up(std::uint32_t server) const;
    // Process faults on a client: the Connection dies with the process; a restart makes a new
    // Connection with the same name and subscriptions (epochs and sequences continue).
    void crash_client(std::uint32_t client, CrashOptions options);
    void restart_client(std::uint32_t client);
    bool client_up(std::uint32_t client) const;
    // The server closes every connection of `client` (it then reconnects). Returns how many.
    std::size_t kick_client(std::uint32_t client);
    // Open server-side connections (client ids) on `server` whose peer is on `peer_node`.
    std::vector<std::uint64_t> server_connections_from(std::uint32_t server, NodeIndex peer_node);
    // Grows at every restart of the server (client ids start again).
    std::uint64_t server_generation(std::uint32_t server) const { return server_generations_.at(server); }
    // Whether each client is connected now.
    bool client_connected(std::uint32_t client) const;

    // JetStream (cluster_jetstream.cc). Reads every spec stream of every running server into
    // history().streams; done once streams_collected().
    void collect_streams();
    bool streams_collected() const { return collect_pending_ == 0; }

    History& history() { return history_; }
    const History& history() const { return history_; }

    // The run's event log: cluster events (connects, losses, faults) and the servers' log lines,
    // each "<sim time> <text>". Hashed as it grows; kept whole only if keep_log(true).
    void note(std::string_view text);
    void keep_log(bool keep) { keep_log_ = keep; }
    const std::vector<std::string>& log() const { return log_; }
    const std::vector<Instant>& log_times() const { return log_times_; }  // One per log() line.
    // The last lines logged (at most log_tail_max), oldest first.
    std::vector<std::string> log_tail() const;
    std::uint64_t log_hash() const { return log_hash_; }
    std::uint64_t log_lines() const { return log_lines_; }

    static constexpr std::size_t log_tail_max = 64;
    static constexpr int server_port = 4222;

private:
    struct ClientState;
    struct JsPublisher {
        std::uint64_t message = 0;  // Payload seq of the message being published; 0 = none.
        std::uint32_t attempts = 0;
        bool in_flight = false;  // A try is waiting for its PubAck.
        std::uint64_t incarnation = 0;  // Of the client when the try was sent.
    };
    struct JsPuller {
        std::uint64_t incarnation = 0;  // Of the client that made `inbox`.
        std::string inbox;              // Its subscription for pulled messages.
        std::uint64_t pull_id = 0;
        bool outstanding = false;  // A pull waits for its message or status.
        std::uint32_t acks_in_flight = 0;
    };

    void start_server(std::uint32_t server);
    void start_client(std::uint32_t client);
    void arm_timers(std::uint32_t client);
    // Runs `action` after `after`, then every `interval`, on the client's loop, while the
    // client's incarnation lasts and `action` returns true.
    void repeat(std::uint32_t client, std::uint64_t incarnation, Duration after, Duration interval,
                std::function<bool()> action);
    void do_publish(std::uint32_t client, std::size_t index);
    void do_request(std::uint32_t client, std::size_t index);
    void do_flush(std::uint32_t client);
    void on_message(std::uint32_t client, std::uint32_t subscription, std::string_view subject,
                    std::string_view reply, std::string_view payload);
    // The epoch of the current connection (observing it if new), 0 if not connected.
    std::uint32_t current_epoch(std::uint32_t client);
    // The epoch a publish made now goes out on: current, or the next one while reconnecting.
    std::uint32_t sending_epoch(std::uint32_t client);
    void connection_lost(std::uint32_t client, std::string_view why);
    std::uint32_t server_of_address(const std::string& address) const;
    std::size_t add_entry(Entry entry);
    void log_line(std::string_view line);
    // JetStream workload (cluster_jetstream.cc).
    void arm_js_timers(std::uint32_t client);
    bool js_ready(std::uint32_t client);  // Streams (and durables) ensured on this connection.
    void js_ensure(std::uint32_t client);
    void js_publish_tick(std::uint32_t client, std::size_t index);
    void js_pull(std::uint32_t client, std::size_t index, std::uint64_t incarnation);
    void js_on_pulled(std::uint32_t client, std::size_t index, std::uint64_t incarnation,
                      const client::Message& message);
    void js_retry_pull(std::uint32_t client, std::size_t index, std::uint64_t incarnation);
    // Pulls and acks of consumer `index`; arm_js_timers starts the loop.

    ClusterSpec spec_;
    std::unique_ptr<SimWorld> world_;
    std::shared_ptr<base::LogBackend> log_backend_;
    std::vector<std::unique_ptr<server::Server>> servers_;
    std::vector<std::uint64_t> server_generations_;
    std::vector<std::unique_ptr<ClientState>> clients_;
    History history_;
    bool workload_running_ = false;
    bool keep_log_ = false;
    std::vector<std::string> log_;
    std::vector<Instant> log_times_;
    std::vector<std::string> tail_;  // Ring of log_tail_max lines.
    std::size_t tail_next_ = 0;
    std::uint64_t log_hash_;
    std::uint64_t log_lines_ = 0;
    std::size_t collect_pending_ = 0;
};

}  // namespace herald::sim
