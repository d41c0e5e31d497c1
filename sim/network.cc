#include "sim/network.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include "engine/base/assert.h"
#include "engine/base/errc.h"

namespace herald::sim {

using base::Errc;

constexpr std::uint16_t ephemeral_port_first = 32768;

struct SimListenerState {
    std::string host;
    std::uint16_t port = 0;
    NodeIndex node = world_node;
    bool open = true;
    std::function<void(Result<std::unique_ptr<io::Stream>>)> on_accept;
};

namespace {

struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};

std::optional<HostPort> split_host_port(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon + 1 == address.size()) return std::nullopt;
    std::uint32_t port = 0;
    for (std::size_t i = colon + 1; i < address.size(); ++i) {
        const char c = address[i];
        if (c < '0' || c > '9') return std::nullopt;
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > 65535) return std::nullopt;
    }
    return HostPort{address.substr(0, colon), static_cast<std::uint16_t>(port)};
}

bool is_local_alias(const std::string& host) {
    return host.empty() || host == "0.0.0.0" || host == "127.0.0.1" || host == "localhost" ||
           host == "::" || host == "::1";
}

}  // namespace

// One end of a connection: its node, its address, its pending read.
struct SimEnd {
    NodeIndex node = world_node;
    std::string address;
    bool open = true;   // Not closed by the application, and its process is alive.
    bool dead = false;  // Its process crashed: nothing is delivered to it any more.
    bool reading = false;
    std::span<std::byte> read_target;
    std::function<void(Result<std::size_t>)> on_read;
    bool writing = false;
};

// What travels in one direction: data, the FIN of close(), or a reset.
struct SimSegment {
    enum class Kind : std::uint8_t { data, fin, rst };
    Kind kind = Kind::data;
    Instant due{};
    std::vector<std::byte> bytes;
};

// One direction, from ends[i] to ends[1 - i]. Segments wait in `in_flight` in order; one pump
// event at a time delivers the head when it is due and its link passes; a blocked or clogged
// link leaves the pipe `held` until SimNetworkModel::release moves it again.
struct SimPipe {
    std::deque<SimSegment> in_flight;
    std::optional<EventId> pump;
    bool held = false;
    Instant last_due{};          // Segments never overtake each other.
    std::deque<std::byte> arrived;  // Delivered, not read yet.
    bool fin_arrived = false;
    bool rst_arrived = false;
};

// Shared by both SimStreams, the model's registry and every event in flight; ends[i] sends
// through pipes[i].
struct SimConnection : std::enable_shared_from_this<SimConnection> {
    SimWorld* world = nullptr;
    std::uint64_t id = 0;
    SimEnd ends[2];
    SimPipe pipes[2];
    bool blackholed = false;

    SimNetworkModel& model() { return world->network(); }

    // Queues a segment from end `from`; delivery keeps the order of the direction.
    void send(int from, SimSegment::Kind kind, std::vector<std::byte> bytes) {
        if (blackholed || ends[1 - from].dead) return;  // Lost on the way, or nobody there.
        SimPipe& pipe = pipes[from];
        const Instant due = model().due_time(ends[from].node, ends[1 - from].node, bytes.size());
        pipe.last_due = std::max(pipe.last_due, due);
        pipe.in_flight.push_back(SimSegment{kind, pipe.last_due, std::move(bytes)});
        if (!pipe.pump && !pipe.held) arm(from);
    }

    // Schedules the delivery of the head of pipe `from`, as an event of the receiving node (a
    // paused receiver delays it, a crashed one drops it).
    void arm(int from) {
        SimPipe& pipe = pipes[from];
        ASSERT(!pipe.pump);
        ASSERT(!pipe.in_flight.empty());
        pipe.pump = world->schedule_at(std::max(pipe.in_flight.front().due, world->now()),
                                       ends[1 - from].node, EventKind::net_deliver,
                                       [self = shared_from_this(), from] { self->pump(from); });
    }

