// Tests of the network fault model: partitions (symmetric, asymmetric, bridge) hold bytes and
// heal delivers them in order, clogs delay, bandwidth and the slow tail shape delivery times,
// resets cut a stream mid-frame, black holes and connects across partitions fail quietly.
#include <catch2/catch.hpp>
#include <string>

#include "engine/base/errc.h"
#include "sim/network.h"
#include "sim/node.h"
#include "tests/sim/stream_pair.h"

using herald::Duration;
using herald::Instant;
using herald::base::Errc;
using herald::sim::FaultKind;
using herald::sim::SimLinkOptions;
using herald::sim::SimWorld;
using herald::sim::SimWorldOptions;
using herald::sim::testing::StreamPair;
using herald::sim::testing::steps_max;
using herald::sim::testing::try_connect;

namespace {

// Fixed 1 ms links, no jitter: delivery times are exact.
SimWorldOptions fixed_latency() {
    SimWorldOptions options;
    options.network.link = SimLinkOptions{.latency_min = Duration::milliseconds(1),
                                          .latency_jitter = Duration{}};
    return options;
}

}  // namespace

// Goal: a partition neither loses nor errors: bytes wait and arrive in order after heal.
// Method: write before and during a partition, wait long, heal, compare what arrived.
TEST_CASE("sim network: a partition holds bytes and heal delivers them in order", "[sim][network][faults]") {
    SimWorld world(11, fixed_latency());
    world.add_node();
    world.add_node();
    StreamPair pair(world, 0, 1);
    pair.client_writer.send("one|");
    REQUIRE(world.run_until([&] { return pair.server_reader.received == "one|"; }, steps_max));

    world.network().partition({0}, {1});
    REQUIRE(world.network().blocked(0, 1));
    REQUIRE(world.network().blocked(1, 0));
    pair.client_writer.send("two|");
    pair.client_writer.send("three|");
    pair.server_writer.send("pong|");
    world.run_for(Duration::seconds(60));
    REQUIRE(pair.server_reader.received == "one|");
    REQUIRE(pair.client_reader.received.empty());
    REQUIRE(pair.client_writer.results.size() == 3);  // Writes complete: the bytes are queued.
    REQUIRE_FALSE(pair.server_reader.done());          // No error, no EOF: only silence.
    REQUIRE_FALSE(pair.client_reader.done());

    const Instant healed = world.now();
    world.network().heal();
    REQUIRE(world.run_until([&] { return pair.server_reader.received == "one|two|three|"; }, steps_max));
    REQUIRE(world.now() >= healed + Duration::milliseconds(1));
    REQUIRE(world.run_until([&] { return pair.client_reader.received == "pong|"; }, steps_max));
    const auto& stats = world.fault_stats();
    REQUIRE(stats[FaultKind::net_partition] == 2);
    REQUIRE(stats[FaultKind::net_heal] == 2);
    REQUIRE(stats[FaultKind::net_held_segment] == 2);  // One per direction.
}

// Goal: an asymmetric partition blocks one direction only.
TEST_CASE("sim network: an asymmetric partition blocks one direction", "[sim][network][faults]") {
    SimWorld world(12, fixed_latency());
    world.add_node();
    world.add_node();
    StreamPair pair(world, 0, 1);
    world.network().partition_one_way({1}, {0});  // Client (node 1) cannot reach the server.
    REQUIRE_FALSE(world.network().blocked(0, 1));
    pair.client_writer.send("PING\r\n");
    pair.server_writer.send("INFO {}\r\n");
    world.run_for(Duration::seconds(10));
    REQUIRE(pair.client_reader.received == "INFO {}\r\n");
    REQUIRE(pair.server_reader.received.empty());
    world.network().heal(1, 0);
    REQUIRE(world.run_until([&] { return pair.server_reader.received == "PING\r\n"; }, steps_max));
}

// Goal: a bridge partition is not transitive: A-B and B-C work, A-C does not.
// Method: three nodes, connections A-B, B-C and A-C, one message each way on each.
TEST_CASE("sim network: a bridge partition cuts A-C while B reaches both", "[sim][network][faults]") {
    SimWorld world(13, fixed_latency());
    for (int i = 0; i < 3; ++i) world.add_node();
    StreamPair ab(world, 1, 0, 4001);
    StreamPair bc(world, 2, 1, 4002);
    StreamPair ac(world, 2, 0, 4003);
    world.network().bridge({0}, {1}, {2});
    ab.client_writer.send("a->b");
    bc.client_writer.send("b->c");
    bc.server_writer.send("c->b");
    ac.client_writer.send("a->c");
    world.run_for(Duration::seconds(5));
    REQUIRE(ab.server_reader.received == "a->b");
    REQUIRE(bc.server_reader.received == "b->c");
    REQUIRE(bc.client_reader.received == "c->b");
    REQUIRE(ac.server_reader.received.empty());
    // A new connect from A to C times out; from A to B it works.
    const Instant start = world.now();
    auto failed = try_connect(world, 0, world.node(2).host() + ":4003");
    REQUIRE_FALSE(*failed);
    REQUIRE(failed->error() == Errc::timed_out);
    REQUIRE(world.now() == start + world.network().options().connect_timeout);
    auto works = try_connect(world, 0, world.node(1).host() + ":4001");
    REQUIRE(*works);
    REQUIRE(world.fault_stats()[FaultKind::net_connect_failed] == 1);
    world.network().heal();
    REQUIRE(world.run_until([&] { return ac.server_reader.received == "a->c"; }, steps_max));
}

