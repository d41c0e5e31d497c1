#include "engine/base/log.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/io.h"

using herald::base::LogBackend;
using herald::base::Logger;
using herald::base::LogLevel;

TEST_CASE("log: lines carry time from the injected clock, level and prefix", "[base][log]") {
    auto backend = std::make_shared<LogBackend>();
    std::vector<std::string> lines;
    backend->now_ns = [] { return std::int64_t{1'700'000'000'123'456'789}; };
    backend->sink = [&](LogLevel, std::string_view line) { lines.emplace_back(line); };
    Logger root(backend, "n1");
    Logger child = root.child("cid=7");
    LOG_INFO(child, "hello {}", 42);
    LOG_DEBUG(child, "hidden {}", 1);
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0] == "[2023/11/14 22:13:20.123456] [INF] [n1 cid=7] hello 42");
}

TEST_CASE("random: splitmix64 is deterministic and uniform() stays in bounds", "[base][random]") {
    herald::io::SplitMix64 a(7);
    herald::io::SplitMix64 b(7);
    for (int i = 0; i < 100; ++i) REQUIRE(a.next_u64() == b.next_u64());
    for (int i = 0; i < 1000; ++i) REQUIRE(a.uniform(13) < 13);
}
