#include "sim/world.h"

#include <algorithm>

#include "engine/base/assert.h"
#include "sim/network.h"
#include "sim/node.h"

namespace herald::sim {
namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

}  // namespace

SimWorld::SimWorld(std::uint64_t seed, SimWorldOptions options)
    : seed_(seed),
      options_(options),
      random_(seed),
      trace_hash_(fnv_offset),
      network_(std::make_unique<SimNetworkModel>(*this, options.network)) {
    trace_u64(seed);
}

SimWorld::~SimWorld() {
    // Pending tasks may hold streams and files of the nodes: drop them before the nodes go.
    queue_.clear();
    paused_.clear();
    location_by_id_.clear();
    nodes_.clear();
}

std::int64_t SimWorld::realtime_ns() const {
    return options_.epoch_realtime_ns + static_cast<std::int64_t>(now_.ns);
}

bool SimWorld::chance(double probability) {
    ASSERT(probability >= 0.0);
    ASSERT(probability <= 1.0);
    if (probability <= 0.0) return false;
    if (probability >= 1.0) return true;
    constexpr std::uint64_t resolution = std::uint64_t{1} << 53U;
    return static_cast<double>(random_.uniform(resolution)) <
           probability * static_cast<double>(resolution);
}

SimNode& SimWorld::add_node() { return add_node(SimNodeOptions{}); }

SimNode& SimWorld::add_node(const SimNodeOptions& options) {
    const auto index = static_cast<NodeIndex>(nodes_.size());
    states_.push_back(NodeState::up);
    nodes_.push_back(std::make_unique<SimNode>(*this, index, options));
    return *nodes_.back();
}

SimNode& SimWorld::node(NodeIndex index) {
    ASSERT(index < nodes_.size());
    return *nodes_[index];
}

EventId SimWorld::schedule_at(Instant due, NodeIndex node, EventKind kind,
                              std::function<void()> task) {
    ASSERT(task);
    ASSERT(due >= now_);
    const EventId id = next_event_id_++;
    if (node != world_node) {
        ASSERT(node < states_.size());
        // A dead process schedules nothing; its destructors may still try.
        if (states_[node] == NodeState::crashed) return id;
    }
    insert(Key{due.ns, next_sequence_++}, Event{id, node, kind, std::move(task)});
    return id;
}

void SimWorld::insert(Key key, Event event) {
    const bool paused = event.node != world_node && states_[event.node] == NodeState::paused;
    const EventId id = event.id;
    const NodeIndex node = event.node;
    if (paused) {
        paused_[node].emplace(key, std::move(event));
    } else {
        queue_.emplace(key, std::move(event));
    }
    const bool inserted = location_by_id_.emplace(id, Location{key, paused, node}).second;
    ASSERT(inserted);
}

EventId SimWorld::schedule_after(Duration after, NodeIndex node, EventKind kind,
                                 std::function<void()> task) {
    return schedule_at(now_ + after, node, kind, std::move(task));
}

bool SimWorld::cancel(EventId id) {
    auto found = location_by_id_.find(id);
    if (found == location_by_id_.end()) return false;
    const Location location = found->second;
    location_by_id_.erase(found);
    if (location.paused) {
        const auto erased = paused_[location.node].erase(location.key);
        ASSERT(erased == 1);
    } else {
        const auto erased = queue_.erase(location.key);
        ASSERT(erased == 1);
    }
    return true;
}

std::size_t SimWorld::cancel_node_events(NodeIndex node) {
    std::size_t count = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->second.node == node) {
            location_by_id_.erase(it->second.id);
            it = queue_.erase(it);
            ++count;
        } else {
            ++it;
        }
    }
    auto paused = paused_.find(node);
    if (paused != paused_.end()) {
        for (const auto& [key, event] : paused->second) location_by_id_.erase(event.id);
        count += paused->second.size();
        paused_.erase(paused);
    }
    return count;
}

std::size_t SimWorld::paused_events() const {
    std::size_t count = 0;
    for (const auto& [node, events] : paused_) count += events.size();
    return count;
}

NodeState SimWorld::node_state(NodeIndex index) const {
    ASSERT(index < states_.size());
    return states_[index];
}

