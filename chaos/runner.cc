#include "chaos/runner.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/base/assert.h"
#include "sim/cluster.h"

namespace herald::chaos {
namespace {

constexpr std::uint64_t swarm_salt = 0x737761726d6d6978ULL;  // "swarmmix"
constexpr std::size_t last_events_max = 25;
// After the workload stops, flushes go on this long so the last publishes get confirmed.
constexpr Duration drain_time = Duration::seconds(2);
constexpr std::uint64_t collect_steps_max = 10'000'000;

std::string_view op_name(sim::Op op) {
    switch (op) {
        case sim::Op::publish: return "publish";
        case sim::Op::flush: return "flush";
        case sim::Op::deliver: return "deliver";
        case sim::Op::request: return "request";
        case sim::Op::respond: return "respond";
        case sim::Op::js_publish: return "js_publish";
        case sim::Op::js_deliver: return "js_deliver";
        case sim::Op::js_ack: return "js_ack";
    }
    return "?";
}

std::string_view outcome_name(sim::Outcome outcome) {
    switch (outcome) {
        case sim::Outcome::ok: return "ok";
        case sim::Outcome::fail: return "fail";
        case sim::Outcome::unknown: return "unknown";
    }
    return "?";
}

std::string seconds(Instant at) {
    return fmt::format("{}.{:06}s", at.ns / 1'000'000'000, (at.ns % 1'000'000'000) / 1000);
}

}  // namespace

std::array<bool, fault_type_count> swarm_mix(const Scenario& scenario, std::uint64_t seed) {
    std::array<bool, fault_type_count> enabled{};
    io::SplitMix64 random(seed ^ swarm_salt);
    const auto threshold = static_cast<std::uint64_t>(scenario.swarm_off_probability * 1000.0);
    std::vector<FaultType> present;
    for (const RandomFault& fault : scenario.random) present.push_back(fault.type);
    for (std::size_t i = 0; i < fault_type_count; ++i) {
        const bool on = random.uniform(1000) >= threshold;
        enabled[i] = on;
    }
    // At least one of the scenario's random types stays on.
    const bool any = std::any_of(present.begin(), present.end(), [&](FaultType t) { return enabled[static_cast<std::size_t>(t)]; });
    if (!any && !present.empty()) enabled[static_cast<std::size_t>(present[random.uniform(present.size())])] = true;
    return enabled;
}

RunResult run(const Scenario& scenario, const RunOptions& options) {
    const auto cover_before = base::cover_snapshot();
    RunResult result;
    result.seed = options.seed;
    result.swarm = options.swarm;
    result.enabled.fill(true);
    if (options.swarm) result.enabled = swarm_mix(scenario, options.seed);
    sim::Cluster cluster(options.seed, scenario.cluster);
    cluster.keep_log(true);
    Nemesis nemesis(cluster, scenario, options.seed, result.enabled);
    sim::SimWorld& world = cluster.world();
    cluster.note(fmt::format("run scenario={} seed={}{}", scenario.name, options.seed, options.swarm ? " swarm" : ""));
    cluster.start();
    nemesis.start();
    world.run_for(scenario.duration);
    nemesis.heal();
    world.run_for(scenario.settle);
    cluster.stop_workload();
    world.run_for(drain_time);
    if (!scenario.cluster.streams.empty()) {
        // JetStream: a final power loss of every server, then the settle time again (consumers
        // drain what is left), then read every stream from its store for the js checkers.
        for (std::uint32_t s = 0; s < cluster.server_count(); ++s) {
            if (!cluster.server_up(s)) continue;
            cluster.crash_server(s, sim::CrashOptions{.disk = sim::DiskCrash::lose_unsynced, .peers = sim::PeerView::reset});
            cluster.restart_server(s);
        }
        world.run_for(scenario.settle);
        cluster.collect_streams();
        const bool collected = world.run_until([&] { return cluster.streams_collected(); }, collect_steps_max);
        ASSERT(collected);
    }
    cluster.history().end = world.now();
    cluster.note("run ends");

    result.violations = check_all(cluster.history(), scenario);
    result.passed = result.violations.empty();
    result.trace_hash = world.trace_hash();
    result.log_hash = cluster.log_hash();
    result.log_lines = cluster.log_lines();
    result.steps = world.steps();
    result.end = world.now();
    result.faults = nemesis.counts();
    result.fired = nemesis.fired();
    result.sim_faults = world.fault_stats().to_string();
    for (const sim::Entry& e : cluster.history().entries) {
        ++result.ops[fmt::format("{} {}", op_name(e.op), outcome_name(e.outcome))];
    }
    for (const auto& [name, count] : base::cover_snapshot()) {
        const auto before = cover_before.find(name);
        const std::uint64_t earlier = before == cover_before.end() ? 0 : before->second;
        if (count > earlier) result.cover[name] = count - earlier;
    }
    Instant until = world.now();
    for (const Violation& v : result.violations) until = std::min(until, v.at);
    const auto& log = cluster.log();
    const auto& times = cluster.log_times();
    std::size_t stop = 0;
    while (stop < times.size() && times[stop] <= until) ++stop;
    for (std::size_t i = stop > last_events_max ? stop - last_events_max : 0; i < stop; ++i) {
        result.last_events.push_back(log[i]);
    }
    if (options.keep_log) result.log = log;
    return result;
}

