// herald-sim: the deterministic simulator as a command.
//
//   herald-sim run SCENARIO --seed N [--swarm] [--log FILE]
//   herald-sim swarm SCENARIO --seeds A..B [--report FILE] [--json FILE [--shrink N] [--runs N]]
//   herald-sim replay SCENARIO --seed N [--swarm] [--trace HASH] [--log FILE]
//   herald-sim shrink SCENARIO --seed N [--swarm] [--out FILE] [--runs N]
//   herald-sim check SCENARIO --seeds A..B [--canary]
//   herald-sim bench [--clients N] [--rate N] [--seconds N]
//
// check is what CI runs: every seed twice, the two runs must agree byte for byte (trace hash,
// log hash, log), and every seed must pass; with --canary at least one seed must fail instead.
//
// Every run is a pure function of (scenario, seed, swarm, commit). This file is the only place
// in sim/ and chaos/ that reads the wall clock, and only to report the simulator's speed.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "chaos/runner.h"
#include "chaos/scenario.h"
#include "engine/base/assert.h"

#ifndef HERALD_COMMIT
#define HERALD_COMMIT "unknown"
#endif

namespace {

using herald::chaos::RunOptions;
using herald::chaos::RunResult;
using herald::chaos::Scenario;

constexpr int exit_pass = 0;
constexpr int exit_fail = 1;
constexpr int exit_usage = 2;
constexpr std::uint64_t shrink_runs_default = 200;

const char* const usage_text =
    "usage:\n"
    "  herald-sim run SCENARIO --seed N [--swarm] [--log FILE]\n"
    "  herald-sim swarm SCENARIO --seeds A..B [--report FILE] [--json FILE [--shrink N] [--runs N]]\n"
    "  herald-sim replay SCENARIO --seed N [--swarm] [--trace HASH] [--log FILE]\n"
    "  herald-sim shrink SCENARIO --seed N [--swarm] [--out FILE] [--runs N]\n"
    "  herald-sim check SCENARIO --seeds A..B [--canary]\n"
    "  herald-sim bench [--clients N] [--rate N] [--seconds N]\n";

struct Args {
    std::string command;
    std::string scenario_path;
    std::optional<std::uint64_t> seed;
    std::uint64_t seed_first = 1;
    std::uint64_t seed_last = 0;
    bool swarm = false;
    bool canary = false;
    std::string log_path;
    std::string out_path;
    std::string report_path;
    std::string json_path;
    std::uint64_t shrink_failures = 0;  // swarm --json: failures to shrink (first ones).
    std::optional<std::uint64_t> trace;
    std::uint64_t runs = shrink_runs_default;
    std::uint64_t clients = 50;
    std::uint64_t rate = 1000;
    std::uint64_t seconds = 10;
};

std::optional<std::uint64_t> parse_u64(const std::string& text, int base = 10) {
    if (text.empty()) return std::nullopt;
    std::size_t used = 0;
    std::uint64_t value = 0;
    try {
        value = std::stoull(text, &used, base);
    } catch (...) {
        return std::nullopt;
    }
    if (used != text.size()) return std::nullopt;
    return value;
}

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
    Args args;
    std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty()) return std::nullopt;
    args.command = words[0];
    std::size_t i = 1;
    if (args.command != "bench") {
        if (words.size() < 2 || words[1].starts_with("--")) {
            error = "a SCENARIO file is required";
            return std::nullopt;
        }
        args.scenario_path = words[1];
        i = 2;
    }
    for (; i < words.size(); ++i) {
        const std::string& flag = words[i];
        const bool has_value = i + 1 < words.size();
        auto value = [&]() -> std::string { return has_value ? words[++i] : std::string(); };
        auto number = [&](std::uint64_t& out) {
            const auto parsed = parse_u64(value());
            if (!parsed) error = flag + " needs a number";
            if (parsed) out = *parsed;
        };
        if (flag == "--seed") {
            std::uint64_t seed = 0;
            number(seed);
            args.seed = seed;
        } else if (flag == "--seeds") {
            const std::string range = value();
            const auto dots = range.find("..");
            const auto first = dots == std::string::npos ? std::nullopt : parse_u64(range.substr(0, dots));
            const auto last = dots == std::string::npos ? std::nullopt : parse_u64(range.substr(dots + 2));
            if (!first || !last || *last < *first) {
                error = "--seeds needs A..B with A <= B";
            } else {
                args.seed_first = *first;
                args.seed_last = *last;
            }
        } else if (flag == "--swarm") {
            args.swarm = true;
        } else if (flag == "--canary") {
            args.canary = true;
        } else if (flag == "--log") {
            args.log_path = value();
        } else if (flag == "--out") {
            args.out_path = value();
        } else if (flag == "--report") {
            args.report_path = value();
        } else if (flag == "--json") {
            args.json_path = value();
        } else if (flag == "--shrink") {
            number(args.shrink_failures);
        } else if (flag == "--trace") {
            std::string text = value();
            if (text.starts_with("0x")) text = text.substr(2);
            args.trace = parse_u64(text, 16);
            if (!args.trace) error = "--trace needs a hex hash";
        } else if (flag == "--runs") {
            number(args.runs);
        } else if (flag == "--clients") {
            number(args.clients);
        } else if (flag == "--rate") {
            number(args.rate);
        } else if (flag == "--seconds") {
            number(args.seconds);
        } else {
            error = "unknown flag " + flag;
        }
        if (!error.empty()) return std::nullopt;
    }
    return args;
}

