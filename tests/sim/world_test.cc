// Tests of the simulator's scheduler: event order, time skipping, cancellation and node clocks.
#include "sim/world.h"

#include <catch2/catch.hpp>
#include <vector>

#include "sim/node.h"

using herald::Duration;
using herald::Instant;
using herald::sim::SimNode;
using herald::sim::SimWorld;

// Goal: timers fire in due order (ties in scheduling order) and time jumps over idle stretches.
// Method: schedule out of order on one node, step, and look at the clock seen by each timer.
TEST_CASE("sim world: timers fire in order and time skips ahead", "[sim][world]") {
    SimWorld world(1);
    SimNode& node = world.add_node();
    auto& env = node.env();
    std::vector<std::pair<int, std::uint64_t>> fired;
    auto record = [&](int label) { return [&, label] { fired.emplace_back(label, env.clock.monotonic().ns); }; };
    env.loop.schedule(Duration::seconds(3600), record(4));
    env.loop.schedule(Duration::milliseconds(5), record(2));
    env.loop.schedule(Duration::milliseconds(5), record(3));  // Same due time: after 2.
    env.loop.schedule(Duration::milliseconds(1), record(1));
    const auto cancelled = env.loop.schedule(Duration::milliseconds(2), record(9));
    env.loop.cancel(cancelled);
    env.loop.cancel(cancelled);  // No-op.
    env.loop.cancel(987654);     // Unknown: no-op.
    bool posted = false;
    env.loop.post([&] { posted = true; });
    REQUIRE_FALSE(posted);  // Never inline.

    REQUIRE(world.run_until([&] { return fired.size() == 4; }, 100));
    REQUIRE(posted);
    REQUIRE(fired == std::vector<std::pair<int, std::uint64_t>>{
                         {1, 1'000'000}, {2, 5'000'000}, {3, 5'000'000}, {4, 3'600'000'000'000}});
    REQUIRE(world.now() == Instant{3'600'000'000'000});
    REQUIRE(world.steps() == 5);  // The post and four timers; nothing in between.
    REQUIRE(world.idle());
    REQUIRE_FALSE(world.step());
}

// Goal: run_for runs exactly the events due within the window and then sets the clock.
TEST_CASE("sim world: run_for stops at the window's end", "[sim][world]") {
    SimWorld world(2);
    auto& env = world.add_node().env();
    int fired = 0;
    env.loop.schedule(Duration::milliseconds(10), [&] { ++fired; });
    env.loop.schedule(Duration::milliseconds(20), [&] { ++fired; });
    REQUIRE(world.run_for(Duration::milliseconds(10)) == 1);
    REQUIRE(fired == 1);
    REQUIRE(world.now() == Instant{10'000'000});
    REQUIRE(world.run_for(Duration::milliseconds(5)) == 0);
    REQUIRE(world.now() == Instant{15'000'000});
    REQUIRE(world.run_for(Duration::seconds(1)) == 1);
    REQUIRE(fired == 2);
}

// Goal: each node sees the world's time through its own offsets, and nodes' Randoms differ but
// depend only on the seed. Method: two worlds with one seed, two nodes each.
TEST_CASE("sim node: clock offsets and per-node seeded random", "[sim][world]") {
    SimWorld world(7);
    SimNode& a = world.add_node();
    SimNode& b = world.add_node();
    b.clock().realtime_offset_ns = -500;
    b.clock().monotonic_offset_ns = 1000;
    REQUIRE(b.env().clock.realtime_ns() == a.env().clock.realtime_ns() - 500);
    REQUIRE(b.env().clock.monotonic().ns == a.env().clock.monotonic().ns + 1000);
    REQUIRE(a.host() == "10.0.0.1");
    REQUIRE(b.host() == "10.0.0.2");

    SimWorld again(7);
    SimNode& a2 = again.add_node();
    const auto a_first = a.env().random.next_u64();
    REQUIRE(a_first == a2.env().random.next_u64());
    REQUIRE(a_first != b.env().random.next_u64());
}

// Goal: dropping a node's pending events (as a crash will) leaves other nodes' events alone.
TEST_CASE("sim world: cancel_node_events drops only that node's events", "[sim][world]") {
    SimWorld world(3);
    auto& a = world.add_node().env();
    auto& b = world.add_node().env();
    int a_fired = 0;
    int b_fired = 0;
    a.loop.schedule(Duration::milliseconds(1), [&] { ++a_fired; });
    a.loop.post([&] { ++a_fired; });
    b.loop.schedule(Duration::milliseconds(1), [&] { ++b_fired; });
    REQUIRE(world.cancel_node_events(0) == 2);
    world.run_for(Duration::seconds(1));
    REQUIRE(a_fired == 0);
    REQUIRE(b_fired == 1);
}
