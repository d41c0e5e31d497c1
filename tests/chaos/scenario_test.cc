// Scenario files: the committed ones parse, bad ones fail with the field named, and a scenario
// written back as JSON runs exactly as the original (shrink relies on it).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chaos/runner.h"
#include "chaos/scenario.h"

using herald::chaos::parse_scenario;

namespace {

std::string read(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

const char* const minimal = R"({"name": "t", "nodes": [{"count": 1}],
    "clients": [{"name": "p", "publish": [{"subject": "a", "rate": 10}]},
                {"name": "s", "subscribe": [{"subject": "a"}]}], "duration": "2s", "settle": "2s"})";

std::string error_of(const std::string& text) {
    const auto result = parse_scenario(text);
    REQUIRE(!result.scenario);
    return result.error;
}

}  // namespace

TEST_CASE("scenario: every committed scenario file parses", "[chaos][scenario]") {
    std::size_t count = 0;
    for (const auto* dir : {"scenarios", "scenarios/canaries"}) {
        for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(HERALD_SOURCE_DIR) / dir)) {
            if (entry.path().extension() != ".json") continue;
            const auto result = parse_scenario(read(entry.path()));
            INFO(entry.path().string() << ": " << result.error);
            REQUIRE(result.scenario);
            ++count;
        }
    }
    REQUIRE(count >= 7);
}

TEST_CASE("scenario: a bad file names the field at fault", "[chaos][scenario]") {
    REQUIRE(error_of("{") == "scenario: not valid JSON");
    REQUIRE(error_of(R"({"name": "t", "clients": []})") == "nodes: required array is missing");
    REQUIRE(error_of(R"({"name": "t", "nodes": [{"count": 0}], "clients": []})").starts_with("nodes[0].count: expected an integer"));
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "publish": [{"subject": "x", "rate": "fast"}]}]})")
                .starts_with("clients[0].publish[0].rate: expected an integer"));
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "servers": [3]}]})")
                .starts_with("clients[0].servers[0]: expected a node index below 1"));
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "subscribe": [{"subject": "x"}]}], "duration": "soon"})")
                .starts_with("duration: expected a duration"));
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "subscribe": [{"subject": "x"}]}],
                         "faults": {"random": [{"type": "meteor"}]}})") == "faults.random[0].type: unknown fault type 'meteor'");
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "subscribe": [{"subject": "x"}]}],
                         "faults": {"schedule": [{"at": "1s", "type": "kick", "targets": ["nobody"]}]}})")
                == "faults.schedule[0].targets[0]: expected \"n<index>\" or the name of a client");
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "subscribe": [{"subject": "x"}]}], "colour": 1})")
                == "colour: unknown field");
    REQUIRE(error_of(R"({"name": "t", "nodes": [{}], "clients": [{"name": "a", "subscribe": [{"subject": "x"}]}], "checkers": ["vibes"]})")
                == "checkers[0]: unknown checker");
}

TEST_CASE("scenario: client groups expand by count and all checkers run by default", "[chaos][scenario]") {
    const auto result = parse_scenario(R"({"name": "t", "nodes": [{"count": 2}],
        "clients": [{"name": "w", "count": 3, "subscribe": [{"subject": "x", "queue": "q"}]}]})");
    REQUIRE(result.scenario);
    const auto& clients = result.scenario->cluster.clients;
    REQUIRE(clients.size() == 3);
    REQUIRE(clients[2].name == "w2");
    REQUIRE(clients[0].servers == std::vector<std::uint32_t>{0, 1});
    REQUIRE(result.scenario->checkers.size() == herald::chaos::checker_type_count);
}

TEST_CASE("scenario: written back as JSON it runs the same", "[chaos][scenario]") {
    // Goal: shrink's output file replays its failure. Method: parse, write, parse, run both.
    auto original = parse_scenario(read(std::filesystem::path(HERALD_SOURCE_DIR) / "scenarios/reconnect-chaos.json"));
    REQUIRE(original.scenario);
    original.scenario->duration = herald::Duration::seconds(5);
    const auto again = parse_scenario(herald::chaos::scenario_to_json(*original.scenario));
    INFO(again.error);
    REQUIRE(again.scenario);
    const auto a = herald::chaos::run(*original.scenario, {7, false, false});
    const auto b = herald::chaos::run(*again.scenario, {7, false, false});
    REQUIRE(a.trace_hash == b.trace_hash);
    REQUIRE(a.log_hash == b.log_hash);
}
