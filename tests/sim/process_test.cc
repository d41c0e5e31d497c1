// Tests of process faults and node clocks: crash (peers see a reset or nothing), restart from
// the disk, pause and resume, clock skew, drift and jumps, and replay of a faulty run by seed.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/base/errc.h"
#include "sim/node.h"
#include "tests/sim/stream_pair.h"

using herald::Duration;
using herald::Instant;
using herald::Status;
using herald::base::Errc;
using herald::sim::CrashOptions;
using herald::sim::DiskCrash;
using herald::sim::FaultKind;
using herald::sim::NodeState;
using herald::sim::PeerView;
using herald::sim::SimLinkOptions;
using herald::sim::SimNode;
using herald::sim::SimNodeOptions;
using herald::sim::SimWorld;
using herald::sim::SimWorldOptions;
using herald::sim::testing::StreamPair;
using herald::sim::testing::steps_max;
using herald::sim::testing::try_connect;

namespace {

SimWorldOptions fixed_latency() {
    SimWorldOptions options;
    options.network.link = SimLinkOptions{.latency_min = Duration::milliseconds(1),
                                          .latency_jitter = Duration{}};
    return options;
}

}  // namespace

// Goal: kill -9 with the kernel alive: the peer reads what was in flight, then a reset; its
// writes then fail; connects are refused; the crashed node's timers never fire; after restart a
// new process listens on the same port and the disk kept what was synced (or cached, per mode).
TEST_CASE("sim process: a crash resets the peers and a restart starts from the disk", "[sim][process][faults]") {
    SimWorld world(31, fixed_latency());
    SimNode& server_node = world.add_node();
    world.add_node();
    auto pair = std::make_unique<StreamPair>(world, 0, 1);
    bool timer_fired = false;
    server_node.env().loop.schedule(Duration::seconds(1), [&] { timer_fired = true; });
    pair->server_writer.send("MSG a 1 2\r\nhi\r\n");
    world.run_for(Duration::microseconds(10));  // Written, still in flight.
    auto& fs = server_node.file_system();
    REQUIRE(fs.make_directories("/data"));
    auto file = fs.open("/data/log", true);
    REQUIRE(file);
    (*file)->write_at(0, std::as_bytes(std::span<const char>("unsynced", 8)), [](Status) {});

    world.crash_node(0, CrashOptions{.disk = DiskCrash::lose_unsynced, .peers = PeerView::reset});
    REQUIRE(world.node_state(0) == NodeState::crashed);
    REQUIRE(world.run_until([&] { return pair->client_reader.done(); }, steps_max));
    REQUIRE(pair->client_reader.received == "MSG a 1 2\r\nhi\r\n");
    REQUIRE(pair->client_reader.error == std::error_code(Errc::connection_reset));
    pair->client_writer.send("PUB x 0\r\n\r\n");
    REQUIRE(world.run_until([&] { return pair->client_writer.idle(); }, steps_max));
    REQUIRE(pair->client_writer.results.back().error() == Errc::connection_reset);
    auto refused = try_connect(world, 1, "10.0.0.1:4222");
    REQUIRE(refused->error() == Errc::connection_refused);
    world.run_for(Duration::seconds(5));
    REQUIRE_FALSE(timer_fired);
    REQUIRE(world.fault_stats()[FaultKind::process_crash] == 1);
    REQUIRE(world.fault_stats()[FaultKind::net_reset] == 1);

    // The dead process's objects go; what they do on the way out is ignored.
    (*file)->write_at(0, std::as_bytes(std::span<const char>("zombie", 6)), [](Status) {});
    REQUIRE(fs.open("/data/other", true).error() == Errc::io_error);
    REQUIRE_FALSE(server_node.env().network.listen("0.0.0.0:5000", [](auto) {}));
    file->reset();
    std::unique_ptr<herald::io::Listener> old_listener = std::move(pair->listener);
    pair.reset();
    server_node.env().loop.post([&] { timer_fired = true; });
    world.run_for(Duration::seconds(1));
    REQUIRE_FALSE(timer_fired);

    world.restart_node(0);
    REQUIRE(world.node_state(0) == NodeState::up);
    REQUIRE(fs.list("/data")->empty());  // The unsynced name was lost with the power.
    StreamPair again(world, 0, 1);       // Same port while the old listener object lives.
    old_listener.reset();                // And its late destruction does not unbind the new one.
    again.client_writer.send("PING\r\n");
    REQUIRE(world.run_until([&] { return again.server_reader.received == "PING\r\n"; }, steps_max));
    REQUIRE(world.fault_stats()[FaultKind::process_restart] == 1);
}

