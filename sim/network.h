// The simulated network: SimNetworkModel is the fabric shared by the world (listeners by address,
// link latency), SimNetwork is one node's io::Network view of it. A connection is a pair of byte
// pipes; each direction delivers in order after a latency drawn from the world's Random.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "engine/io/io.h"
#include "sim/world.h"

namespace herald::sim {

struct SimListenerState;

// The fabric. Later fault knobs (loss, partitions, clogging, bounded in-flight bytes) hang off
// latency() and the per-path state here. Runs inside SimWorld::step() only.
class SimNetworkModel {
public:
    SimNetworkModel(SimWorld& world, SimNetworkOptions options);

    SimNetworkOptions& options() { return options_; }
    // One-way delay of the next segment from `from` to `to`.
    Duration latency(NodeIndex from, NodeIndex to);

    // Registry of listening sockets by (host, port); used by SimNetwork.
    std::shared_ptr<SimListenerState> find_listener(const std::string& host, std::uint16_t port) const;
    bool add_listener(const std::shared_ptr<SimListenerState>& listener);
    void remove_listener(const std::string& host, std::uint16_t port);
    std::uint16_t next_ephemeral_port(const std::string& host);
    // Host name to node, for connect. world_node if unknown.
    NodeIndex node_of_host(const std::string& host) const;
    void add_host(const std::string& host, NodeIndex node);
    std::uint64_t next_connection_id() { return next_connection_id_++; }

private:
    SimWorld& world_;
    SimNetworkOptions options_;
    std::map<std::pair<std::string, std::uint16_t>, std::shared_ptr<SimListenerState>> listeners_;
    std::map<std::string, std::uint16_t> ephemeral_ports_;
    std::map<std::string, NodeIndex> hosts_;
    std::uint64_t next_connection_id_ = 1;
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
    SimWorld& world_;
    NodeIndex node_;
    std::string host_;
};

}  // namespace herald::sim