std::string format_report(const RunResult& result, const Scenario& scenario, const std::string& scenario_path,
                          const std::string& commit) {
    std::string out;
    const std::string swarm = result.swarm ? " --swarm" : "";
    out += fmt::format("scenario {} seed {}{}: {}\n", scenario.name, result.seed, swarm, result.passed ? "PASS" : "FAIL");
    out += fmt::format("trace hash {:016x}  log hash {:016x} ({} lines)  sim time {}  steps {}\n", result.trace_hash,
                       result.log_hash, result.log_lines, seconds(result.end), result.steps);
    std::string fired;
    std::string off;
    for (std::size_t i = 0; i < fault_type_count; ++i) {
        if (result.faults[i] > 0) fired += fmt::format(" {}={}", fault_type_name(static_cast<FaultType>(i)), result.faults[i]);
    }
    for (const RandomFault& fault : scenario.random) {
        if (!result.enabled[static_cast<std::size_t>(fault.type)]) off += fmt::format(" {}", fault_type_name(fault.type));
    }
    out += fmt::format("faults fired:{}\n", fired.empty() ? " none" : fired);
    if (!off.empty()) out += fmt::format("faults off in this swarm seed:{}\n", off);
    out += fmt::format("sim fault events: {}\n", result.sim_faults);
    std::string ops;
    for (const auto& [name, count] : result.ops) ops += fmt::format(" {}={}", name, count);
    out += fmt::format("operations:{}\n", ops);
    out += fmt::format("cover points hit: {}\n", result.cover.size());
    for (const auto& [name, count] : result.cover) out += fmt::format("  {} x{}\n", name, count);
    if (result.passed) return out;
    out += fmt::format("\nFAILURE seed={} commit={}{}\n", result.seed, commit, swarm);
    for (const Violation& v : result.violations) {
        out += fmt::format("  [{}] at {}: {}\n", checker_type_name(v.checker), seconds(v.at), v.message);
    }
    out += fmt::format("last events before {}:\n", result.violations.empty() ? "the end" : seconds(result.violations.front().at));
    for (const std::string& line : result.last_events) out += fmt::format("  {}\n", line);
    out += fmt::format("replay: herald-sim run {} --seed {}{}\n", scenario_path, result.seed, swarm);
    return out;
}

Scenario scripted(const Scenario& scenario, const std::vector<FiredFault>& fired) {
    Scenario out = scenario;
    out.random.clear();
    out.schedule.clear();
    for (const FiredFault& fault : fired) {
        ScriptedFault step;
        step.at = fault.at;
        step.type = fault.type;
        step.duration = fault.duration.ns == 0 ? Duration::milliseconds(1) : fault.duration;
        for (const sim::NodeIndex node : fault.targets) step.targets.push_back(target_name(scenario, node));
        out.schedule.push_back(std::move(step));
    }
    return out;
}

namespace {

// Candidate reductions of a scenario, smallest first within each kind.
class Shrinker {
public:
    Shrinker(const RunOptions& options, std::uint64_t runs_max, const std::function<void(const std::string&)>& progress)
        : options_(options), runs_max_(runs_max), progress_(progress) {}

    // Keeps `candidate` if it still fails.
    bool attempt(Scenario& current, Scenario candidate, std::string_view what) {
        if (runs_ >= runs_max_) return false;
        ++runs_;
        RunResult result = run(candidate, options_);
        if (result.passed) return false;
        current = std::move(candidate);
        last_failure_ = std::move(result);
        if (progress_) {
            progress_(fmt::format("shrink: {} (faults {}, clients {}, nodes {}, duration {})", what,
                                  current.schedule.size(), current.cluster.clients.size(),
                                  current.cluster.nodes.size(), format_duration(current.duration)));
        }
        return true;
    }

    bool faults(Scenario& current) {
        bool progress = false;
        for (std::size_t chunk = std::max<std::size_t>(current.schedule.size() / 2, 1); chunk >= 1; chunk /= 2) {
            for (std::size_t start = 0; start < current.schedule.size();) {
                Scenario candidate = current;
                const std::size_t end = std::min(start + chunk, candidate.schedule.size());
                candidate.schedule.erase(candidate.schedule.begin() + static_cast<std::ptrdiff_t>(start),
                                         candidate.schedule.begin() + static_cast<std::ptrdiff_t>(end));
                if (attempt(current, std::move(candidate), fmt::format("dropped {} fault(s)", end - start))) {
                    progress = true;
                } else {
                    start += chunk;
                }
            }
            if (chunk == 1) break;
        }
        return progress;
    }

    bool clients(Scenario& current) {
        bool progress = false;
        for (std::size_t i = current.cluster.clients.size(); i-- > 0;) {
            if (current.cluster.clients.size() <= 1 || i >= current.cluster.clients.size()) continue;
            Scenario candidate = current;
            const std::string name = candidate.cluster.clients[i].name;
            candidate.cluster.clients.erase(candidate.cluster.clients.begin() + static_cast<std::ptrdiff_t>(i));
            drop_faults_on(candidate, name);
            progress = attempt(current, std::move(candidate), fmt::format("dropped client {}", name)) || progress;
        }
        return progress;
    }