// Goal: a silent crash (machine gone) leaves peers half-open: no reset, no EOF, writes succeed;
// connects time out. Only the peer's own timeout (here: a test timer) can tell.
TEST_CASE("sim process: a silent crash leaves peers with half-open connections", "[sim][process][faults]") {
    SimWorld world(32, fixed_latency());
    world.add_node();
    world.add_node();
    StreamPair pair(world, 0, 1);
    world.crash_node(0, CrashOptions{.disk = DiskCrash::keep_unsynced, .peers = PeerView::silent});
    pair.client_writer.send("PING\r\n");
    world.run_for(Duration::seconds(300));
    REQUIRE_FALSE(pair.client_reader.done());
    REQUIRE(pair.client_writer.results.size() == 1);
    REQUIRE(pair.client_writer.results[0]);
    const Instant start = world.now();
    auto timed_out = try_connect(world, 1, "10.0.0.1:4222");
    REQUIRE(timed_out->error() == Errc::timed_out);
    REQUIRE(world.now() == start + world.network().options().connect_timeout);
    REQUIRE(world.fault_stats()[FaultKind::net_blackhole] == 1);
}

// Goal: a paused node runs nothing (timers, deliveries) while others run and time passes; on
// resume its events run in their original order and the bytes sent to it arrive.
TEST_CASE("sim process: pause defers a node's events and resume runs them in order", "[sim][process][faults]") {
    SimWorld world(33, fixed_latency());
    SimNode& paused = world.add_node();
    SimNode& other = world.add_node();
    StreamPair pair(world, 0, 1);
    std::vector<int> fired;
    paused.env().loop.schedule(Duration::milliseconds(500), [&] { fired.push_back(2); });
    paused.env().loop.schedule(Duration::milliseconds(100), [&] { fired.push_back(1); });
    const auto cancelled = paused.env().loop.schedule(Duration::milliseconds(200), [&] { fired.push_back(9); });
    bool other_fired = false;
    other.env().loop.schedule(Duration::seconds(1), [&] { other_fired = true; });

    world.pause_node(0);
    REQUIRE(world.node_state(0) == NodeState::paused);
    paused.env().loop.schedule(Duration::milliseconds(50), [&] { fired.push_back(0); });  // Set aside too.
    paused.env().loop.cancel(cancelled);  // Cancel works on set-aside events.
    pair.client_writer.send("PING\r\n");
    world.run_for(Duration::seconds(2));
    REQUIRE(fired.empty());
    REQUIRE(other_fired);
    REQUIRE(pair.server_reader.received.empty());
    REQUIRE(world.paused_events() >= 3);
    REQUIRE(paused.env().clock.monotonic() >= Instant{2'000'000'000});  // Its clock kept going.

    world.resume_node(0);
    REQUIRE(world.paused_events() == 0);
    world.run_for(Duration::milliseconds(1));
    REQUIRE(fired == std::vector<int>{0, 1, 2});  // Due order (50, 100, 500 ms), all overdue.
    REQUIRE(pair.server_reader.received == "PING\r\n");
    REQUIRE(world.fault_stats()[FaultKind::process_pause] == 1);
    REQUIRE(world.fault_stats()[FaultKind::process_resume] == 1);
}

// Goal: skew offsets the wall clock, drift changes the clocks' rate (and the node's timers with
// it), a jump moves the wall clock either way while monotonic time never goes back.
TEST_CASE("sim clock: skew, drift and jumps are visible through the node's Clock", "[sim][clock][faults]") {
    SimWorld world(34);
    SimNode& plain = world.add_node();
    SimNodeOptions options;
    options.clock = {.skew_ns = 3'000'000'000, .drift_ppm = 100'000};
    SimNode& fast = world.add_node(options);
    auto& clock = fast.clock();
    REQUIRE(fast.env().clock.realtime_ns() == plain.env().clock.realtime_ns() + 3'000'000'000);

    world.run_for(Duration::seconds(10));
    REQUIRE(plain.env().clock.monotonic() == Instant{10'000'000'000});
    REQUIRE(fast.env().clock.monotonic() == Instant{11'000'000'000});  // 10% fast.
    REQUIRE(fast.env().clock.realtime_ns() - plain.env().clock.realtime_ns() == 4'000'000'000);

    // An 11 s timer on the fast node fires after 10 s of world time.
    Instant fired_at{};
    fast.env().loop.schedule(Duration::seconds(11), [&] { fired_at = world.now(); });
    world.run_for(Duration::seconds(20));
    REQUIRE(fired_at.ns >= 20'000'000'000);
    REQUIRE(fired_at.ns <= 20'000'000'002);

    clock.set_drift_ppm(-500'000);  // Half speed from now on, without a step.
    const Instant before = fast.env().clock.monotonic();
    world.run_for(Duration::seconds(2));
    REQUIRE(fast.env().clock.monotonic() == before + Duration::seconds(1));

    const std::int64_t wall = fast.env().clock.realtime_ns();
    const Instant mono = fast.env().clock.monotonic();
    clock.jump_realtime_ns(-60'000'000'000);  // NTP steps the wall clock back a minute.
    REQUIRE(fast.env().clock.realtime_ns() == wall - 60'000'000'000);
    REQUIRE(fast.env().clock.monotonic() == mono);
    clock.set_skew_ns(0);
    REQUIRE(fast.env().clock.realtime_ns() ==
            world.options().epoch_realtime_ns + static_cast<std::int64_t>(fast.env().clock.monotonic().ns));
    const auto& stats = world.fault_stats();
    REQUIRE(stats[FaultKind::clock_drift] == 1);
    REQUIRE(stats[FaultKind::clock_jump] == 1);
    REQUIRE(stats[FaultKind::clock_skew] == 1);
    REQUIRE(stats.to_string() == "clock_skew=1 clock_drift=1 clock_jump=1");
}

namespace {

struct FaultyRun {
    std::uint64_t trace_hash = 0;
    std::string stats;
    std::string received;
};

// A run with every kind of random fault: slow tail, partition, reset, pause, disk crash modes,
// bit flips. Its result must be a function of the seed.
FaultyRun faulty_run(std::uint64_t seed) {
    SimWorld world(seed);
    world.add_node();
    world.add_node();
    world.add_node();
    world.network().set_link_both(0, 1, SimLinkOptions{.slow_probability = 0.3,
                                                       .bandwidth_bytes_per_second = 10'000'000});
    StreamPair first(world, 0, 1, 4001);
    StreamPair second(world, 0, 2, 4002);
    for (int i = 0; i < 50; ++i) {
        first.client_writer.send("a" + std::to_string(i));
        second.client_writer.send("b" + std::to_string(i));
    }
    world.run_for(Duration::milliseconds(1));
    world.network().partition({0}, {2});
    world.pause_node(1);
    world.run_for(Duration::seconds(1));
    world.resume_node(1);
    world.network().reset_connection(world.network().connections().front().id);
    world.network().heal();
    auto& fs = world.node(2).file_system();
    REQUIRE(fs.make_directories("/d"));
    auto opened = fs.open("/d/f", true);
    REQUIRE(opened);
    auto file = std::move(*opened);
    file->write_at(0, std::as_bytes(std::span<const char>("0123456789", 10)), [](Status) {});
    file->sync([](Status) {});
    fs.sync_directory("/d", [](Status) {});
    world.run_for(Duration::seconds(1));
    file->write_at(10, std::as_bytes(std::span<const char>("abcdefghij", 10)), [](Status) {});
    file->write_at(20, std::as_bytes(std::span<const char>("ABCDEFGHIJ", 10)), [](Status) {});
    world.crash_node(2, CrashOptions{.disk = DiskCrash::keep_some, .peers = PeerView::reset});
    REQUIRE(fs.flip_bits("/d/f", 3).size() == 3);
    world.run_for(Duration::seconds(5));
    return {world.trace_hash(), world.fault_stats().to_string(),
            first.server_reader.received + "/" + second.server_reader.received};
}

}  // namespace

// Goal: one seed replays the same faults, schedule and bytes; another seed gives another run.
TEST_CASE("sim faults: same seed same trace hash and fault counts", "[sim][faults][determinism]") {
    const FaultyRun first = faulty_run(77);
    const FaultyRun again = faulty_run(77);
    const FaultyRun other = faulty_run(78);
    REQUIRE(first.trace_hash == again.trace_hash);
    REQUIRE(first.stats == again.stats);
    REQUIRE(first.received == again.received);
    REQUIRE(first.trace_hash != other.trace_hash);
    REQUIRE(first.stats.find("process_crash=1") != std::string::npos);
    REQUIRE(first.stats.find("disk_bit_flip=3") != std::string::npos);
}