    void pump(int from) {
        SimPipe& pipe = pipes[from];
        pipe.pump.reset();
        const int to = 1 - from;
        SimEnd& receiver = ends[to];
        bool delivered = false;
        while (!pipe.in_flight.empty() && pipe.in_flight.front().due <= world->now()) {
            if (!model().passable(ends[from].node, receiver.node)) {
                if (!pipe.held) world->record_fault(FaultKind::net_held_segment, receiver.node, id);
                pipe.held = true;
                break;
            }
            SimSegment segment = std::move(pipe.in_flight.front());
            pipe.in_flight.pop_front();
            delivered = true;
            if (segment.kind == SimSegment::Kind::data) {
                world->trace_bytes(receiver.node, EventKind::net_deliver, segment.bytes);
                // Bytes for a closed or dead end, or after a reset, are dropped.
                if (!receiver.open || pipe.rst_arrived) continue;
                pipe.arrived.insert(pipe.arrived.end(), segment.bytes.begin(), segment.bytes.end());
            } else if (segment.kind == SimSegment::Kind::fin) {
                pipe.fin_arrived = true;
            } else {
                pipe.rst_arrived = true;
            }
        }
        if (!pipe.held && !pipe.in_flight.empty()) arm(from);
        if (delivered) try_complete_read(to);
    }

    // After heal or unclog: a held pipe moves again, a fresh latency from now.
    void release(int from) {
        SimPipe& pipe = pipes[from];
        if (!pipe.held) return;
        pipe.held = false;
        ASSERT(!pipe.pump);
        if (pipe.in_flight.empty()) return;
        const Instant base = world->now() + model().latency(ends[from].node, ends[1 - from].node);
        for (SimSegment& segment : pipe.in_flight) segment.due = std::max(segment.due, base);
        pipe.last_due = std::max(pipe.last_due, pipe.in_flight.back().due);
        arm(from);
    }

    // Drops everything still in flight in pipe `from` (its receiver died, or the path did).
    void drop_in_flight(int from) {
        SimPipe& pipe = pipes[from];
        if (pipe.pump) static_cast<void>(world->cancel(*pipe.pump));
        pipe.pump.reset();
        pipe.held = false;
        pipe.in_flight.clear();
    }

    // Keeps a random prefix of the data in flight in pipe `from` and drops the rest.
    void keep_random_prefix(int from) {
        SimPipe& pipe = pipes[from];
        std::uint64_t total = 0;
        for (const SimSegment& segment : pipe.in_flight) {
            if (segment.kind == SimSegment::Kind::data) total += segment.bytes.size();
        }
        std::uint64_t keep = world->random().uniform(total + 1);
        MAYBE(keep == total);
        std::deque<SimSegment> kept;
        for (SimSegment& segment : pipe.in_flight) {
            if (segment.kind != SimSegment::Kind::data || keep == 0) break;
            if (segment.bytes.size() > keep) {
                segment.bytes.resize(static_cast<std::size_t>(keep));
                COVER("sim: a reset cuts a segment in the middle");
            }
            keep -= segment.bytes.size();
            kept.push_back(std::move(segment));
        }
        pipe.in_flight = std::move(kept);
        if (pipe.in_flight.empty() && pipe.pump) {
            static_cast<void>(world->cancel(*pipe.pump));
            pipe.pump.reset();
        }
    }

    // Completes the pending read of end `side` if data, a reset or EOF is there. Runs inside an
    // event of that end's node.
    void try_complete_read(int side) {
        SimEnd& end = ends[side];
        SimPipe& pipe = pipes[1 - side];
        if (!end.open || !end.reading) return;
        if (pipe.arrived.empty() && !pipe.fin_arrived && !pipe.rst_arrived) return;
        auto on_read = std::move(end.on_read);
        end.reading = false;
        if (pipe.arrived.empty() && pipe.rst_arrived) {
            end.read_target = {};
            on_read(Errc::connection_reset);
            return;
        }
        const std::size_t count = std::min(pipe.arrived.size(), end.read_target.size());
        MAYBE(count < pipe.arrived.size());  // Partial reads.
        std::copy_n(pipe.arrived.begin(), count, end.read_target.begin());
        pipe.arrived.erase(pipe.arrived.begin(), pipe.arrived.begin() + static_cast<std::ptrdiff_t>(count));
        end.read_target = {};
        on_read(count);  // 0 only when the FIN arrived and everything was read.
    }
};

namespace {

class SimStream final : public io::Stream {
public:
    SimStream(std::shared_ptr<SimConnection> connection, int side)
        : connection_(std::move(connection)), side_(side) {}
    ~SimStream() override { close(); }
    SimStream(const SimStream&) = delete;
    SimStream& operator=(const SimStream&) = delete;