std::optional<Scenario> load(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        std::cerr << "herald-sim: cannot read " << path << "\n";
        return std::nullopt;
    }
    std::stringstream text;
    text << file.rdbuf();
    auto parsed = herald::chaos::parse_scenario(text.str());
    if (!parsed.scenario) {
        std::cerr << "herald-sim: " << path << ": " << parsed.error << "\n";
        return std::nullopt;
    }
    return std::move(parsed.scenario);
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    return static_cast<bool>(file);
}

std::string join_log(const RunResult& result) {
    std::string text;
    for (const std::string& line : result.log) text += line + "\n";
    return text;
}

void set_context(const std::string& scenario, std::uint64_t seed) {
    // ASSERT failures inside a run print this (STYLE.md: seed and commit).
    static std::string context;
    context = fmt::format("herald-sim run {} --seed {} (commit {})", scenario, seed, HERALD_COMMIT);
    herald::base::set_assert_context(context.c_str());
}

double wall_seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int command_run(const Args& args, const Scenario& scenario) {
    set_context(args.scenario_path, *args.seed);
    const auto start = std::chrono::steady_clock::now();
    const RunResult result = herald::chaos::run(scenario, {*args.seed, args.swarm, !args.log_path.empty()});
    const double wall = wall_seconds_since(start);
    std::cout << herald::chaos::format_report(result, scenario, args.scenario_path, HERALD_COMMIT);
    std::cout << fmt::format("speed: {:.1f} simulated s per wall s ({:.2f} s wall)\n",
                             static_cast<double>(result.end.ns) / 1e9 / wall, wall);
    if (!args.log_path.empty() && !write_file(args.log_path, join_log(result))) {
        std::cerr << "herald-sim: cannot write " << args.log_path << "\n";
    }
    return result.passed ? exit_pass : exit_fail;
}

int command_replay(const Args& args, const Scenario& scenario) {
    set_context(args.scenario_path, *args.seed);
    const RunOptions options{*args.seed, args.swarm, true};
    const RunResult first = herald::chaos::run(scenario, options);
    const RunResult second = herald::chaos::run(scenario, options);
    std::cout << herald::chaos::format_report(second, scenario, args.scenario_path, HERALD_COMMIT);
    const bool same = first.trace_hash == second.trace_hash && first.log_hash == second.log_hash &&
                      first.log == second.log;
    std::cout << fmt::format("replay: two runs {} (trace {:016x} / {:016x}, log {:016x} / {:016x}, {} lines)\n",
                             same ? "identical" : "DIFFER", first.trace_hash, second.trace_hash, first.log_hash,
                             second.log_hash, second.log.size());
    bool expected = true;
    if (args.trace) {
        expected = *args.trace == second.trace_hash;
        std::cout << fmt::format("replay: trace hash {} the expected {:016x}\n", expected ? "matches" : "DOES NOT match",
                                 *args.trace);
    }
    if (!args.log_path.empty()) write_file(args.log_path, join_log(second));
    return same && expected ? exit_pass : exit_fail;
}

