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

// One end of a connection: its node, its address, its pending read.
struct End {
    NodeIndex node = world_node;
    std::string address;
    bool open = true;
    bool reading = false;
    std::span<std::byte> read_target;
    std::function<void(Result<std::size_t>)> on_read;
    bool writing = false;
};

// One direction: bytes that arrived at the receiver and were not read yet.
struct Pipe {
    std::deque<std::byte> arrived;
    bool fin_arrived = false;    // The sender closed and its FIN was delivered.
    Instant last_due{};          // Deliveries never overtake each other.
};

// Shared by both SimStreams and every event in flight; ends[i] sends through pipes[i].
struct Connection {
    SimWorld* world = nullptr;
    std::uint64_t id = 0;
    End ends[2];
    Pipe pipes[2];

    Instant next_due(int from) {
        const int to = 1 - from;
        const Instant due = world->now() + world->network().latency(ends[from].node, ends[to].node);
        pipes[from].last_due = std::max(pipes[from].last_due, due);
        return pipes[from].last_due;
    }

    // Completes the pending read of end `side` if data or EOF is there. Runs inside an event of
    // that end's node.
    void try_complete_read(int side) {
        End& end = ends[side];
        Pipe& pipe = pipes[1 - side];
        if (!end.open || !end.reading) return;
        if (pipe.arrived.empty() && !pipe.fin_arrived) return;
        const std::size_t count = std::min(pipe.arrived.size(), end.read_target.size());
        MAYBE(count < pipe.arrived.size());  // Partial reads.
        std::copy_n(pipe.arrived.begin(), count, end.read_target.begin());
        pipe.arrived.erase(pipe.arrived.begin(), pipe.arrived.begin() + static_cast<std::ptrdiff_t>(count));
        auto on_read = std::move(end.on_read);
        end.reading = false;
        end.read_target = {};
        on_read(count);  // 0 only when the FIN arrived and everything was read.
    }
};

class SimStream final : public io::Stream {
public:
    SimStream(std::shared_ptr<Connection> connection, int side)
        : connection_(std::move(connection)), side_(side) {}
    ~SimStream() override { close(); }
    SimStream(const SimStream&) = delete;
    SimStream& operator=(const SimStream&) = delete;

    void read_some(std::span<std::byte> target,
                   std::function<void(Result<std::size_t>)> on_read) override {
        ASSERT(on_read);
        End& end = connection_->ends[side_];
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
        End& end = connection_->ends[side_];
        if (!end.open) return;
        ASSERT(!end.writing);
        std::vector<std::byte> segment;
        for (const auto& source : sources) segment.insert(segment.end(), source.begin(), source.end());
        SimWorld& world = *connection_->world;
        const int to = 1 - side_;
        if (!segment.empty()) {
            world.schedule_at(connection_->next_due(side_), connection_->ends[to].node,
                              EventKind::net_deliver,
                              [connection = connection_, from = side_, segment = std::move(segment)] {
                                  const int receiver = 1 - from;
                                  End& target_end = connection->ends[receiver];
                                  connection->world->trace_bytes(target_end.node,
                                                                 EventKind::net_deliver, segment);
                                  if (!target_end.open) return;  // Closed: bytes are dropped.
                                  Pipe& pipe = connection->pipes[from];
                                  pipe.arrived.insert(pipe.arrived.end(), segment.begin(), segment.end());
                                  connection->try_complete_read(receiver);
                              });
        }
        // The bytes are queued on the link: the write is done.
        end.writing = true;
        world.schedule_after(Duration{}, end.node, EventKind::post,
                             [connection = connection_, side = side_,
                              on_written = std::move(on_written)] {
                                 End& writer = connection->ends[side];
                                 writer.writing = false;
                                 if (writer.open) on_written(ok());
                             });
    }

    void close() override {
        End& end = connection_->ends[side_];
        if (!end.open) return;
        end.open = false;
        end.reading = false;
        end.on_read = nullptr;
        const int to = 1 - side_;
        connection_->world->schedule_at(
            connection_->next_due(side_), connection_->ends[to].node, EventKind::net_close,
            [connection = connection_, from = side_] {
                connection->pipes[from].fin_arrived = true;
                connection->try_complete_read(1 - from);
            });
    }

    std::string peer_address() const override { return connection_->ends[1 - side_].address; }

private:
    std::shared_ptr<Connection> connection_;
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

// STUBS: replaced by the fault model.
void SimNetworkModel::set_link(NodeIndex from, NodeIndex to, const SimLinkOptions& shape) {
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
void SimNetworkModel::block(NodeIndex, NodeIndex) {}
void SimNetworkModel::partition(const std::vector<NodeIndex>&, const std::vector<NodeIndex>&) {}
void SimNetworkModel::partition_one_way(const std::vector<NodeIndex>&, const std::vector<NodeIndex>&) {}
void SimNetworkModel::bridge(const std::vector<NodeIndex>&, const std::vector<NodeIndex>&,
                             const std::vector<NodeIndex>&) {}
void SimNetworkModel::isolate(NodeIndex) {}
void SimNetworkModel::heal() {}
void SimNetworkModel::heal(NodeIndex, NodeIndex) {}
bool SimNetworkModel::blocked(NodeIndex, NodeIndex) const { return false; }
void SimNetworkModel::clog(NodeIndex, NodeIndex, Duration) {}
void SimNetworkModel::clog_one_way(NodeIndex, NodeIndex, Duration) {}
bool SimNetworkModel::clogged(NodeIndex, NodeIndex) const { return false; }
std::vector<SimConnectionInfo> SimNetworkModel::connections() const { return {}; }
bool SimNetworkModel::reset_connection(std::uint64_t) { return false; }
std::size_t SimNetworkModel::reset_connections(NodeIndex, NodeIndex) { return 0; }
bool SimNetworkModel::blackhole_connection(std::uint64_t) { return false; }
void SimNetworkModel::crash_node(NodeIndex, PeerView) {}
void SimNetworkModel::restart_node(NodeIndex) {}

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
    // The SYN travels to the target; the answer (a stream or a refusal) travels back.
    world_.schedule_after(
        model.latency(node_, target), target, EventKind::net_connect,
        [this, target, host, port, local, on_connect = std::move(on_connect)]() mutable {
            auto& fabric = world_.network();
            const Duration back = fabric.latency(target, node_);
            auto listener = fabric.find_listener(host, port);
            if (!listener || !listener->open) {
                world_.schedule_after(back, node_, EventKind::net_connect,
                                      [on_connect = std::move(on_connect)] {
                                          on_connect(Errc::connection_refused);
                                      });
                return;
            }
            auto connection = std::make_shared<Connection>();
            connection->world = &world_;
            connection->id = fabric.next_connection_id();
            connection->ends[0].node = node_;
            connection->ends[0].address = local;
            connection->ends[1].node = target;
            connection->ends[1].address = listener->host + ":" + std::to_string(listener->port);
            listener->on_accept(std::unique_ptr<io::Stream>(new SimStream(connection, 1)));
            world_.schedule_after(back, node_, EventKind::net_connect,
                                  [connection, on_connect = std::move(on_connect)] {
                                      on_connect(std::unique_ptr<io::Stream>(new SimStream(connection, 0)));
                                  });
        });
}

}  // namespace herald::sim
