// Tests of the simulated disk: what sync() and sync_directory() make durable survives crash(),
// and everything else is lost.
#include "sim/file_system.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/base/errc.h"
#include "sim/node.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::base::Errc;
using herald::io::File;
using herald::sim::SimNode;
using herald::sim::SimWorld;

namespace {

constexpr std::uint64_t steps_max = 10000;

std::span<const std::byte> bytes_of(const std::string& text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::string read_all(SimWorld& world, File& file) {
    std::vector<std::byte> target(file.size());
    bool done = false;
    std::size_t count = 0;
    file.read_at(0, target, [&](Result<std::size_t> read) {
        REQUIRE(read);
        count = *read;
        done = true;
    });
    REQUIRE(world.run_until([&] { return done; }, steps_max));
    return {reinterpret_cast<const char*>(target.data()), count};
}

}  // namespace

// Goal: synced data survives a crash, unsynced data does not; sync takes its latency.
// Method: write+sync, write more without sync, crash, reopen and read.
TEST_CASE("sim disk: unsynced data is lost on crash while synced data survives", "[sim][disk]") {
    SimWorld world(9);
    SimNode& node = world.add_node();
    auto& fs = node.env().file_system;
    REQUIRE(fs.make_directories("/data/stream"));
    auto opened = fs.open("/data/stream/1.blk", true);
    REQUIRE(opened);
    auto file = std::move(*opened);

    const std::string durable = "record-1|";
    const std::string volatile_tail = "record-2|";
    std::vector<std::string> order;
    file->write_at(0, bytes_of(durable), [&](Status s) { REQUIRE(s); order.push_back("write"); });
    file->sync([&](Status s) { REQUIRE(s); order.push_back("sync"); });
    bool dir_synced = false;
    fs.sync_directory("/data/stream", [&](Status s) { REQUIRE(s); dir_synced = true; });
    REQUIRE(order.empty());  // Never inline.
    REQUIRE(world.run_until([&] { return order.size() == 2 && dir_synced; }, steps_max));
    REQUIRE(order == std::vector<std::string>{"write", "sync"});
    REQUIRE(world.now() >= herald::Instant{1'000'000});  // The sync latency passed.

    bool tail_written = false;
    file->write_at(file->size(), bytes_of(volatile_tail), [&](Status s) { REQUIRE(s); tail_written = true; });
    REQUIRE(world.run_until([&] { return tail_written; }, steps_max));
    REQUIRE(read_all(world, *file) == durable + volatile_tail);

    // Also an unsynced name: a new file never covered by sync_directory.
    auto fresh = fs.open("/data/stream/2.blk", true);
    REQUIRE(fresh);
    bool late_callback = false;
    (*fresh)->sync([&](Status) { late_callback = true; });  // Pending at the crash.

    node.file_system().crash();
    world.run_for(Duration::seconds(1));
    REQUIRE_FALSE(late_callback);  // No callback of an operation from before the crash.

    auto reopened = fs.open("/data/stream/1.blk", false);
    REQUIRE(reopened);
    REQUIRE((*reopened)->size() == durable.size());
    REQUIRE(read_all(world, **reopened) == durable);
    REQUIRE(fs.open("/data/stream/2.blk", false).error() == Errc::not_found);
}

// Goal: rename is durable only after sync_directory; list is sorted.
TEST_CASE("sim disk: rename is durable after sync_directory", "[sim][disk]") {
    SimWorld world(10);
    SimNode& node = world.add_node();
    auto& fs = node.env().file_system;
    REQUIRE(fs.make_directories("/d"));
    {
        auto file = fs.open("/d/tmp", true);
        REQUIRE(file);
        bool synced = false;
        (*file)->write_at(0, bytes_of("meta"), [](Status s) { REQUIRE(s); });
        (*file)->sync([&](Status s) { REQUIRE(s); synced = true; });
        fs.sync_directory("/d", [](Status s) { REQUIRE(s); });
        REQUIRE(world.run_until([&] { return synced && world.idle(); }, steps_max));
    }
    REQUIRE(fs.rename("/d/tmp", "/d/meta"));
    REQUIRE(fs.open("/d/zz", true));
    auto names = fs.list("/d");
    REQUIRE(names);
    REQUIRE(*names == std::vector<std::string>{"meta", "zz"});

    node.file_system().crash();  // The rename was not made durable.
    names = fs.list("/d");
    REQUIRE(*names == std::vector<std::string>{"tmp"});

    REQUIRE(fs.rename("/d/tmp", "/d/meta"));
    bool dir_synced = false;
    fs.sync_directory("/d", [&](Status s) { REQUIRE(s); dir_synced = true; });
    REQUIRE(world.run_until([&] { return dir_synced; }, steps_max));
    node.file_system().crash();
    names = fs.list("/d");
    REQUIRE(*names == std::vector<std::string>{"meta"});
    auto meta = fs.open("/d/meta", false);
    REQUIRE(meta);
    REQUIRE(read_all(world, **meta) == "meta");
    REQUIRE(fs.remove("/d/nothing").error() == Errc::not_found);
    REQUIRE(fs.open("/missing/x", true).error() == Errc::not_found);
}