    void read_some(std::span<std::byte> target,
                   std::function<void(Result<std::size_t>)> on_read) override {
        ASSERT(on_read);
        SimEnd& end = connection_->ends[side_];
        if (!end.open) return;
        ASSERT(!end.reading);
        end.reading = true;
        end.read_target = target;
        end.on_read = std::move(on_read);
        // Data may already be there: complete on the loop, never inline.
        connection_->world->schedule_after(Duration{}, end.node, EventKind::post,
                                           [connection = connection_, side = side_] {
                                               connection->try_complete_read(side);
                                           });
    }

    void write_all(std::span<const std::span<const std::byte>> sources,
                   std::function<void(Status)> on_written) override {
        ASSERT(on_written);
        SimEnd& end = connection_->ends[side_];
        if (!end.open) return;
        ASSERT(!end.writing);
        // After a reset arrived, writes fail (EPIPE/ECONNRESET).
        const bool reset = connection_->pipes[1 - side_].rst_arrived;
        std::vector<std::byte> segment;
        for (const auto& source : sources) segment.insert(segment.end(), source.begin(), source.end());
        if (!reset && !segment.empty()) {
            connection_->send(side_, SimSegment::Kind::data, std::move(segment));
        }
        // The bytes are queued on the link: the write is done.
        end.writing = true;
        connection_->world->schedule_after(Duration{}, end.node, EventKind::post,
                                           [connection = connection_, side = side_, reset,
                                            on_written = std::move(on_written)] {
                                               SimEnd& writer = connection->ends[side];
                                               writer.writing = false;
                                               if (!writer.open) return;
                                               if (reset) {
                                                   on_written(Errc::connection_reset);
                                               } else {
                                                   on_written(ok());
                                               }
                                           });
    }

    void close() override {
        SimEnd& end = connection_->ends[side_];
        if (!end.open) return;
        end.open = false;
        end.reading = false;
        end.on_read = nullptr;
        if (!connection_->pipes[1 - side_].rst_arrived) {
            connection_->send(side_, SimSegment::Kind::fin, {});
        }
    }

    std::string peer_address() const override { return connection_->ends[1 - side_].address; }

private:
    std::shared_ptr<SimConnection> connection_;
    int side_;
};

class SimListener final : public io::Listener {
public:
    SimListener(SimNetworkModel& model, std::shared_ptr<SimListenerState> state)
        : model_(model), state_(std::move(state)) {}
    ~SimListener() override {
        state_->open = false;
        model_.remove_listener(state_);
    }
    SimListener(const SimListener&) = delete;
    SimListener& operator=(const SimListener&) = delete;

    std::string local_address() const override {
        return state_->host + ":" + std::to_string(state_->port);
    }
    std::uint16_t local_port() const override { return state_->port; }

private:
    SimNetworkModel& model_;
    std::shared_ptr<SimListenerState> state_;
};

}  // namespace

SimNetworkModel::SimNetworkModel(SimWorld& world, SimNetworkOptions options)
    : world_(world), options_(options) {}

SimNetworkModel::~SimNetworkModel() = default;

Duration SimNetworkModel::latency(NodeIndex from, NodeIndex to) {
    const SimLinkOptions& shape = link(from, to);
    return shape.latency_min + Duration{world_.random().uniform(shape.latency_jitter.ns + 1)};
}

