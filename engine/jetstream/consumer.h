// Consumer: one JetStream consumer of one stream on this node (DESIGN.md "JetStream": a Consumer
// owns its delivery state: pending acks, redelivery timers, waiting pull requests). It reads the
// stream's store from its position, delivers to a push deliver_subject or to waiting pull
// requests with the $JS.ACK reply subject, and handles the acks on it, as nats-server 2.9.10
// consumer.go. Consumers (consumer_api.cc) answers $JS.API.CONSUMER.* and owns every Consumer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/log.h"
#include "engine/core/broker.h"
#include "engine/io/io.h"
#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/consumer_config.h"
#include "engine/jetstream/stream.h"
#include "engine/store/consumer_store.h"

namespace herald::jetstream {

class JetStream;

inline constexpr std::size_t redeliver_queue_max = 1 << 20;  // Bound on queued redeliveries.
// A -NAK delay is clamped to [0, this]: a client's value must not overflow the deadline arithmetic
// (nats-server takes any time.Duration; a year is far past any sane ack_wait).
inline constexpr std::int64_t nak_delay_max_ns = 366LL * 24 * 3600 * 1'000'000'000;
// Deliveries one kick() makes from messages the store has in memory before it yields the loop.
inline constexpr std::size_t kick_rounds_max = 1024;
inline constexpr std::int64_t max_waiting_max = 1 << 16;     // Bound on a pull wait queue.
inline constexpr std::size_t consumers_per_stream_max = 1 << 16;
inline constexpr std::uint64_t flow_control_bytes = 256 * 1024;  // Push: FC request after this.
inline constexpr Duration interest_poll = Duration::milliseconds(100);  // Inactive push consumers.
inline constexpr std::int64_t replay_delay_min_ns =
    1'000'000;  // Replay original: shorter gaps are not waited.

// What a consumer tells its owner.
struct ConsumerEvents {
    // A message was acknowledged (or terminated) by this consumer: retention may remove it.
    std::function<void(store::Seq seq, std::string_view subject)> acked;
    // An ephemeral went inactive past inactive_threshold: delete it.
    std::function<void()> inactive;
};

// Lifecycle: built by Consumers, start() subscribes the ack subject and begins delivery; stop()
// unsubscribes, cancels timers and answers waiting pulls with 409 Consumer Deleted; destroy.
// Runs on the node's loop. Invariants: every pending seq is below next_seq(); the ack floor is
// below every pending seq; at most one store load is in flight.
class Consumer {
public:
    Consumer(io::Env& env,
             core::Broker& broker,
             Stream& stream,
             std::string name,
             ConsumerConfig config,
             std::int64_t created_ns,
             std::unique_ptr<store::ConsumerStore> state_store,
             ConsumerEvents events,
             base::Logger log);
    ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    // `recovered`: the state store was read back from disk, so the consumer resumes from it even
    // when it is all zero (nats-server: a state file exists, readStoredState instead of
    // selectStartingSeqNo).
    Status start(bool recovered = false);
    void stop(bool deleted);
    // After stop(): `on_flushed` runs once the newest saved state is written, so a clean
    // shutdown keeps the last acks and deliveries (keep the consumer alive until then).
    void flush(std::function<void()> on_flushed);
    void update(ConsumerConfig config);

    const std::string& name() const { return name_; }
    const ConsumerConfig& config() const { return config_; }
    std::int64_t created_ns() const { return created_ns_; }
    const store::SequencePair& ack_floor() const { return ack_floor_; }
    Json info_json() const;
    // Whether this consumer's filter takes `subject`.
    bool wants(std::string_view subject) const;
    // Whether `seq` is acknowledged (or will never be delivered again) by this consumer.
    bool acknowledged(store::Seq seq) const;

    // The stream stored a message (it is visible in the store).
    void on_stored(store::Seq seq);
    // $JS.API.CONSUMER.MSG.NEXT (and +NXT): `reply` gets the messages.
    void on_pull_request(std::string_view reply, std::string_view body);
    void check_invariants() const;

private:
    struct Pending {
        store::Seq consumer_seq = 0;
        std::int64_t delivered_ns = 0;
        std::string subject;
        // Its entry in ack_deadlines_ (unique per start_ack_timer), 0 when it has no deadline.
        std::uint64_t timer = 0;
        std::uint64_t deadline_ns = 0;  // Monotonic; meaningful while timer != 0.
    };
    // When a pending message's ack wait ends. Entries whose Pending moved on (acked, restarted
    // wait) stay in the heap until they reach the top or a compaction; Pending::timer tells.
    struct AckDeadline {
        std::uint64_t at_ns = 0;
        std::uint64_t id = 0;  // Pending::timer; ties go in the order the waits started.
        store::Seq seq = 0;
        friend auto operator<=>(const AckDeadline&, const AckDeadline&) = default;
    };
    struct PullRequest {
        std::string reply;
        std::int64_t batch = 1;
        std::int64_t max_bytes = 0;  // Remaining; 0 = no limit.
        std::int64_t delivered = 0;
        bool no_wait = false;
        std::int64_t expires_ns = 0;
        std::int64_t heartbeat_ns = 0;
        io::TimerId expiry_timer = 0;
        io::TimerId heartbeat_timer = 0;
        std::uint64_t id = 0;
    };