// The swarm as JSON ("herald-sim-swarm/1", reports/README.md) for reports/chaos_report.py: per
// seed the verdict, trace, simulated time, faults by type, each checker's verdict, COVER hits,
// every violation and the replay command; the first `shrink_failures` failures are shrunk (each
// bounded by --runs) and written next to the JSON file.
nlohmann::json swarm_run_json(const Args& args, const Scenario& scenario, const RunResult& result) {
    using herald::chaos::checker_type_name;
    nlohmann::json run = {{"seed", result.seed},
                          {"passed", result.passed},
                          {"swarm", true},
                          {"trace", fmt::format("{:016x}", result.trace_hash)},
                          {"simulated_s", static_cast<double>(result.end.ns) / 1e9}};
    nlohmann::json faults = nlohmann::json::object();
    for (std::size_t i = 0; i < herald::chaos::fault_type_count; ++i) {
        if (result.faults[i] > 0) {
            faults[std::string(herald::chaos::fault_type_name(static_cast<herald::chaos::FaultType>(i)))] = result.faults[i];
        }
    }
    run["faults"] = faults;
    nlohmann::json checks = nlohmann::json::object();
    for (const auto checker : scenario.checkers) checks[std::string(checker_type_name(checker))] = "pass";
    nlohmann::json violations = nlohmann::json::array();
    for (const auto& v : result.violations) {
        checks[std::string(checker_type_name(v.checker))] = "fail";
        violations.push_back({{"checker", checker_type_name(v.checker)}, {"message", v.message},
                              {"at_s", static_cast<double>(v.at.ns) / 1e9}});
    }
    run["checks"] = checks;
    run["cover"] = result.cover;
    run["violations"] = violations;
    if (!result.passed) run["replay"] = fmt::format("herald-sim run {} --seed {} --swarm", args.scenario_path, result.seed);
    return run;
}

void shrink_into(const Args& args, const Scenario& scenario, nlohmann::json& run) {
    const std::uint64_t seed = run["seed"].get<std::uint64_t>();
    set_context(args.scenario_path, seed);
    const auto shrunk = herald::chaos::shrink(scenario, {seed, true, false}, args.runs, [](const std::string&) {});
    if (!shrunk.reproduced) return;
    const std::filesystem::path directory = std::filesystem::path(args.json_path).parent_path();
    const std::string name = fmt::format("{}-seed{}-shrunk.json", scenario.name, seed);
    const std::string text = herald::chaos::scenario_to_json(shrunk.smallest);
    if (!write_file((directory / name).string(), text)) std::cerr << "herald-sim: cannot write " << name << "\n";
    run["shrunk"] = {{"path", name}, {"runs", shrunk.runs}, {"scenario", nlohmann::json::parse(text, nullptr, false)}};
}

