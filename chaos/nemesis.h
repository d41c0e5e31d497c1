// Nemesis: turns a Scenario's fault plan (scripted schedule + random rates per type) into events
// in the cluster's world. Every fault is data (FaultType, targets, duration); applying one calls
// the sim/ fault API (faults.h) or the Cluster's process controls, and undoing it is scheduled
// when it starts. Its own choices come from a SplitMix64 of the run seed, apart from the world's
// Random, so a fault plan depends on the seed and the scenario only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "chaos/scenario.h"
#include "engine/io/io.h"
#include "sim/cluster.h"

namespace herald::chaos {

// A fault that fired, as a scripted fault could replay it (shrink turns these into a schedule).
struct FiredFault {
    Duration at{};
    FaultType type = FaultType::server_crash;
    std::vector<sim::NodeIndex> targets;
    Duration duration{};
    std::uint64_t detail = 0;  // The random draw that shaped it (skew, disk crash mode...).
};

// The client-side and server-side stale-detection bounds, derived from the ping settings.
//   client: it pings every ping_interval and gives up on the tick after max_pings_out unanswered
//           PINGs, so a silent server is noticed within ping_interval x (max_pings_out + 1).
//   server: its first PING waits up to 2.4 s, a tick is skipped after a read, and it closes on
//           the tick after ping_max unanswered ones: first ping + interval x (ping_max + 2).
// Both get a slack of 10% + 200 ms for latency and event ordering.
Duration client_stale_bound(const sim::ClientSpec& client);
Duration server_stale_bound(const sim::NodeSpec& node);

// Whether a fault other than `faults[self]` that could hold or release bytes between `a` and `b`
// (any fault touching either node but a clock fault) overlapped [from, to]. Stale-detection
// checks skip such windows: bytes held by an earlier partition and released later look like
// life to the receiver, so its silence starts later than the fault.
bool disturbed(const std::vector<sim::FaultRecord>& faults, std::size_t self, sim::NodeIndex a, sim::NodeIndex b,
               Instant from, Instant to);

class Nemesis {
public:
    // `enabled[type]` false: random faults of that type never fire (swarm testing).
    Nemesis(sim::Cluster& cluster, const Scenario& scenario, std::uint64_t seed,
            std::array<bool, fault_type_count> enabled);
    Nemesis(const Nemesis&) = delete;
    Nemesis& operator=(const Nemesis&) = delete;

    // Schedules the scripted faults and the first random one of each type (within duration).
    void start();
    // Stops new faults and undoes every active one: restarts crashed processes, resumes paused
    // ones, heals the network, resets clocks. Records history().heal_at.
    void heal();

    const std::vector<FiredFault>& fired() const { return fired_; }
    const std::array<std::uint64_t, fault_type_count>& counts() const { return counts_; }

private:
    // Server-side connections a silencing fault cut off, to probe later.
    struct Watched {
        std::uint32_t server = 0;
        sim::NodeIndex peer_node = 0;
        std::uint64_t generation = 0;
        std::vector<std::uint64_t> cids;
    };
    struct Active {
        std::size_t record = 0;  // Index in history().faults.
        FiredFault fault;
        bool undone = false;
        std::vector<Watched> watched;
    };

    void schedule_random(std::size_t index);
    void fire(FaultType type, std::vector<sim::NodeIndex> targets, Duration duration);
    std::vector<sim::NodeIndex> pick_targets(FaultType type, const std::vector<std::string>& names);
    bool apply(FiredFault& fault, sim::FaultRecord& record);
    void undo(std::size_t active);
    void probe_servers(std::size_t active);
    void add_silent(sim::FaultRecord& record, sim::NodeIndex a, sim::NodeIndex b,
                    bool a_silent, bool b_silent);
    bool is_server(sim::NodeIndex node) const { return node < cluster_.server_count(); }
    std::uint32_t client_of(sim::NodeIndex node) const;
    std::uint64_t uniform(std::uint64_t bound) { return random_.uniform(bound); }

    sim::Cluster& cluster_;
    const Scenario& scenario_;
    io::SplitMix64 random_;
    std::array<bool, fault_type_count> enabled_;
    bool healed_ = false;
    std::vector<Active> active_;
    std::vector<FiredFault> fired_;
    std::array<std::uint64_t, fault_type_count> counts_{};
};

}  // namespace herald::chaos