// Goal: with partition_refuses_connect a connect across a partition is refused after a round
// trip; without a listener it is refused too, and a clog delays a SYN rather than failing it.
TEST_CASE("sim network: connects across a partition fail, across a clog they wait", "[sim][network][faults]") {
    SimWorldOptions options = fixed_latency();
    options.network.partition_refuses_connect = true;
    SimWorld world(14, options);
    world.add_node();
    world.add_node();
    auto listener = world.node(0).env().network.listen("0.0.0.0:4222", [](auto) {});
    REQUIRE(listener);
    world.network().partition_one_way({0}, {1});  // The answer cannot come back.
    const Instant start = world.now();
    auto refused = try_connect(world, 1, "10.0.0.1:4222");
    REQUIRE(refused->error() == Errc::connection_refused);
    REQUIRE(world.now() == start + Duration::milliseconds(2));
    world.network().heal();

    world.network().clog(0, 1, Duration::seconds(3));
    REQUIRE(world.network().clogged(1, 0));
    const Instant clogged = world.now();
    auto connected = try_connect(world, 1, "10.0.0.1:4222");
    REQUIRE(*connected);
    REQUIRE(world.now() >= clogged + Duration::seconds(3));
}

// Goal: a clog holds bytes for its duration, then delivers them in order, and ends by itself.
TEST_CASE("sim network: a clog delays bytes for its duration", "[sim][network][faults]") {
    SimWorld world(15, fixed_latency());
    world.add_node();
    world.add_node();
    StreamPair pair(world, 0, 1);
    const Instant start = world.now();
    world.network().clog_one_way(1, 0, Duration::seconds(2));
    pair.client_writer.send("a");
    pair.client_writer.send("b");
    pair.client_writer.send("c");
    REQUIRE(world.run_until([&] { return pair.server_reader.received == "abc"; }, steps_max));
    REQUIRE(world.now() >= start + Duration::seconds(2) + Duration::milliseconds(1));
    REQUIRE(world.now() <= start + Duration::seconds(2) + Duration::milliseconds(2));
    REQUIRE_FALSE(world.network().clogged(1, 0));
    const Instant later = world.now();
    pair.client_writer.send("d");
    REQUIRE(world.run_until([&] { return pair.server_reader.received == "abcd"; }, steps_max));
    REQUIRE(world.now() == later + Duration::milliseconds(1));
    REQUIRE(world.fault_stats()[FaultKind::net_clog] == 1);
}