int command_swarm(const Args& args, const Scenario& scenario) {
    std::uint64_t failures = 0;
    nlohmann::json runs = nlohmann::json::array();
    std::string summary = fmt::format("# herald-sim swarm {} seeds {}..{} commit {}\n", args.scenario_path,
                                      args.seed_first, args.seed_last, HERALD_COMMIT);
    const auto start = std::chrono::steady_clock::now();
    double simulated = 0;
    for (std::uint64_t seed = args.seed_first; seed <= args.seed_last; ++seed) {
        set_context(args.scenario_path, seed);
        const RunResult result = herald::chaos::run(scenario, {seed, true, false});
        simulated += static_cast<double>(result.end.ns) / 1e9;
        if (!args.json_path.empty()) runs.push_back(swarm_run_json(args, scenario, result));
        std::string fired;
        for (std::size_t i = 0; i < herald::chaos::fault_type_count; ++i) {
            if (result.faults[i] > 0) {
                fired += fmt::format(" {}={}", herald::chaos::fault_type_name(static_cast<herald::chaos::FaultType>(i)),
                                     result.faults[i]);
            }
        }
        std::string line = fmt::format("seed {} {} trace {:016x} faults:{}", seed, result.passed ? "PASS" : "FAIL",
                                       result.trace_hash, fired.empty() ? " none" : fired);
        if (!result.passed) {
            ++failures;
            line += fmt::format("\n  [{}] {}\n  replay: herald-sim run {} --seed {} --swarm",
                                herald::chaos::checker_type_name(result.violations.front().checker),
                                result.violations.front().message, args.scenario_path, seed);
        }
        std::cout << line << std::endl;
        summary += line + "\n";
    }
    const std::uint64_t total = args.seed_last - args.seed_first + 1;
    const double wall = wall_seconds_since(start);
    const std::string tail = fmt::format("swarm: {} of {} seeds failed ({:.0f} simulated s in {:.1f} wall s)\n",
                                         failures, total, simulated, wall);
    std::cout << tail;
    summary += tail;
    if (!args.report_path.empty() && !write_file(args.report_path, summary)) {
        std::cerr << "herald-sim: cannot write " << args.report_path << "\n";
    }
    if (!args.json_path.empty()) {
        std::uint64_t shrunk = 0;
        for (auto& run : runs) {
            if (run["passed"].get<bool>() || shrunk >= args.shrink_failures) continue;
            shrink_into(args, scenario, run);
            ++shrunk;
        }
        nlohmann::json checkers = nlohmann::json::array();
        for (const auto checker : scenario.checkers) checkers.push_back(herald::chaos::checker_type_name(checker));
        const nlohmann::json out = {{"schema", "herald-sim-swarm/1"},
                                    {"scenario", args.scenario_path},
                                    {"scenario_name", scenario.name},
                                    {"commit", HERALD_COMMIT},
                                    {"seeds", {{"first", args.seed_first}, {"last", args.seed_last}}},
                                    {"wall_s", wall},
                                    {"simulated_s", simulated},
                                    {"checkers", checkers},
                                    {"runs", runs}};
        if (!write_file(args.json_path, out.dump(1) + "\n")) std::cerr << "herald-sim: cannot write " << args.json_path << "\n";
    }
    return failures == 0 ? exit_pass : exit_fail;
}

int command_check(const Args& args, const Scenario& scenario) {
    std::uint64_t failed = 0;
    std::uint64_t differ = 0;
    std::uint64_t first_failing = 0;
    for (std::uint64_t seed = args.seed_first; seed <= args.seed_last; ++seed) {
        set_context(args.scenario_path, seed);
        const RunResult first = herald::chaos::run(scenario, {seed, false, true});
        const RunResult second = herald::chaos::run(scenario, {seed, false, true});
        const bool same = first.trace_hash == second.trace_hash && first.log_hash == second.log_hash &&
                          first.log == second.log && first.passed == second.passed;
        differ += same ? 0 : 1;
        if (!first.passed && failed++ == 0) first_failing = seed;
        std::cout << fmt::format("seed {} {} trace {:016x} log {:016x} {}\n", seed, first.passed ? "PASS" : "FAIL",
                                 first.trace_hash, first.log_hash, same ? "replayed identically" : "REPLAY DIFFERS");
        if (!first.passed && !args.canary) {
            std::cout << herald::chaos::format_report(first, scenario, args.scenario_path, HERALD_COMMIT);
        }
    }
    const std::uint64_t total = args.seed_last - args.seed_first + 1;
    if (args.canary) {
        std::cout << fmt::format("canary {}: caught in {} of {} seeds (first at seed {})\n", scenario.name, failed, total,
                                 first_failing);
        return differ == 0 && failed > 0 ? exit_pass : exit_fail;
    }
    std::cout << fmt::format("check {}: {} of {} seeds failed, {} replays differed\n", scenario.name, failed, total, differ);
    return differ == 0 && failed == 0 ? exit_pass : exit_fail;
}