void SimWorld::crash_node(NodeIndex index, CrashOptions options) {
    ASSERT(index < states_.size());
    ASSERT(states_[index] != NodeState::crashed);
    record_fault(FaultKind::process_crash, index,
                 (std::uint64_t{static_cast<std::uint8_t>(options.disk)} << 8U) |
                     static_cast<std::uint8_t>(options.peers));
    // Connections first: the network still sees the node's ends as they were.
    network_->crash_node(index, options.peers);
    states_[index] = NodeState::crashed;
    cancel_node_events(index);
    nodes_[index]->file_system().crash(options.disk);
    COVER("sim: a node crashed");
}

void SimWorld::restart_node(NodeIndex index) {
    ASSERT(index < states_.size());
    ASSERT(states_[index] == NodeState::crashed);
    record_fault(FaultKind::process_restart, index);
    states_[index] = NodeState::up;
    network_->restart_node(index);
}

void SimWorld::pause_node(NodeIndex index) {
    ASSERT(index < states_.size());
    ASSERT(states_[index] == NodeState::up);
    record_fault(FaultKind::process_pause, index);
    states_[index] = NodeState::paused;
    auto& set_aside = paused_[index];
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->second.node == index) {
            location_by_id_.at(it->second.id).paused = true;
            set_aside.emplace(it->first, std::move(it->second));
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
}

void SimWorld::resume_node(NodeIndex index) {
    ASSERT(index < states_.size());
    ASSERT(states_[index] == NodeState::paused);
    record_fault(FaultKind::process_resume, index);
    states_[index] = NodeState::up;
    auto found = paused_.find(index);
    if (found == paused_.end()) return;
    std::map<Key, Event> set_aside = std::move(found->second);
    paused_.erase(found);
    // Back in the old order: overdue events run now, behind what is already due now.
    for (auto& [key, event] : set_aside) {
        location_by_id_.erase(event.id);
        insert(Key{std::max(key.first, now_.ns), next_sequence_++}, std::move(event));
    }
    COVER("sim: a paused node resumed with events set aside");
}

void SimWorld::record_fault(FaultKind kind, NodeIndex node, std::uint64_t detail) {
    ASSERT(kind < FaultKind::count_);
    ++fault_stats_.counts[static_cast<std::size_t>(kind)];
    trace_u64(0xfa'0000'0000'0000ULL | (std::uint64_t{static_cast<std::uint8_t>(kind)} << 32U) | node);
    trace_u64(detail);
}

bool SimWorld::step() {
    if (queue_.empty()) return false;
    auto first = queue_.begin();
    const Key key = first->first;
    Event event = std::move(first->second);
    queue_.erase(first);
    location_by_id_.erase(event.id);
    ASSERT(key.first >= now_.ns);
    now_ = Instant{key.first};
    ++steps_;
    trace_u64(key.first);
    trace_u64((std::uint64_t{static_cast<std::uint8_t>(event.kind)} << 32U) | event.node);
    event.task();
    return true;
}

bool SimWorld::run_until(const std::function<bool()>& done, std::uint64_t steps_max) {
    for (std::uint64_t count = 0; count < steps_max; ++count) {
        if (done()) return true;
        if (!step()) break;
    }
    return done();
}

std::uint64_t SimWorld::run_for(Duration duration, std::uint64_t steps_max) {
    const Instant end = now_ + duration;
    std::uint64_t count = 0;
    while (!queue_.empty() && queue_.begin()->first.first <= end.ns) {
        ASSERT(count < steps_max);
        step();
        ++count;
    }
    now_ = end;
    return count;
}

void SimWorld::trace_bytes(NodeIndex node, EventKind kind, std::span<const std::byte> bytes) {
    trace_u64((std::uint64_t{static_cast<std::uint8_t>(kind)} << 32U) | node);
    trace_u64(bytes.size());
    for (const std::byte b : bytes) {
        trace_hash_ ^= static_cast<std::uint64_t>(b);
        trace_hash_ *= fnv_prime;
    }
}

void SimWorld::trace_u64(std::uint64_t value) {
    // FNV-1a over the eight bytes, little-endian.
    for (unsigned shift = 0; shift < 64; shift += 8) {
        trace_hash_ ^= (value >> shift) & 0xffU;
        trace_hash_ *= fnv_prime;
    }
}

}  // namespace herald::sim
