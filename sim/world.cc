#include "sim/world.h"

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
    due_by_id_.clear();
    nodes_.clear();
}

std::int64_t SimWorld::realtime_ns() const {
    return options_.epoch_realtime_ns + static_cast<std::int64_t>(now_.ns);
}

SimNode& SimWorld::add_node() { return add_node(SimNodeOptions{}); }

SimNode& SimWorld::add_node(const SimNodeOptions& options) {
    const auto index = static_cast<NodeIndex>(nodes_.size());
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
    queue_.emplace(Key{due.ns, id}, Event{node, kind, std::move(task)});
    due_by_id_.emplace(id, due.ns);
    return id;
}

EventId SimWorld::schedule_after(Duration after, NodeIndex node, EventKind kind,
                                 std::function<void()> task) {
    return schedule_at(now_ + after, node, kind, std::move(task));
}

bool SimWorld::cancel(EventId id) {
    auto found = due_by_id_.find(id);
    if (found == due_by_id_.end()) return false;
    const auto erased = queue_.erase(Key{found->second, id});
    ASSERT(erased == 1);
    due_by_id_.erase(found);
    return true;
}

std::size_t SimWorld::cancel_node_events(NodeIndex node) {
    std::size_t count = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->second.node == node) {
            due_by_id_.erase(it->first.second);
            it = queue_.erase(it);
            ++count;
        } else {
            ++it;
        }
    }
    return count;
}

bool SimWorld::step() {
    if (queue_.empty()) return false;
    auto first = queue_.begin();
    const Key key = first->first;
    Event event = std::move(first->second);
    queue_.erase(first);
    due_by_id_.erase(key.second);
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