int command_shrink(const Args& args, const Scenario& scenario) {
    set_context(args.scenario_path, *args.seed);
    const auto result = herald::chaos::shrink(scenario, {*args.seed, args.swarm, false}, args.runs,
                                              [](const std::string& line) { std::cout << line << std::endl; });
    if (!result.reproduced) {
        std::cout << fmt::format("shrink: seed {} passes; nothing to shrink\n", *args.seed);
        return exit_usage;
    }
    const std::string out = args.out_path.empty() ? scenario.name + "-shrunk.json" : args.out_path;
    if (!write_file(out, herald::chaos::scenario_to_json(result.smallest))) {
        std::cerr << "herald-sim: cannot write " << out << "\n";
        return exit_usage;
    }
    std::cout << herald::chaos::format_report(result.last_failure, result.smallest, out, HERALD_COMMIT);
    std::cout << fmt::format("shrink: {} runs; {} faults, {} clients, {} nodes, duration {} -> {}\n", result.runs,
                             result.smallest.schedule.size(), result.smallest.cluster.clients.size(),
                             result.smallest.cluster.nodes.size(),
                             herald::chaos::format_duration(result.smallest.duration), out);
    return exit_fail;
}

// Simulator speed: one node, `clients` publishers (each also subscribed to its own subject) at
// `rate` publishes per simulated second in total, then the same cluster idle.
int command_bench(const Args& args) {
    auto measure = [&](std::uint64_t rate, const char* label) {
        Scenario scenario;
        scenario.name = "bench";
        scenario.cluster.nodes.resize(1);
        scenario.cluster.nodes[0].options.ping_interval = herald::Duration::seconds(120);
        for (std::uint64_t c = 0; c < args.clients; ++c) {
            herald::sim::ClientSpec client;
            client.name = fmt::format("c{}", c);
            client.servers = {0};
            client.ping_interval = herald::Duration::seconds(120);
            client.flush_interval = herald::Duration::seconds(1);
            if (rate > 0) client.publish.push_back({fmt::format("bench.{}", c % 10), std::max<std::uint64_t>(rate / args.clients, 1), 64});
            client.subscribe.push_back({fmt::format("bench.{}", c % 10), ""});
            scenario.cluster.clients.push_back(client);
        }
        scenario.duration = herald::Duration::seconds(args.seconds);
        scenario.settle = herald::Duration::seconds(1);
        scenario.checkers = {herald::chaos::CheckerType::no_duplicate};
        const auto start = std::chrono::steady_clock::now();
        const RunResult result = herald::chaos::run(scenario, {1, false, false});
        const double wall = wall_seconds_since(start);
        const double simulated = static_cast<double>(result.end.ns) / 1e9;
        std::uint64_t delivered = 0;
        const auto it = result.ops.find("deliver ok");
        if (it != result.ops.end()) delivered = it->second;
        std::cout << fmt::format("{}: {} clients, {} publishes/s: {:.1f} simulated s in {:.3f} wall s = {:.0f}x real "
                                 "time ({} steps, {} deliveries)\n",
                                 label, args.clients, rate, simulated, wall, simulated / wall, result.steps, delivered);
    };
    measure(args.rate, "load");
    measure(0, "idle");
    return exit_pass;
}

}  // namespace

int main(int argc, char** argv) {
    std::string error;
    const auto args = parse_args(argc, argv, error);
    if (!args) {
        if (!error.empty()) std::cerr << "herald-sim: " << error << "\n";
        std::cerr << usage_text;
        return exit_usage;
    }
    if (args->command == "bench") return command_bench(*args);
    const bool needs_seed = args->command == "run" || args->command == "replay" || args->command == "shrink";
    if (needs_seed && !args->seed) {
        std::cerr << "herald-sim: " << args->command << " needs --seed N\n" << usage_text;
        return exit_usage;
    }
    if ((args->command == "swarm" || args->command == "check") && args->seed_last < args->seed_first) {
        std::cerr << "herald-sim: swarm needs --seeds A..B\n" << usage_text;
        return exit_usage;
    }
    const auto scenario = load(args->scenario_path);
    if (!scenario) return exit_usage;
    if (args->command == "run") return command_run(*args, *scenario);
    if (args->command == "replay") return command_replay(*args, *scenario);
    if (args->command == "swarm") return command_swarm(*args, *scenario);
    if (args->command == "shrink") return command_shrink(*args, *scenario);
    if (args->command == "check") return command_check(*args, *scenario);
    std::cerr << "herald-sim: unknown command " << args->command << "\n" << usage_text;
    return exit_usage;
}
