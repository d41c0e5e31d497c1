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
};

// The node's view of time: the world's time plus offsets. Monotonic time only moves forward;
// wall time may be skewed (and, later, jump).
class SimClock final : public io::Clock {
public:
    explicit SimClock(SimWorld& world) : world_(world) {}
    Instant monotonic() const override { return world_.now() + Duration{monotonic_offset_ns}; }
    std::int64_t realtime_ns() const override { return world_.realtime_ns() + realtime_offset_ns; }

    std::uint64_t monotonic_offset_ns = 0;
    std::int64_t realtime_offset_ns = 0;

private:
    SimWorld& world_;
};

// post() and timers of one node, as events in the world queue attributed to the node.
class SimLoop final : public io::Loop {
public:
    SimLoop(SimWorld& world, NodeIndex node) : world_(world), node_(node) {}
    void post(std::function<void()> task) override;
    io::TimerId schedule(Duration after, std::function<void()> task) override;
    void cancel(io::TimerId timer) override;

private:
    SimWorld& world_;
    NodeIndex node_;
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
