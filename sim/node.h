// SimNode: one simulated machine. It gives an io::Env whose clock is the world's time seen
// through this node's offsets, whose loop posts into the world's event queue, whose random is
// seeded from the world seed and the node index, and whose network and disk are simulated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/io/io.h"
#include "sim/file_system.h"
#include "sim/network.h"
#include "sim/world.h"

namespace herald::sim {

struct SimNodeOptions {
    std::string host;  // Empty: "10.0.0.<index + 1>".
    SimDiskOptions disk;
    SimClockOptions clock;
};

// The node's view of time (TigerBeetle's TimeSim). The node's elapsed time runs at
// (1 + drift_ppm / 1e6) times the world's speed from its last drift change;
//   monotonic()   = elapsed + monotonic_offset_ns          (never goes back)
//   realtime_ns() = epoch + elapsed + realtime_offset_ns   (skew; jumps move it either way)
// Timers of the node measure their delay on this clock, so a fast clock fires them early in
// world time. Fault methods count in the world's FaultStats.
class SimClock final : public io::Clock {
public:
    SimClock(SimWorld& world, NodeIndex node, SimClockOptions options);
    Instant monotonic() const override;
    std::int64_t realtime_ns() const override;

    // Wall clock offset from the world's true time (NTP skew). Counted as clock_skew.
    void set_skew_ns(std::int64_t skew_ns);
    // Clock rate from now on: ppm > 0 runs fast, < 0 slow; > -1e6. Counted as clock_drift.
    void set_drift_ppm(std::int64_t drift_ppm);
    // A step of the wall clock (settimeofday, an NTP step), forward or back. Monotonic time is
    // not affected. Counted as clock_jump.
    void jump_realtime_ns(std::int64_t delta_ns);
    std::int64_t drift_ppm() const { return drift_ppm_; }

    // World time a timer of `local` node time needs (never early on the node's clock).
    Duration world_duration(Duration local) const;

    std::uint64_t monotonic_offset_ns = 0;
    std::int64_t realtime_offset_ns = 0;  // The skew, plus every jump so far.

private:
    std::uint64_t elapsed_ns() const;  // Node time since world time zero.

    SimWorld& world_;
    NodeIndex node_;
    std::int64_t drift_ppm_ = 0;
    std::uint64_t anchor_world_ns_ = 0;  // World time of the last drift change.
    std::uint64_t anchor_local_ns_ = 0;  // elapsed_ns() at that time.
};

// post() and timers of one node, as events in the world queue attributed to the node.
class SimLoop final : public io::Loop {
public:
    SimLoop(SimWorld& world, NodeIndex node, const SimClock& clock)
        : world_(world), node_(node), clock_(clock) {}
    void post(std::function<void()> task) override;
    io::TimerId schedule(Duration after, std::function<void()> task) override;
    void cancel(io::TimerId timer) override;

private:
    SimWorld& world_;
    NodeIndex node_;
    const SimClock& clock_;
};

// Created by SimWorld::add_node and owned by the world. Its disk outlives whatever engine object
// uses env(), so a test can crash the disk and build a fresh server on the same node.
class SimNode {
public:
    SimNode(SimWorld& world, NodeIndex index, const SimNodeOptions& options);
    SimNode(const SimNode&) = delete;
    SimNode& operator=(const SimNode&) = delete;

    io::Env& env() { return env_; }
    NodeIndex index() const { return index_; }
    const std::string& host() const { return host_; }
    SimClock& clock() { return clock_; }
    SimNetwork& network() { return network_; }
    SimFileSystem& file_system() { return file_system_; }
    NodeState state() const { return world_.node_state(index_); }

private:
    SimWorld& world_;
    NodeIndex index_;
    std::string host_;
    SimClock clock_;
    SimLoop loop_;
    io::SplitMix64 random_;
    SimNetwork network_;
    SimFileSystem file_system_;
    io::Env env_;
};

}  // namespace herald::sim