Instant SimNetworkModel::due_time(NodeIndex from, NodeIndex to, std::size_t size) {
    const SimLinkOptions& shape = link(from, to);
    Instant sent = world_.now();
    if (shape.bandwidth_bytes_per_second != 0 && size != 0) {
        // The wire is shared by every connection of the link: a segment waits for the ones
        // before it, then takes size / bandwidth to go out.
        LinkState& state = link_state(from, to);
        const Instant start = std::max(state.busy_until, sent);
        const std::uint64_t per_second = shape.bandwidth_bytes_per_second;
        const std::uint64_t whole = size / per_second;
        const std::uint64_t part = size % per_second;
        const Duration transmit = Duration::seconds(whole) +
                                  Duration{(part * 1'000'000'000ULL + per_second - 1) / per_second};
        state.busy_until = start + transmit;
        sent = state.busy_until;
    }
    Duration delay = latency(from, to);
    if (shape.slow_probability > 0.0 && from != to && world_.chance(shape.slow_probability)) {
        ASSERT(shape.slow_extra_min <= shape.slow_extra_max);
        delay = delay + shape.slow_extra_min +
                Duration{world_.random().uniform(shape.slow_extra_max.ns - shape.slow_extra_min.ns + 1)};
        world_.record_fault(FaultKind::net_slow_segment, to, (std::uint64_t{from} << 32U) | to);
    }
    return sent + delay;
}

void SimNetworkModel::set_link(NodeIndex from, NodeIndex to, const SimLinkOptions& shape) {
    ASSERT(shape.latency_min.ns + shape.latency_jitter.ns >= shape.latency_min.ns);
    ASSERT(shape.slow_probability >= 0.0 && shape.slow_probability <= 1.0);
    ASSERT(shape.slow_extra_min <= shape.slow_extra_max);
    link_options_[{from, to}] = shape;
}

void SimNetworkModel::set_link_both(NodeIndex a, NodeIndex b, const SimLinkOptions& shape) {
    set_link(a, b, shape);
    set_link(b, a, shape);
}

const SimLinkOptions& SimNetworkModel::link(NodeIndex from, NodeIndex to) const {
    auto found = link_options_.find({from, to});
    return found == link_options_.end() ? options_.link : found->second;
}

SimNetworkModel::LinkState& SimNetworkModel::link_state(NodeIndex from, NodeIndex to) {
    return links_[{from, to}];
}

bool SimNetworkModel::blocked(NodeIndex from, NodeIndex to) const {
    auto found = links_.find({from, to});
    return found != links_.end() && found->second.blocked;
}

Instant SimNetworkModel::clogged_until(NodeIndex from, NodeIndex to) const {
    auto found = links_.find({from, to});
    return found == links_.end() ? Instant{} : found->second.clogged_until;
}

bool SimNetworkModel::clogged(NodeIndex from, NodeIndex to) const {
    return clogged_until(from, to) > world_.now();
}

bool SimNetworkModel::passable(NodeIndex from, NodeIndex to) const {
    return from == to || (!blocked(from, to) && !clogged(from, to));
}

void SimNetworkModel::block(NodeIndex from, NodeIndex to) {
    if (from == to) return;
    LinkState& state = link_state(from, to);
    if (state.blocked) return;
    state.blocked = true;
    world_.record_fault(FaultKind::net_partition, from, to);
}

void SimNetworkModel::partition(const std::vector<NodeIndex>& side_a,
                                const std::vector<NodeIndex>& side_b) {
    for (const NodeIndex a : side_a) {
        for (const NodeIndex b : side_b) {
            block(a, b);
            block(b, a);
        }
    }
}

void SimNetworkModel::partition_one_way(const std::vector<NodeIndex>& from,
                                        const std::vector<NodeIndex>& to) {
    for (const NodeIndex a : from) {
        for (const NodeIndex b : to) block(a, b);
    }
}

void SimNetworkModel::bridge(const std::vector<NodeIndex>& side_a,
                             const std::vector<NodeIndex>& bridge_nodes,
                             const std::vector<NodeIndex>& side_c) {
    for (const NodeIndex b : bridge_nodes) {
        ASSERT(std::find(side_a.begin(), side_a.end(), b) == side_a.end());
        ASSERT(std::find(side_c.begin(), side_c.end(), b) == side_c.end());
    }
    partition(side_a, side_c);
    COVER("sim: bridge partition");
}

void SimNetworkModel::isolate(NodeIndex node) {
    const auto count = static_cast<NodeIndex>(world_.node_count());
    for (NodeIndex other = 0; other < count; ++other) {
        block(node, other);
        block(other, node);
    }
}

void SimNetworkModel::heal(NodeIndex from, NodeIndex to) {
    auto found = links_.find({from, to});
    if (found == links_.end() || !found->second.blocked) return;
    found->second.blocked = false;
    world_.record_fault(FaultKind::net_heal, from, to);
    if (!clogged(from, to)) release(from, to);
}

void SimNetworkModel::heal() {
    std::vector<Link> changed;
    for (auto& [key, state] : links_) {
        const bool was_blocked = state.blocked;
        if (state.blocked) world_.record_fault(FaultKind::net_heal, key.first, key.second);
        state.blocked = false;
        if (state.unclog_event) static_cast<void>(world_.cancel(*state.unclog_event));
        state.unclog_event.reset();
        const bool was_clogged = state.clogged_until > world_.now();
        state.clogged_until = Instant{};
        if (was_blocked || was_clogged) changed.push_back(key);
    }
    for (const auto& [from, to] : changed) release(from, to);
}

void SimNetworkModel::clog(NodeIndex a, NodeIndex b, Duration duration) {
    clog_one_way(a, b, duration);
    clog_one_way(b, a, duration);
}

void SimNetworkModel::clog_one_way(NodeIndex from, NodeIndex to, Duration duration) {
    if (from == to || duration.ns == 0) return;
    LinkState& state = link_state(from, to);
    world_.record_fault(FaultKind::net_clog, from, (std::uint64_t{to} << 32U) ^ duration.ns);
    const Instant until = world_.now() + duration;
    if (until <= state.clogged_until) return;
    state.clogged_until = until;
    if (state.unclog_event) static_cast<void>(world_.cancel(*state.unclog_event));
    state.unclog_event = world_.schedule_at(until, world_node, EventKind::custom,
                                            [this, from, to] { unclog(from, to); });
}

void SimNetworkModel::unclog(NodeIndex from, NodeIndex to) {
    LinkState& state = link_state(from, to);
    state.unclog_event.reset();
    if (!state.blocked) release(from, to);
}

void SimNetworkModel::release(NodeIndex from, NodeIndex to) {
    for (auto& [id, weak] : connections_) {
        auto connection = weak.lock();
        if (!connection) continue;
        for (int side = 0; side < 2; ++side) {
            if (connection->ends[side].node == from && connection->ends[1 - side].node == to) {
                connection->release(side);
            }
        }
    }
}

void SimNetworkModel::add_connection(const std::shared_ptr<SimConnection>& connection) {
    // Forget connections nobody holds any more, from time to time.
    if (connections_.size() >= connections_pruned_size_ * 2) {
        std::erase_if(connections_, [](const auto& entry) { return entry.second.expired(); });
        connections_pruned_size_ = std::max<std::size_t>(connections_.size(), 64);
    }
    connections_.emplace(connection->id, connection);
}

std::vector<SimConnectionInfo> SimNetworkModel::connections() const {
    std::vector<SimConnectionInfo> live;
    for (const auto& [id, weak] : connections_) {
        auto connection = weak.lock();
        if (!connection || connection->blackholed) continue;
        const SimEnd& client = connection->ends[0];
        const SimEnd& server = connection->ends[1];
        if (!client.open || !server.open) continue;
        if (connection->pipes[0].rst_arrived || connection->pipes[1].rst_arrived) continue;
        live.push_back(SimConnectionInfo{id, client.node, server.node, client.address, server.address});
    }
    return live;
}

bool SimNetworkModel::reset_connection(std::uint64_t id) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return false;
    auto connection = found->second.lock();
    if (!connection || connection->blackholed) return false;
    if (connection->ends[0].dead || connection->ends[1].dead) return false;
    world_.record_fault(FaultKind::net_reset, connection->ends[0].node, id);
    for (int side = 0; side < 2; ++side) {
        connection->keep_random_prefix(side);
        connection->send(side, SimSegment::Kind::rst, {});
    }
    return true;
}

std::size_t SimNetworkModel::reset_connections(NodeIndex a, NodeIndex b) {
    std::vector<std::uint64_t> ids;
    for (const SimConnectionInfo& info : connections()) {
        if ((info.client_node == a && info.server_node == b) ||
            (info.client_node == b && info.server_node == a)) {
            ids.push_back(info.id);
        }
    }
    std::size_t count = 0;
    for (const std::uint64_t id : ids) {
        if (reset_connection(id)) ++count;
    }
    return count;
}

bool SimNetworkModel::blackhole_connection(std::uint64_t id) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return false;
    auto connection = found->second.lock();
    if (!connection || connection->blackholed) return false;
    world_.record_fault(FaultKind::net_blackhole, connection->ends[0].node, id);
    connection->drop_in_flight(0);
    connection->drop_in_flight(1);
    connection->blackholed = true;
    return true;
}