    void on_ack(const protocol::MessageArgs& message, std::string_view payload);
    void ack(store::Seq seq, store::Seq consumer_seq);
    void nak(store::Seq seq, store::Seq consumer_seq, std::string_view argument);
    void progress(store::Seq seq);
    void term(store::Seq seq, store::Seq consumer_seq);
    void acked_one(store::Seq seq, const std::string& subject);
    void update_ack_floor();
    void start_ack_timer(store::Seq seq, Pending& pending, std::int64_t after_ns);
    // One loop timer for all pending acks, at the earliest deadline: no timer (and no task
    // allocation) per delivered message.
    void arm_ack_timer();
    void on_ack_timer();
    bool ack_deadline_live(const AckDeadline& deadline) const;
    // Pops dead entries off the top; cancels the timer once none is left.
    void drop_dead_ack_deadlines();
    void stop_ack_timer();

    // Delivers what it can: one store load at a time; a load the store answers at once
    // (load_next_now) is delivered in the same call, up to kick_rounds_max, then a posted kick.
    void kick();
    void kick_once();
    bool has_target();
    // False when no pull request takes it (then nothing is counted as delivered).
    bool deliver(store::StoredMessage message, bool redelivery);
    // The reply subject of the first waiting request that takes `size` bytes (ending those that
    // cannot with 409); nullopt when none.
    std::optional<std::string> take_request(std::uint64_t size);
    void finish_request(std::uint64_t id, std::string_view status);
    PullRequest* find_request(std::uint64_t id);
    void on_request_expired(std::uint64_t id);
    void on_request_heartbeat(std::uint64_t id);
    void end_no_wait_requests();
    bool reply_has_interest(std::string_view subject) const;
    void send_status(std::string_view subject, std::string_view reply, std::string_view headers);
    std::uint64_t num_pending() const;
    std::uint64_t count_from(store::Seq from) const;
    void select_start();
    // save_state() saves now; save_state_soon() at the end of this loop turn, one snapshot for
    // every delivery and ack made in the turn (a pull batch, a read full of acks).
    store::ConsumerState make_state() const;
    // Saves the current state (made when the store writes it); on_saved once durable.
    void write_state(std::function<void(Status)> on_saved);
    void save_state();
    void save_state_soon();
    void arm_push_heartbeat();
    void arm_inactivity();
    void on_flow_control_reply();

    io::Env& env_;
    core::Broker& broker_;
    Stream& stream_;
    std::string name_;
    ConsumerConfig config_;
    std::int64_t created_ns_ = 0;
    std::unique_ptr<store::ConsumerStore> state_store_;
    ConsumerEvents events_;
    base::Logger log_;
    std::string ack_prefix_;  // $JS.ACK.<stream>.<consumer>.

    store::Seq next_seq_ = 1;           // nats-server sseq: the next stream seq to look at.
    store::Seq next_consumer_seq_ = 1;  // dseq.
    store::SequencePair ack_floor_;
    std::map<store::Seq, Pending> pending_;
    std::vector<AckDeadline> ack_deadlines_;  // Min-heap on (at_ns, id).
    std::uint64_t ack_deadline_ids_ = 0;
    io::TimerId ack_timer_ = 0;
    std::uint64_t ack_timer_at_ns_ = 0;  // Monotonic time ack_timer_ fires; valid while armed.
    std::map<store::Seq, std::uint64_t>
        redelivered_;  // By stream seq: deliveries beyond the first.
    std::deque<store::Seq> redeliver_;
    std::deque<store::Seq> last_per_subject_;  // Skip list for last_per_subject.
    // num_pending's cache (nats-server npc): `count` filter matches in [from, last] of `store`
    // after `removals` removals; moved along with the position and new messages, recounted
    // when a removal may have touched what it counted.
    struct PendingCount {
        const store::StreamStore* store = nullptr;
        store::Seq from = 0;
        store::Seq last = 0;
        std::uint64_t removals = 0;
        std::uint64_t count = 0;
    };
    mutable PendingCount pending_count_;
    store::Seq last_per_subject_resume_ = 0;
    std::deque<PullRequest> waiting_;
    std::uint64_t request_ids_ = 0;
    bool loading_ = false;
    bool kicking_ = false;     // kick() is running: a nested kick() asks it for another round.
    bool kick_again_ = false;
    bool save_posted_ = false;  // save_state_soon() posted a save_state() not yet run.
    bool stopped_ = true;
    std::int64_t last_delivery_ns_ = 0;  // Wall time of the last delivery (delivered.last_active).
    std::int64_t last_ack_ns_ = 0;       // Of the last ack (ack_floor.last_active).
    std::vector<std::uint64_t> subscriptions_;
    io::TimerId heartbeat_timer_ = 0;
    io::TimerId inactivity_timer_ = 0;
    io::TimerId interest_timer_ = 0;
    io::TimerId replay_timer_ = 0;
    io::TimerId rate_timer_ = 0;
    std::uint64_t rate_next_ns_ =
        0;  // Monotonic time the next push delivery may go (rate_limit_bps).
    std::int64_t last_replay_ns_ = 0;  // Stored time of the last new message delivered.
    std::uint64_t bytes_since_flow_control_ = 0;
    std::string flow_control_reply_;  // Outstanding FC request ("" = none).
    std::uint64_t flow_control_ids_ = 0;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

// The $JS.API.CONSUMER.* handlers and the owner of every Consumer of one JetStream engine.
class Consumers {
public:
    Consumers(io::Env& env, core::Broker& broker, JetStream& jetstream, base::Logger log);
    ~Consumers();
    Consumers(const Consumers&) = delete;
    Consumers& operator=(const Consumers&) = delete;