// Goal: a link's bandwidth makes delivery time grow with size; writes stay in order.
// Method: 1 MB/s link; time a 10 kB and a 100 kB write from send to full arrival.
TEST_CASE("sim network: bandwidth delays a big write in proportion to its size", "[sim][network][faults]") {
    SimWorld world(16, fixed_latency());
    world.add_node();
    world.add_node();
    world.network().set_link(1, 0, SimLinkOptions{.latency_min = Duration::milliseconds(1),
                                                  .latency_jitter = Duration{},
                                                  .bandwidth_bytes_per_second = 1'000'000});
    StreamPair pair(world, 0, 1);
    auto time_write = [&](std::size_t size) {
        const std::size_t before = pair.server_reader.received.size();
        const Instant start = world.now();
        pair.client_writer.send(std::string(size, 'x'));
        REQUIRE(world.run_until([&] { return pair.server_reader.received.size() == before + size; }, steps_max));
        return world.now().since(start).ns;
    };
    REQUIRE(time_write(10'000) == 10'000'000 + 1'000'000);
    REQUIRE(time_write(100'000) == 100'000'000 + 1'000'000);
    // The other direction has no limit.
    const Instant start = world.now();
    pair.server_writer.send(std::string(100'000, 'y'));
    REQUIRE(world.run_until([&] { return pair.client_reader.received.size() == 100'000; }, steps_max));
    REQUIRE(world.now() == start + Duration::milliseconds(1));
}

// Goal: the slow tail delays some segments a lot, yet each connection stays in order.
// Method: 200 numbered writes on a link with a 20% slow tail; compare order; count slow ones.
TEST_CASE("sim network: the slow tail delays segments but keeps byte order", "[sim][network][faults]") {
    SimWorld world(17);
    world.add_node();
    world.add_node();
    world.network().set_link(1, 0, SimLinkOptions{.slow_probability = 0.2,
                                                  .slow_extra_min = Duration::milliseconds(100),
                                                  .slow_extra_max = Duration::milliseconds(300)});
    StreamPair pair(world, 0, 1);
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        const std::string record = std::to_string(i) + ",";
        expected += record;
        pair.client_writer.send(record);
    }
    REQUIRE(world.run_until([&] { return pair.server_reader.received.size() == expected.size(); }, steps_max));
    REQUIRE(pair.server_reader.received == expected);
    const auto slow = world.fault_stats()[FaultKind::net_slow_segment];
    REQUIRE(slow > 10);
    REQUIRE(slow < 100);
    REQUIRE(world.now() >= Instant{100'000'000});
}

// Goal: a reset mid-frame delivers a prefix of what was in flight, then both ends see a reset.
// Method: over many seeds, send a long frame on a slow link and reset while it travels.
TEST_CASE("sim network: a reset mid-frame gives the peer a prefix then an error", "[sim][network][faults]") {
    const std::string frame = "PUB orders.new 40\r\n" + std::string(40, 'p') + "\r\n";
    std::size_t shorter = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SimWorld world(seed, fixed_latency());
        world.add_node();
        world.add_node();
        StreamPair pair(world, 0, 1);
        world.network().set_link(1, 0, SimLinkOptions{.latency_min = Duration::milliseconds(50),
                                                      .latency_jitter = Duration{}});
        for (std::size_t at = 0; at < frame.size(); at += 7) pair.client_writer.send(frame.substr(at, 7));
        world.run_for(Duration::milliseconds(2));  // Every chunk is written and in flight.
        REQUIRE(pair.server_reader.received.empty());
        const auto connections = world.network().connections();
        REQUIRE(connections.size() == 1);
        REQUIRE(connections[0].client_node == 1);
        REQUIRE(world.network().reset_connection(connections[0].id));
        REQUIRE(world.run_until([&] { return pair.server_reader.done() && pair.client_reader.done(); }, steps_max));
        const std::string& got = pair.server_reader.received;
        REQUIRE(frame.compare(0, got.size(), got) == 0);  // A prefix.
        if (got.size() < frame.size()) ++shorter;
        REQUIRE(pair.server_reader.error == std::error_code(Errc::connection_reset));
        REQUIRE(pair.client_reader.error == std::error_code(Errc::connection_reset));
        REQUIRE_FALSE(pair.server_reader.eof);
        // Writes after the reset fail.
        pair.server_writer.send("late");
        REQUIRE(world.run_until([&] { return pair.server_writer.idle(); }, steps_max));
        REQUIRE(pair.server_writer.results.back().error() == Errc::connection_reset);
        REQUIRE(world.network().connections().empty());
        REQUIRE(world.fault_stats()[FaultKind::net_reset] == 1);
    }
    REQUIRE(shorter > 10);  // Most seeds cut the frame.
}

// Goal: a black-holed connection is half-open both ways: writes succeed, nothing arrives, no
// error, no EOF, ever; other connections are unaffected.
TEST_CASE("sim network: a black-holed connection stays silent", "[sim][network][faults]") {
    SimWorld world(18, fixed_latency());
    world.add_node();
    world.add_node();
    StreamPair pair(world, 0, 1, 4001);
    StreamPair other(world, 0, 1, 4002);
    const auto connections = world.network().connections();
    REQUIRE(connections.size() == 2);
    REQUIRE(connections[0].id < connections[1].id);
    REQUIRE(world.network().blackhole_connection(connections[0].id));
    pair.client_writer.send("PING\r\n");
    pair.server_writer.send("PING\r\n");
    other.client_writer.send("hello");
    world.run_for(Duration::seconds(600));
    REQUIRE(pair.client_writer.results.size() == 1);
    REQUIRE(pair.client_writer.results[0]);
    REQUIRE(pair.server_reader.received.empty());
    REQUIRE(pair.client_reader.received.empty());
    REQUIRE_FALSE(pair.server_reader.done());
    pair.client->close();  // Not even a FIN crosses.
    world.run_for(Duration::seconds(1));
    REQUIRE_FALSE(pair.server_reader.done());
    REQUIRE(other.server_reader.received == "hello");
    REQUIRE(world.fault_stats()[FaultKind::net_blackhole] == 1);
}

// Goal: isolate cuts a node from all others; heal(from, to) heals one direction only.
TEST_CASE("sim network: isolate and per-direction heal", "[sim][network][faults]") {
    SimWorld world(19, fixed_latency());
    for (int i = 0; i < 3; ++i) world.add_node();
    world.network().isolate(1);
    REQUIRE(world.network().blocked(0, 1));
    REQUIRE(world.network().blocked(1, 2));
    REQUIRE_FALSE(world.network().blocked(0, 2));
    REQUIRE_FALSE(world.network().blocked(1, 1));
    REQUIRE(world.fault_stats()[FaultKind::net_partition] == 4);
    world.network().heal(1, 0);
    REQUIRE_FALSE(world.network().blocked(1, 0));
    REQUIRE(world.network().blocked(0, 1));
}
