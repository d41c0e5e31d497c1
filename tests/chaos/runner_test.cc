// Whole runs: determinism (one seed, one trace and byte-identical logs; another seed, another
// trace), canaries caught, and the shrinker producing a smaller scenario that still fails.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chaos/runner.h"
#include "chaos/scenario.h"

using herald::chaos::RunOptions;
using herald::chaos::Scenario;

namespace {

Scenario load(const char* relative) {
    std::ifstream file(std::filesystem::path(HERALD_SOURCE_DIR) / relative);
    std::stringstream text;
    text << file.rdbuf();
    auto parsed = herald::chaos::parse_scenario(text.str());
    INFO(parsed.error);
    REQUIRE(parsed.scenario);
    return *parsed.scenario;
}

}  // namespace

TEST_CASE("runner: one seed gives one trace hash and byte-identical logs", "[chaos][runner][sim]") {
    const Scenario scenario = load("scenarios/reconnect-chaos.json");
    const auto a = herald::chaos::run(scenario, {11, true, true});
    const auto b = herald::chaos::run(scenario, {11, true, true});
    REQUIRE(a.trace_hash == b.trace_hash);
    REQUIRE(a.log_hash == b.log_hash);
    REQUIRE(a.log == b.log);
    REQUIRE(a.log.size() > 20);
    REQUIRE(a.passed);
}

TEST_CASE("runner: a different seed changes the trace hash", "[chaos][runner][sim]") {
    const Scenario scenario = load("scenarios/reconnect-chaos.json");
    const auto a = herald::chaos::run(scenario, {1, false, false});
    const auto b = herald::chaos::run(scenario, {2, false, false});
    REQUIRE(a.trace_hash != b.trace_hash);
    REQUIRE(a.log_hash != b.log_hash);
}

TEST_CASE("runner: swarm seeds switch some fault types off", "[chaos][runner]") {
    const Scenario scenario = load("scenarios/reconnect-chaos.json");
    bool some_off = false;
    bool differ = false;
    const auto first = herald::chaos::swarm_mix(scenario, 1);
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        const auto mix = herald::chaos::swarm_mix(scenario, seed);
        for (const auto& fault : scenario.random) some_off = some_off || !mix[static_cast<std::size_t>(fault.type)];
        differ = differ || mix != first;
    }
    REQUIRE(some_off);
    REQUIRE(differ);
}

TEST_CASE("runner: a failure reports seed, commit, check, last events and the replay command", "[chaos][runner]") {
    const Scenario scenario = load("scenarios/canaries/duplicate-delivery.json");
    const auto result = herald::chaos::run(scenario, {1, false, false});
    REQUIRE(!result.passed);
    const std::string report = herald::chaos::format_report(result, scenario, "dup.json", "abc123");
    REQUIRE(report.find("FAILURE seed=1 commit=abc123") != std::string::npos);
    REQUIRE(report.find("[no_duplicate]") != std::string::npos);
    REQUIRE(report.find("last events before") != std::string::npos);
    REQUIRE(report.find("replay: herald-sim run dup.json --seed 1") != std::string::npos);
    REQUIRE(result.cover.count("canary: duplicate delivery") == 1);
}

TEST_CASE("runner: shrink reduces a failing run to a smaller scenario that still fails", "[chaos][runner][sim]") {
    // Goal: shrink's output is a smaller regression test. Method: shrink the drop-after-reconnect
    // canary (random kicks and resets over 11 clients), then run the result.
    const Scenario scenario = load("scenarios/canaries/drop-after-reconnect.json");
    const auto result = herald::chaos::shrink(scenario, {1, false, false}, 80, nullptr);
    REQUIRE(result.reproduced);
    REQUIRE(result.smallest.random.empty());
    REQUIRE(result.smallest.cluster.clients.size() < scenario.cluster.clients.size());
    const auto again = herald::chaos::parse_scenario(herald::chaos::scenario_to_json(result.smallest));
    REQUIRE(again.scenario);
    REQUIRE(!herald::chaos::run(*again.scenario, {1, false, false}).passed);
}