void SimNetworkModel::crash_node(NodeIndex node, PeerView peers) {
    crashed_[node] = peers;
    // Its listeners stop at once; a restarted process may listen on the same ports.
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        if (it->second->node == node) {
            it->second->open = false;
            it->second->on_accept = nullptr;
            it = listeners_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [id, weak] : connections_) {
        auto connection = weak.lock();
        if (!connection) continue;
        for (int side = 0; side < 2; ++side) {
            SimEnd& end = connection->ends[side];
            if (end.node != node || end.dead) continue;
            const bool was_open = end.open;
            end.dead = true;
            end.open = false;
            end.reading = false;
            end.on_read = nullptr;
            connection->drop_in_flight(1 - side);  // Nothing reaches a dead process.
            SimEnd& peer = connection->ends[1 - side];
            if (peer.node == node || peer.dead || connection->blackholed) continue;
            if (peers == PeerView::reset) {
                // Its kernel sends what it had, then a reset (an unclosed socket with the
                // process gone; a closed one already sent its FIN).
                if (was_open) {
                    world_.record_fault(FaultKind::net_reset, node, id);
                    connection->send(side, SimSegment::Kind::rst, {});
                }
            } else {
                world_.record_fault(FaultKind::net_blackhole, node, id);
                COVER("sim: a silent crash leaves a half-open connection");
            }
        }
    }
}