    bool streams(Scenario& current) {
        bool progress = false;
        for (std::size_t c = 0; c < current.cluster.clients.size(); ++c) {
            progress = drop_each(current, c, &sim::ClientSpec::publish, "publish") || progress;
            progress = drop_each(current, c, &sim::ClientSpec::subscribe, "subscribe") || progress;
            progress = drop_each(current, c, &sim::ClientSpec::request, "request") || progress;
            progress = drop_each(current, c, &sim::ClientSpec::respond, "respond") || progress;
        }
        return progress;
    }

    bool nodes(Scenario& current) {
        if (current.cluster.nodes.size() <= 1) return false;
        Scenario candidate = current;
        const auto last = static_cast<std::uint32_t>(candidate.cluster.nodes.size() - 1);
        candidate.cluster.nodes.pop_back();
        for (auto& client : candidate.cluster.clients) {
            std::erase(client.servers, last);
            if (client.servers.empty()) return false;
        }
        drop_faults_on(candidate, fmt::format("n{}", last));
        return attempt(current, std::move(candidate), fmt::format("dropped node n{}", last));
    }

    bool duration(Scenario& current) {
        Duration needed{1'000'000'000};
        for (const ScriptedFault& fault : current.schedule) needed = std::max(needed, fault.at + Duration::milliseconds(1));
        if (needed >= current.duration) return false;
        Scenario candidate = current;
        candidate.duration = std::max(needed, Duration{current.duration.ns / 2});
        if (candidate.duration >= current.duration) return false;
        return attempt(current, std::move(candidate), fmt::format("duration {}", format_duration(candidate.duration)));
    }

    std::uint64_t runs() const { return runs_; }
    RunResult& last_failure() { return last_failure_; }
    void set_last_failure(RunResult result) { last_failure_ = std::move(result); }

private:
    static void drop_faults_on(Scenario& scenario, const std::string& name) {
        std::erase_if(scenario.schedule, [&](const ScriptedFault& fault) {
            return std::find(fault.targets.begin(), fault.targets.end(), name) != fault.targets.end();
        });
        for (auto& fault : scenario.random) std::erase(fault.targets, name);
    }

    template <typename T>
    bool drop_each(Scenario& current, std::size_t c, std::vector<T> sim::ClientSpec::*field, std::string_view what) {
        bool progress = false;
        for (std::size_t i = (current.cluster.clients[c].*field).size(); i-- > 0;) {
            Scenario candidate = current;
            auto& items = candidate.cluster.clients[c].*field;
            if (i >= items.size()) continue;
            items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
            const sim::ClientSpec& client = candidate.cluster.clients[c];
            if (client.publish.empty() && client.subscribe.empty() && client.request.empty() && client.respond.empty()) continue;
            progress = attempt(current, std::move(candidate), fmt::format("dropped a {} of {}", what, client.name)) || progress;
        }
        return progress;
    }

    RunOptions options_;
    std::uint64_t runs_max_;
    const std::function<void(const std::string&)>& progress_;
    std::uint64_t runs_ = 0;
    RunResult last_failure_;
};

}  // namespace

ShrinkResult shrink(const Scenario& scenario, const RunOptions& options, std::uint64_t runs_max,
                    const std::function<void(const std::string&)>& progress) {
    ShrinkResult out;
    RunResult first = run(scenario, options);
    out.runs = 1;
    if (first.passed) return out;
    out.reproduced = true;
    // Start from the fired faults as a script (random plan off); if that no longer fails, keep
    // the random plan and shrink the rest.
    Scenario current = scenario;
    RunOptions fixed = options;
    std::uint64_t runs = 0;
    if (!scenario.random.empty() || options.swarm) {
        RunOptions plain = options;
        plain.swarm = false;
        Scenario candidate = scripted(scenario, first.fired);
        RunResult again = run(candidate, plain);
        ++runs;
        if (!again.passed) {
            current = std::move(candidate);
            fixed = plain;
            first = std::move(again);
            if (progress) progress("shrink: the fired faults as a script still fail");
        }
    }
    Shrinker shrinker(fixed, runs_max, progress);
    shrinker.set_last_failure(first);
    for (bool smaller = true; smaller && shrinker.runs() < runs_max;) {
        smaller = false;
        smaller = shrinker.faults(current) || smaller;
        smaller = shrinker.duration(current) || smaller;
        smaller = shrinker.clients(current) || smaller;
        smaller = shrinker.nodes(current) || smaller;
        smaller = shrinker.streams(current) || smaller;
    }
    out.smallest = std::move(current);
    out.smallest.name = scenario.name + "-shrunk";
    out.smallest.description = fmt::format("Shrunk from {} seed {} by herald-sim shrink.", scenario.name, options.seed);
    out.last_failure = std::move(shrinker.last_failure());
    out.runs = 1 + runs + shrinker.runs();
    return out;
}

}  // namespace herald::chaos
