// SimWorld: the discrete-event heart of the simulator. One queue of events ordered by (due time,
// sequence number) for the whole cluster; it is also the cluster's true clock, and it keeps a
// running trace hash of every event so that two runs of one seed can be compared bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/io/io.h"
#include "sim/faults.h"

namespace herald::sim {

using herald::Duration;
using herald::Instant;

class SimNode;
class SimNetworkModel;
struct SimNodeOptions;

using NodeIndex = std::uint32_t;
inline constexpr NodeIndex world_node = 0xffffffffU;  // Events that belong to no node.

using EventId = std::uint64_t;

// What an event is, for the trace hash and for later per-kind fault injection.
enum class EventKind : std::uint8_t {
    post = 1,
    timer = 2,
    net_connect = 3,
    net_deliver = 4,
    net_close = 5,
    file_io = 6,
    file_sync = 7,
    custom = 8,
};

struct SimWorldOptions {
    // realtime_ns() at simulated time zero (2024-01-01T00:00:00Z).
    std::int64_t epoch_realtime_ns = 1'704'067'200'000'000'000;
    SimNetworkOptions network;
};

// Owns the event queue, the world Random (seeded by `seed`), the network model and the nodes.
// Single-threaded: everything, every node included, runs inside step(). Time only moves in
// step(): it jumps to the due time of the next event, so idle stretches cost nothing.
// Destroy nodes' users (servers, clients) before the world.
//
// Process faults (faults.h): crash_node, restart_node, pause_node, resume_node. A paused node's
// events are set aside, not run, and come back on resume in their original order, at
// max(due, resume time); events it schedules meanwhile are set aside too. A crashed node's events
// are dropped and so is anything scheduled for it until restart_node. Events of world_node
// (the nemesis, the network fabric) are never paused or dropped.
class SimWorld final : public io::Clock {
public:
    explicit SimWorld(std::uint64_t seed, SimWorldOptions options = {});
    ~SimWorld() override;
    SimWorld(const SimWorld&) = delete;
    SimWorld& operator=(const SimWorld&) = delete;

    std::uint64_t seed() const { return seed_; }
    Instant now() const { return now_; }
    Instant monotonic() const override { return now_; }
    std::int64_t realtime_ns() const override;
    io::Random& random() { return random_; }
    // True with `probability` (in [0, 1]), drawn from random(); no draw if it is 0 or 1.
    bool chance(double probability);
    const SimWorldOptions& options() const { return options_; }

    // Nodes get indexes 0, 1, 2... in the order they are added.
    SimNode& add_node();
    SimNode& add_node(const SimNodeOptions& options);
    SimNode& node(NodeIndex index);
    std::size_t node_count() const { return nodes_.size(); }
    SimNetworkModel& network() { return *network_; }

    // Queues `task` to run at `due` (not earlier than now). Events with equal due time run in
    // the order they were scheduled.
    EventId schedule_at(Instant due, NodeIndex node, EventKind kind, std::function<void()> task);
    EventId schedule_after(Duration after, NodeIndex node, EventKind kind,
                           std::function<void()> task);
    // Removes a pending event. False if it already ran or never existed.
    bool cancel(EventId id);
    // Removes every pending event of `node` (a crashed process loses its timers and posts).
    std::size_t cancel_node_events(NodeIndex node);

    // kill -9 at this point: the node's connections end as `options.peers` says, its pending
    // events are dropped, its disk crashes per `options.disk`. The caller then destroys the
    // engine objects built on node(index).env() (their destructors may still call the Env; that
    // is harmless) and, after restart_node, builds new ones from what the disk kept. Call it
    // from a world_node event or between steps, not from inside one of the node's own events.
    void crash_node(NodeIndex index, CrashOptions options = {});
    // The crashed node may run again: its Env accepts work. Its disk is as the crash left it.
    void restart_node(NodeIndex index);
    // SIGSTOP / SIGCONT. While paused the node runs nothing: deliveries, timers and completions
    // for it wait; its peers see silence; its clock keeps going.
    void pause_node(NodeIndex index);
    void resume_node(NodeIndex index);
    NodeState node_state(NodeIndex index) const;

    // Counts a fault and mixes (kind, node, detail) into the trace hash. The fault models call
    // it; a nemesis may call it for faults it composes itself.
    void record_fault(FaultKind kind, NodeIndex node, std::uint64_t detail = 0);
    const FaultStats& fault_stats() const { return fault_stats_; }

    // Runs the next event, advancing time to its due time. False if nothing is pending.
    bool step();
    // Steps until `done()` holds or `steps_max` events ran. Returns whether `done()` holds.
    bool run_until(const std::function<bool()>& done, std::uint64_t steps_max);
    // Runs every event due within `duration` from now, then sets the time to now + duration.
    // Returns the number of events run. ASSERTs that fewer than `steps_max` were needed.
    std::uint64_t run_for(Duration duration, std::uint64_t steps_max = run_for_steps_default);

    // Nothing runnable (set-aside events of paused nodes do not count).
    bool idle() const { return queue_.empty(); }
    std::size_t pending_events() const { return queue_.size(); }
    std::size_t paused_events() const;
    std::uint64_t steps() const { return steps_; }

    // Mixes the bytes of an event (a delivered segment, a written block) into the trace hash.
    void trace_bytes(NodeIndex node, EventKind kind, std::span<const std::byte> bytes);
    std::uint64_t trace_hash() const { return trace_hash_; }

    static constexpr std::uint64_t run_for_steps_default = 100'000'000;

private:
    struct Event {
        EventId id;
        NodeIndex node;
        EventKind kind;
        std::function<void()> task;
    };
    // (due ns, sequence). The sequence is fresh at each insertion, so events set aside by a pause
    // can be put back in their old order behind events already due.
    using Key = std::pair<std::uint64_t, std::uint64_t>;
    struct Location {
        Key key;
        bool paused;  // In paused_[node] rather than queue_.
        NodeIndex node;
    };

    void trace_u64(std::uint64_t value);
    void insert(Key key, Event event);

    std::uint64_t seed_;
    SimWorldOptions options_;
    Instant now_{};
    io::SplitMix64 random_;
    EventId next_event_id_ = 1;
    std::uint64_t next_sequence_ = 1;
    std::uint64_t steps_ = 0;
    std::uint64_t trace_hash_;
    std::map<Key, Event> queue_;
    std::map<NodeIndex, std::map<Key, Event>> paused_;        // Set-aside events per paused node.
    std::unordered_map<EventId, Location> location_by_id_;    // Lookup only; never iterated.
    std::vector<NodeState> states_;                           // Per node.
    FaultStats fault_stats_;
    std::unique_ptr<SimNetworkModel> network_;
    std::vector<std::unique_ptr<SimNode>> nodes_;
};

}  // namespace herald::sim