void SimNetworkModel::restart_node(NodeIndex node) { crashed_.erase(node); }

bool SimNetworkModel::node_down(NodeIndex node) const { return crashed_.contains(node); }

bool SimNetworkModel::node_silent(NodeIndex node) const {
    auto found = crashed_.find(node);
    return found != crashed_.end() && found->second == PeerView::silent;
}

std::shared_ptr<SimListenerState> SimNetworkModel::find_listener(const std::string& host,
                                                                 std::uint16_t port) const {
    auto found = listeners_.find({host, port});
    return found == listeners_.end() ? nullptr : found->second;
}

bool SimNetworkModel::add_listener(const std::shared_ptr<SimListenerState>& listener) {
    return listeners_.emplace(std::pair{listener->host, listener->port}, listener).second;
}

void SimNetworkModel::remove_listener(const std::shared_ptr<SimListenerState>& listener) {
    auto found = listeners_.find({listener->host, listener->port});
    // A restarted node may listen on the port again before the old listener goes.
    if (found != listeners_.end() && found->second == listener) listeners_.erase(found);
}

std::uint16_t SimNetworkModel::next_ephemeral_port(const std::string& host) {
    auto [it, inserted] = ephemeral_ports_.emplace(host, ephemeral_port_first);
    MAYBE(inserted);
    // Skip ports taken by listeners; wrap within the ephemeral range.
    for (std::uint32_t tries = 0; tries < 65536U - ephemeral_port_first; ++tries) {
        const std::uint16_t port = it->second;
        it->second = port == 65535 ? ephemeral_port_first : static_cast<std::uint16_t>(port + 1);
        if (!listeners_.contains({host, port})) return port;
    }
    ASSERT(false);  // Every ephemeral port of the host is listening.
    return 0;
}

NodeIndex SimNetworkModel::node_of_host(const std::string& host) const {
    auto found = hosts_.find(host);
    return found == hosts_.end() ? world_node : found->second;
}

void SimNetworkModel::add_host(const std::string& host, NodeIndex node) {
    const bool inserted = hosts_.emplace(host, node).second;
    ASSERT(inserted);
}

SimNetwork::SimNetwork(SimWorld& world, NodeIndex node, std::string host)
    : world_(world), node_(node), host_(std::move(host)) {
    world_.network().add_host(host_, node_);
}

Result<std::unique_ptr<io::Listener>> SimNetwork::listen(
    const std::string& address, std::function<void(Result<std::unique_ptr<io::Stream>>)> on_accept) {
    ASSERT(on_accept);
    if (world_.node_state(node_) == NodeState::crashed) return Errc::io_error;
    const auto host_port = split_host_port(address);
    if (!host_port) return Errc::invalid_argument;
    if (!is_local_alias(host_port->host) && host_port->host != host_) return Errc::invalid_argument;
    auto& model = world_.network();
    auto state = std::make_shared<SimListenerState>();
    state->host = host_;
    state->port = host_port->port != 0 ? host_port->port : model.next_ephemeral_port(host_);
    state->node = node_;
    state->on_accept = std::move(on_accept);
    if (!model.add_listener(state)) return Errc::address_in_use;
    return std::unique_ptr<io::Listener>(new SimListener(model, std::move(state)));
}