    void on_api(std::string_view account,
                const protocol::MessageArgs& message,
                std::string_view body);
    // Stops every consumer; `on_done` once their state stores have written what they saved.
    void shutdown(std::function<void()> on_done = {});
    // Durable consumers of file streams keep their config and state under
    // <store_dir>/<account>/streams/<stream>/obs/<name>/ (meta.inf, o.dat), as nats-server.
    void set_store_dir(std::string store_dir) { store_dir_ = std::move(store_dir); }
    // Brings back the durable consumers of a recovered file stream, then `on_done`.
    void recover(Stream& stream, std::function<void()> on_done);
    Consumer* find(std::string_view account, std::string_view stream, std::string_view name);

private:
    struct StreamConsumers {
        std::string account;
        std::string stream_name;
        Stream* stream = nullptr;
        std::map<std::string, std::unique_ptr<Consumer>, std::less<>> consumers;
    };
    using Key = std::pair<std::string, std::string>;

    void create(std::string_view account,
                std::string_view stream,
                std::string_view name,
                std::string_view filter,
                bool durable_subject,
                bool named_subject,
                const std::string& reply,
                std::string_view body);
    void info(std::string_view account,
              std::string_view stream,
              std::string_view name,
              const std::string& reply);
    void remove(std::string_view account,
                std::string_view stream,
                std::string_view name,
                const std::string& reply);
    void names(std::string_view account,
               std::string_view stream,
               const std::string& reply,
               std::string_view body,
               bool list);
    void next(std::string_view account,
              std::string_view stream,
              std::string_view name,
              const std::string& reply,
              std::string_view body);
    void respond_error(std::string_view account,
                       const std::string& reply,
                       std::string_view type,
                       const ApiFailure& failure);
    StreamConsumers* attach(std::string_view account, Stream& stream);
    void detach(const Key& key);
    void delete_consumer(const Key& key, const std::string& name);
    void on_acked(const Key& key, store::Seq seq, const std::string& subject);
    // Interest retention after a consumer was deleted: removes the messages from `seq` on that no
    // remaining consumer still needs (nats-server consumer.stopWithFlags).
    void remove_unwanted(const Key& key, store::Seq seq);
    bool wanted(const StreamConsumers& entry, store::Seq seq, std::string_view subject) const;
    std::string generate_name();
    std::string consumer_directory(const Stream& stream, std::string_view name) const;
    bool persisted(const Stream& stream, const ConsumerConfig& config) const;
    void write_meta(const Stream& stream,
                    const std::string& name,
                    const ConsumerConfig& config,
                    std::int64_t created_ns,
                    std::function<void(Status)> on_written);
    void remove_files(const Stream& stream, const std::string& name);
    // Builds, starts and registers a consumer; the failure when it could not start.
    std::optional<ApiFailure> install(Stream& stream,
                                      std::string name,
                                      ConsumerConfig config,
                                      std::int64_t created_ns,
                                      std::unique_ptr<store::ConsumerStore> state_store,
                                      Consumer** installed,
                                      bool recovered = false);
    void recover_next(Stream& stream,
                      std::shared_ptr<std::vector<std::string>> names,
                      std::size_t index,
                      std::function<void()> on_done);

    io::Env& env_;
    core::Broker& broker_;
    JetStream& jetstream_;
    base::Logger log_;
    std::map<Key, std::unique_ptr<StreamConsumers>> streams_;
    std::string store_dir_;
    // Stopped by shutdown(), kept until their last state is written.
    std::vector<std::unique_ptr<Consumer>> flushing_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::jetstream
