// The simulated network: SimNetworkModel is the fabric shared by the world (listeners by address,
// links with latency, bandwidth and faults, connections), SimNetwork is one node's io::Network
// view of it. A connection is a pair of ordered byte pipes; faults are listed in faults.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/io.h"
#include "sim/world.h"

namespace herald::sim {

struct SimListenerState;
struct SimConnection;

// A live connection, as the nemesis sees it (connections()).
struct SimConnectionInfo {
    std::uint64_t id = 0;
    NodeIndex client_node = world_node;  // The connecting side.
    NodeIndex server_node = world_node;  // The accepting side.
    std::string client_address;
    std::string server_address;
};

// The fabric: listeners by address, links between nodes (latency, bandwidth, partitions,
// clogs) and every connection. Runs inside SimWorld::step() only. Node indexes name machines;
// clients are nodes too. A link is directed (from, to); a node's link to itself is never
// blocked, clogged or slowed by faults.
//
// Partition semantics (TCP-like): bytes that reach a blocked or clogged link wait there, in
// order, and are delivered after heal/unclog (plus a fresh latency); nothing is lost, nothing
// errors, so an application notices only through its own timeouts (PING/PONG). New connects
// across a blocked link fail (SimNetworkOptions::connect_timeout / partition_refuses_connect);
// across a clogged one they wait for the clog to end.
class SimNetworkModel {
public:
    SimNetworkModel(SimWorld& world, SimNetworkOptions options);
    ~SimNetworkModel();
    SimNetworkModel(const SimNetworkModel&) = delete;
    SimNetworkModel& operator=(const SimNetworkModel&) = delete;

    SimNetworkOptions& options() { return options_; }

    // Link shape, per direction. Without an override a link uses options().link.
    void set_link(NodeIndex from, NodeIndex to, const SimLinkOptions& link);
    void set_link_both(NodeIndex a, NodeIndex b, const SimLinkOptions& link);
    const SimLinkOptions& link(NodeIndex from, NodeIndex to) const;

    // Partitions. block/partition/isolate add to what is already blocked; heal undoes.
    void block(NodeIndex from, NodeIndex to);  // One direction.
    // Every node of `side_a` loses both directions to every node of `side_b`.
    void partition(const std::vector<NodeIndex>& side_a, const std::vector<NodeIndex>& side_b);
    // Asymmetric: `from` nodes cannot reach `to` nodes; the other way still works.
    void partition_one_way(const std::vector<NodeIndex>& from, const std::vector<NodeIndex>& to);
    // Non-transitive: `side_a` and `side_c` are cut apart (both ways) while `bridge` nodes keep
    // both directions to both sides (A-B and B-C up, A-C down).
    void bridge(const std::vector<NodeIndex>& side_a, const std::vector<NodeIndex>& bridge_nodes,
                const std::vector<NodeIndex>& side_c);
    // `node` loses both directions to every other node.
    void isolate(NodeIndex node);
    void heal();                             // Every link unblocked and unclogged.
    void heal(NodeIndex from, NodeIndex to);  // One direction unblocked.
    bool blocked(NodeIndex from, NodeIndex to) const;

    // Clogs: the link holds bytes (and SYNs) for `duration`, then delivers them in order.
    void clog(NodeIndex a, NodeIndex b, Duration duration);  // Both directions.
    void clog_one_way(NodeIndex from, NodeIndex to, Duration duration);
    bool clogged(NodeIndex from, NodeIndex to) const;

    // Connections, in id order (ids grow with connect order).
    std::vector<SimConnectionInfo> connections() const;
    // RST mid-stream: of the bytes in flight in each direction a random prefix (possibly empty,
    // possibly all) is still delivered, then both ends see Errc::connection_reset: reads fail
    // once the delivered bytes are read, writes fail at once. False if no such live connection.
    bool reset_connection(std::uint64_t id);
    // Resets every live connection between nodes a and b (either side connecting).
    std::size_t reset_connections(NodeIndex a, NodeIndex b);
    // The path of this connection silently loses every byte from now on, both ways, and no FIN
    // or RST ever crosses it: both ends stay half-open until their own timeouts.
    bool blackhole_connection(std::uint64_t id);

