// Consumer delivery state: saved durably, recovered after a crash (newest whole snapshot),
// coalesced while a write is in flight, and rewritten when the file grows.
#include <catch2/catch.hpp>
#include <optional>

#include "engine/store/consumer_store.h"
#include "sim/node.h"
#include "sim/world.h"

using herald::Result;
using herald::Status;
using herald::store::ConsumerState;
using herald::store::FileConsumerStore;
using herald::store::PendingAck;

namespace {

constexpr std::uint64_t steps_max = 1'000'000;
constexpr const char* path = "/data/consumers/C1.dat";

std::unique_ptr<FileConsumerStore> open_store(herald::sim::SimWorld& world, herald::sim::SimNode& node) {
    REQUIRE(node.env().file_system.make_directories("/data/consumers"));
    std::optional<Result<std::unique_ptr<FileConsumerStore>>> opened;
    FileConsumerStore::open(node.env(), path, {}, [&](auto result) { opened.emplace(std::move(result)); });
    REQUIRE(world.run_until([&] { return opened.has_value(); }, steps_max));
    REQUIRE(opened->has_value());
    return std::move(**opened);
}

ConsumerState state_at(std::uint64_t n) {
    ConsumerState state;
    state.delivered = {n, n + 10};
    state.ack_floor = {n / 2, n / 2 + 10};
    for (std::uint64_t i = n / 2 + 1; i <= n; ++i) state.pending[i + 10] = PendingAck{i, static_cast<std::int64_t>(i)};
    state.redelivered[n + 10] = 2;
    return state;
}

}  // namespace

// Goal: a saved state survives power loss; an unsaved one may not, but never a torn mix.
TEST_CASE("consumer store: saved state survives a crash", "[store][consumer][sim]") {
    herald::sim::SimWorld world(3);
    auto& node = world.add_node();
    REQUIRE(node.env().file_system.make_directories("/data/consumers"));
    {
        auto store = open_store(world, node);
        std::optional<Status> saved;
        store->save(state_at(10), [&](Status status) { saved.emplace(status); });
        REQUIRE(world.run_until([&] { return saved.has_value(); }, steps_max));
        REQUIRE(*saved);
        // Survives only in part: the crash tears it.
        store->save(state_at(11), [](Status) {});
        world.run_for(herald::Duration::microseconds(30));
        node.file_system().crash(herald::sim::DiskCrash::tear_last);
        world.run_for(herald::Duration::milliseconds(1));
    }
    auto store = open_store(world, node);
    CHECK(store->state() == state_at(10));
}

// Goal: many saves while one is in flight become one more write, and every callback runs.
TEST_CASE("consumer store: saves during a write are coalesced and all complete", "[store][consumer][sim]") {
    herald::sim::SimWorld world(4);
    auto& node = world.add_node();
    auto store = open_store(world, node);
    int done = 0;
    for (std::uint64_t n = 1; n <= 50; ++n) store->save(state_at(n), [&](Status status) { done += status ? 1 : 0; });
    REQUIRE(world.run_until([&] { return done == 50; }, steps_max));
    store.reset();
    auto reopened = open_store(world, node);
    CHECK(reopened->state() == state_at(50));
}

// Goal: save_from() makes the state only when a write begins: saves behind a write in flight call
// no snapshot, the next write takes the newest state once, every callback runs, and an explicit
// save() after a save_from() wins. Memory store: the snapshot is taken at once.
TEST_CASE("consumer store: save_from makes the state when it is written", "[store][consumer][sim]") {
    herald::sim::SimWorld world(5);
    auto& node = world.add_node();
    auto store = open_store(world, node);
    std::uint64_t current = 1;
    int snapshots = 0;
    int done = 0;
    auto snapshot = [&] {
        snapshots += 1;
        return state_at(current);
    };
    store->save_from(snapshot, [&](Status status) { done += status ? 1 : 0; });
    CHECK(snapshots == 1);  // Nothing in flight: written at once.
    for (current = 2; current <= 40; ++current) {
        store->save_from(snapshot, [&](Status status) { done += status ? 1 : 0; });
    }
    current = 40;
    CHECK(snapshots == 1);  // All behind the first write.
    REQUIRE(world.run_until([&] { return done == 40; }, steps_max));
    CHECK(snapshots == 2);  // One more write, of the state at that time.
    CHECK(store->state() == state_at(40));

    store->save_from(snapshot, [](Status) {});  // In flight now.
    current = 41;
    store->save_from(snapshot, [](Status) {});
    bool explicit_saved = false;
    store->save(state_at(7), [&](Status status) { explicit_saved = status.has_value(); });
    REQUIRE(world.run_until([&] { return explicit_saved; }, steps_max));
    CHECK(snapshots == 3);  // The replaced snapshot never ran.
    store.reset();
    CHECK(open_store(world, node)->state() == state_at(7));

    herald::store::MemConsumerStore memory(node.env());
    bool memory_saved = false;
    memory.save_from([] { return state_at(3); }, [&](Status status) { memory_saved = status.has_value(); });
    CHECK(memory.state() == state_at(3));
    REQUIRE(world.run_until([&] { return memory_saved; }, steps_max));
}

// Goal: the file is rewritten before passing consumer_file_size_max and still recovers.
TEST_CASE("consumer store: the state file is rewritten when it grows", "[store][consumer][sim]") {
    herald::sim::SimWorld world(5);
    auto& node = world.add_node();
    auto store = open_store(world, node);
    for (std::uint64_t n = 1; n <= 300; ++n) {
        std::optional<Status> saved;
        store->save(state_at(n * 20), [&](Status status) { saved.emplace(status); });
        REQUIRE(world.run_until([&] { return saved.has_value(); }, steps_max));
        REQUIRE(*saved);
    }
    auto opened = node.env().file_system.open(path, false);
    REQUIRE(opened);
    CHECK((*opened)->size() <= herald::store::consumer_file_size_max);
    store.reset();
    CHECK(open_store(world, node)->state() == state_at(6000));
}
