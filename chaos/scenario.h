// Scenario: one simulator run as data, read from a JSON file (scenarios/README.md has the
// format): topology, node options, the client workload, faults (a scripted schedule and random
// rates per type), duration, the heal-and-settle bound and the checkers to run. Parsing never
// throws; a bad file gives one error naming the field, e.g. "clients[2].publish[0].rate: ...".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/time.h"
#include "sim/cluster.h"

namespace herald::chaos {

// Every fault a nemesis can inject. Targets: "n<i>" is server node i; a client name is that
// client's machine. Faults with a duration are undone when it ends (or at heal).
enum class FaultType : std::uint8_t {
    server_crash,         // kill -9 of a server (peers see a reset), restarted after `duration`.
    server_crash_silent,  // Power loss of a server: peers see nothing (half-open).
    server_pause,         // SIGSTOP for `duration`.
    client_crash,         // kill -9 of a client process, restarted after `duration`.
    client_pause,         // SIGSTOP of a client process.
    partition,            // Targets lose both directions to each other.
    partition_one_way,    // First target cannot reach the others.
    isolate,              // The target loses every link.
    bridge,               // Three targets a, b, c: a-c cut, both keep b.
    clog,                 // The link between two targets holds bytes for `duration`.
    slow_link,            // Link between two targets gets a slow tail (50% of segments + 50-500 ms).
    bandwidth,            // Link between two targets limited to 64 KiB/s.
    reset,                // Every connection between two targets is reset mid-frame.
    blackhole,            // Every connection between two targets silently loses all bytes.
    kick,                 // The server closes the target client's connections.
    clock_skew,           // The target's wall clock is off by up to +-10 s.
    clock_drift,          // The target's clocks run up to +-500 ppm fast or slow.
    clock_jump,           // The target's wall clock jumps by up to +-60 s.
    disk_crash,           // A server crashes with power loss (lose/keep some/tear unsynced).
    disk_corrupt,         // Bit flips, truncation or rollback of a server's durable files.
    disk_errors,          // A server's next syncs fail with EIO.
    disk_bitflip,         // One bit flipped at rest in each of a server's stream block files.
    disk_full,            // A server's disk has no space left (ENOSPC) for `duration`.
    count_,
};

inline constexpr std::size_t fault_type_count = static_cast<std::size_t>(FaultType::count_);

std::string_view fault_type_name(FaultType type);
std::optional<FaultType> fault_type_from_name(std::string_view name);
// How many targets a type takes when the nemesis picks them itself (random faults).
std::size_t fault_type_arity(FaultType type);

// One fault at a fixed time.
struct ScriptedFault {
    Duration at{};
    FaultType type = FaultType::server_crash;
    std::vector<std::string> targets;  // Empty: the nemesis picks, from the seed.
    Duration duration = Duration::seconds(1);
};

// Faults of one type at a random rate: each fires after an exponential-ish gap of mean
// 60 s / rate_per_minute, targets and duration drawn from the seed.
struct RandomFault {
    FaultType type = FaultType::server_crash;
    double rate_per_minute = 6.0;
    Duration duration_min = Duration::milliseconds(500);
    Duration duration_max = Duration::seconds(5);
    std::vector<std::string> targets;  // Empty: any eligible node.
};

enum class CheckerType : std::uint8_t {
    no_phantom,      // Nothing delivered that was never published (or was altered, misrouted).
    no_duplicate,    // No message twice to one subscription.
    order,           // Per publisher connection, in order to each subscriber connection.
    no_loss,         // Confirmed publishes reach every subscriber whose connection stayed up.
    reply_matches,   // Every reply answers the request it was returned for.
    queue_once,      // A queue group delivers a message at most once, exactly once when stable.
    stale_detected,  // Half-open connections are closed within the ping bound, on both sides.
    liveness,        // After heal every client reconnects and traffic flows within `settle`.
    // JetStream (history().streams: each stream read from its store after a final power loss).
    js_no_loss,       // Every PubAck'd message is stored at its seq, unless bit rot hit it.
    js_no_phantom,    // Every stored message was published, intact; errored ones are absent.
    js_consumer,      // No redelivery after a confirmed ack; every stored message gets acked.
    js_exactly_once,  // Each Nats-Msg-Id stored once and its ack confirmed at most once.
    count_,
};

inline constexpr std::size_t checker_type_count = static_cast<std::size_t>(CheckerType::count_);

std::string_view checker_type_name(CheckerType type);
std::optional<CheckerType> checker_type_from_name(std::string_view name);

// Test-only broker misbehaviours (config::Options::canaries) a scenario may switch on to prove
// that a checker catches them.
struct CanarySpec {
    bool drop_after_reconnect = false;
    bool duplicate_delivery = false;
    bool wrong_requester = false;
    bool keep_stale = false;
    bool ack_before_fsync = false;
    bool stop_at_damage = false;
    bool ack_failed_writes = false;
    bool skip_consumer_state = false;
    bool forget_dedup = false;
    bool any() const {
        return drop_after_reconnect || duplicate_delivery || wrong_requester || keep_stale || ack_before_fsync ||
               stop_at_damage || ack_failed_writes || skip_consumer_state || forget_dedup;
    }
};

struct Scenario {
    std::string name;
    std::string description;
    sim::ClusterSpec cluster;
    std::vector<ScriptedFault> schedule;
    std::vector<RandomFault> random;
    Duration duration = Duration::seconds(10);  // Faults happen within [0, duration).
    Duration settle = Duration::seconds(10);    // Heal, then liveness must hold within this.
    std::vector<CheckerType> checkers;          // Empty in the file: all of them.
    CanarySpec canaries;
    // Swarm: each random fault type is switched off with this probability per seed.
    double swarm_off_probability = 0.5;
};

// Parses and validates. On error, the message names the field.
struct ScenarioResult {
    std::optional<Scenario> scenario;
    std::string error;
};
ScenarioResult parse_scenario(std::string_view json_text);

// The scenario as JSON that parse_scenario reads back to an equal run (shrink writes this).
std::string scenario_to_json(const Scenario& scenario);

// "n0" → 0; a client name → its node (server count + client index). nullopt if unknown.
std::optional<sim::NodeIndex> resolve_target(const Scenario& scenario, std::string_view target);
std::string target_name(const Scenario& scenario, sim::NodeIndex node);

// "250ms", "2s", "1m", "100us".
std::optional<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration duration);

}  // namespace herald::chaos
