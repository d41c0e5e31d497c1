// Runner: one simulator run of a Scenario with a seed (build the Cluster, start the workload and
// the nemesis, heal, settle, check), the swarm over a range of seeds, and the shrinker that
// reduces a failing run to a smaller scenario that still fails. herald-sim and tests/chaos use
// it; it reads no wall clock, so a (scenario, seed, swarm) triple always gives the same result.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "chaos/checkers.h"
#include "chaos/nemesis.h"
#include "chaos/scenario.h"

namespace herald::chaos {

struct RunOptions {
    std::uint64_t seed = 1;
    // Swarm testing: switch random fault types off per seed (Scenario::swarm_off_probability).
    bool swarm = false;
    bool keep_log = false;  // Keep every log line in RunResult::log.
};

struct RunResult {
    bool passed = true;
    std::uint64_t seed = 0;
    bool swarm = false;
    std::uint64_t trace_hash = 0;  // SimWorld::trace_hash at the end.
    std::uint64_t log_hash = 0;    // FNV-1a over every log line.
    std::uint64_t log_lines = 0;
    std::uint64_t steps = 0;
    Instant end{};
    std::vector<Violation> violations;
    std::array<bool, fault_type_count> enabled{};  // Random fault types on in this run.
    std::array<std::uint64_t, fault_type_count> faults{};  // Fired, by type.
    std::string sim_faults;  // The world's FaultStats ("net_partition=4 ...").
    std::vector<FiredFault> fired;
    std::map<std::string, std::uint64_t> ops;    // "publish ok" -> count.
    std::map<std::string, std::uint64_t> cover;  // COVER hits during this run.
    std::vector<std::string> last_events;        // Before the first violation (or the end).
    std::vector<std::string> log;                // keep_log only.
};

// Which random fault types a swarm seed keeps.
std::array<bool, fault_type_count> swarm_mix(const Scenario& scenario, std::uint64_t seed);

RunResult run(const Scenario& scenario, const RunOptions& options);

// Human-readable report: verdict, hashes, summary; for a failure the seed, commit, failing
// checks, the last events before the first one, and the command that replays it.
std::string format_report(const RunResult& result, const Scenario& scenario, const std::string& scenario_path,
                          const std::string& commit);

// The scenario a run's fired faults make when scripted (random faults off): shrink starts here.
Scenario scripted(const Scenario& scenario, const std::vector<FiredFault>& fired);

struct ShrinkResult {
    bool reproduced = false;  // The original run failed.
    Scenario smallest;
    RunResult last_failure;
    std::uint64_t runs = 0;
};

// Delta-debugging over the fault schedule, the clients, the workload streams, the nodes and the
// duration; keeps each step that still fails (any checker). Bounded by `runs_max` runs.
ShrinkResult shrink(const Scenario& scenario, const RunOptions& options, std::uint64_t runs_max,
                    const std::function<void(const std::string&)>& progress);

}  // namespace herald::chaos