    // Used by SimWorld::crash_node / restart_node.
    void crash_node(NodeIndex node, PeerView peers);
    void restart_node(NodeIndex node);

    // Internal to the network model and SimNetwork.
    // One-way delay of the next segment of `size` bytes from `from` to `to`, given the due time
    // of the previous segment of its direction (order is kept).
    Instant due_time(NodeIndex from, NodeIndex to, std::size_t size);
    // Delay of a control packet (SYN, answer): latency only.
    Duration latency(NodeIndex from, NodeIndex to);
    // When a link stops being blocked or clogged, waiting bytes move again.
    void release(NodeIndex from, NodeIndex to);
    Instant clogged_until(NodeIndex from, NodeIndex to) const;
    bool passable(NodeIndex from, NodeIndex to) const;  // Neither blocked nor clogged.
    bool node_down(NodeIndex node) const;         // Crashed.
    bool node_silent(NodeIndex node) const;       // Crashed with PeerView::silent.
    void add_connection(const std::shared_ptr<SimConnection>& connection);
    std::shared_ptr<SimListenerState> find_listener(const std::string& host, std::uint16_t port) const;
    bool add_listener(const std::shared_ptr<SimListenerState>& listener);
    void remove_listener(const std::shared_ptr<SimListenerState>& listener);
    std::uint16_t next_ephemeral_port(const std::string& host);
    // Host name to node, for connect. world_node if unknown.
    NodeIndex node_of_host(const std::string& host) const;
    void add_host(const std::string& host, NodeIndex node);
    std::uint64_t next_connection_id() { return next_connection_id_++; }

private:
    using Link = std::pair<NodeIndex, NodeIndex>;  // (from, to)
    struct LinkState {
        bool blocked = false;
        Instant clogged_until{};
        std::optional<EventId> unclog_event;
        Instant busy_until{};  // Bandwidth: the wire is sending until then.
    };
    LinkState& link_state(NodeIndex from, NodeIndex to);
    void unclog(NodeIndex from, NodeIndex to);

    SimWorld& world_;
    SimNetworkOptions options_;
    std::map<Link, SimLinkOptions> link_options_;
    std::map<Link, LinkState> links_;
    std::map<NodeIndex, PeerView> crashed_;
    std::map<std::uint64_t, std::weak_ptr<SimConnection>> connections_;
    std::map<std::pair<std::string, std::uint16_t>, std::shared_ptr<SimListenerState>> listeners_;
    std::map<std::string, std::uint16_t> ephemeral_ports_;
    std::map<std::string, NodeIndex> hosts_;
    std::uint64_t next_connection_id_ = 1;
    std::size_t connections_pruned_size_ = 64;
};

// One node's io::Network. Listening on 0.0.0.0, 127.0.0.1, localhost or the node's host all
// bind the node's host; connecting to 127.0.0.1 or localhost reaches the node itself.
class SimNetwork final : public io::Network {
public:
    SimNetwork(SimWorld& world, NodeIndex node, std::string host);
    Result<std::unique_ptr<io::Listener>> listen(
        const std::string& address,
        std::function<void(Result<std::unique_ptr<io::Stream>>)> on_accept) override;
    void connect(const std::string& address,
                 std::function<void(Result<std::unique_ptr<io::Stream>>)> on_connect) override;

private:
    // A connect that meets a blocked link or a silent target: refused after `refuse_after` (the
    // rest of the round trip) with partition_refuses_connect, else timed out `connect_timeout`
    // after `started`.
    void fail_connect(NodeIndex target, Instant started, Duration refuse_after,
                      std::function<void(Result<std::unique_ptr<io::Stream>>)> on_connect);

    SimWorld& world_;
    NodeIndex node_;
    std::string host_;
};

}  // namespace herald::sim