void SimNetwork::connect(const std::string& address,
                         std::function<void(Result<std::unique_ptr<io::Stream>>)> on_connect) {
    ASSERT(on_connect);
    if (world_.node_state(node_) == NodeState::crashed) return;  // Never completes.
    const auto host_port = split_host_port(address);
    auto& model = world_.network();
    const std::string host = !host_port || is_local_alias(host_port->host) ? host_ : host_port->host;
    const NodeIndex target = model.node_of_host(host);
    if (!host_port || target == world_node) {
        const Errc error = !host_port ? Errc::invalid_argument : Errc::not_found;
        world_.schedule_after(Duration{}, node_, EventKind::post,
                              [on_connect = std::move(on_connect), error] { on_connect(error); });
        return;
    }
    const std::uint16_t port = host_port->port;
    const std::string local = host_ + ":" + std::to_string(model.next_ephemeral_port(host_));
    const Instant started = world_.now();
    if (model.blocked(node_, target)) {
        const Duration round_trip = model.latency(node_, target) + model.latency(target, node_);
        fail_connect(target, started, round_trip, std::move(on_connect));
        return;
    }
    // The SYN travels to the target's kernel (a world event: a paused target still answers);
    // a clog holds it back. The answer (a stream or a refusal) travels back.
    const Instant syn_due = std::max(world_.now(), model.clogged_until(node_, target)) +
                            model.latency(node_, target);
    world_.schedule_at(
        syn_due, world_node, EventKind::net_connect,
        [this, target, host, port, local, started, on_connect = std::move(on_connect)]() mutable {
            auto& fabric = world_.network();
            if (fabric.node_silent(target) || fabric.blocked(target, node_)) {
                fail_connect(target, started, fabric.latency(target, node_), std::move(on_connect));
                return;
            }
            const Instant back = std::max(world_.now(), fabric.clogged_until(target, node_)) +
                                 fabric.latency(target, node_);
            auto listener = fabric.find_listener(host, port);
            if (!listener || !listener->open) {
                world_.schedule_at(back, node_, EventKind::net_connect,
                                   [on_connect = std::move(on_connect)] {
                                       on_connect(Errc::connection_refused);
                                   });
                return;
            }
            auto connection = std::make_shared<SimConnection>();
            connection->world = &world_;
            connection->id = fabric.next_connection_id();
            connection->ends[0].node = node_;
            connection->ends[0].address = local;
            connection->ends[1].node = target;
            connection->ends[1].address = listener->host + ":" + std::to_string(listener->port);
            fabric.add_connection(connection);
            // The accepting process takes it from its backlog when it runs.
            world_.schedule_after(Duration{}, target, EventKind::post, [listener, connection] {
                auto stream = std::unique_ptr<io::Stream>(new SimStream(connection, 1));
                if (listener->open && listener->on_accept) listener->on_accept(std::move(stream));
                // Else the stream goes at once: the connector reads end of stream.
            });
            world_.schedule_at(back, node_, EventKind::net_connect,
                               [connection, on_connect = std::move(on_connect)] {
                                   on_connect(std::unique_ptr<io::Stream>(new SimStream(connection, 0)));
                               });
        });
}

void SimNetwork::fail_connect(NodeIndex target, Instant started, Duration refuse_after,
                              std::function<void(Result<std::unique_ptr<io::Stream>>)> on_connect) {
    auto& model = world_.network();
    world_.record_fault(FaultKind::net_connect_failed, node_, target);
    if (model.options().partition_refuses_connect && !model.node_silent(target)) {
        world_.schedule_after(refuse_after, node_, EventKind::net_connect,
                              [on_connect = std::move(on_connect)] {
                                  on_connect(Errc::connection_refused);
                              });
        return;
    }
    const Instant deadline = std::max(world_.now(), started + model.options().connect_timeout);
    world_.schedule_at(deadline, node_, EventKind::net_connect,
                       [on_connect = std::move(on_connect)] { on_connect(Errc::timed_out); });
}

}  // namespace herald::sim
