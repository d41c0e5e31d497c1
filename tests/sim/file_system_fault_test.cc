// Tests of the disk fault model: crash modes (keep, lose, keep some, tear the last write), faults
// at rest (bit flips, truncation, rollback), ENOSPC and fsync errors.
#include <bit>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/base/errc.h"
#include "sim/file_system.h"
#include "sim/node.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::base::Errc;
using herald::io::File;
using herald::io::FileSystem;
using herald::sim::DiskCrash;
using herald::sim::FaultKind;
using herald::sim::SimFileSystem;
using herald::sim::SimNode;
using herald::sim::SimWorld;

namespace {

constexpr std::uint64_t steps_max = 100000;

std::span<const std::byte> bytes_of(const std::string& text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// A file on one node, with blocking-style helpers that run the world until each call completes.
struct Disk {
    SimWorld& world;
    SimFileSystem& fs;
    std::unique_ptr<File> file;

    Disk(SimWorld& w, SimNode& node, const std::string& path) : world(w), fs(node.file_system()) {
        REQUIRE(fs.make_directories("/d"));
        open(path);
        bool synced = false;
        fs.sync_directory("/d", [&](Status s) { REQUIRE(s); synced = true; });
        REQUIRE(world.run_until([&] { return synced; }, steps_max));
    }
    void open(const std::string& path) {
        auto opened = fs.open(path, true);
        REQUIRE(opened);
        file = std::move(*opened);
    }
    Status write(std::uint64_t offset, const std::string& text) {
        std::optional<Status> result;
        file->write_at(offset, bytes_of(text), [&](Status s) { result = s; });
        REQUIRE(world.run_until([&] { return result.has_value(); }, steps_max));
        return *result;
    }
    Status append(const std::string& text) { return write(file->size(), text); }
    Status sync() {
        std::optional<Status> result;
        file->sync([&](Status s) { result = s; });
        REQUIRE(world.run_until([&] { return result.has_value(); }, steps_max));
        return *result;
    }
    std::string read() {
        std::vector<std::byte> target(file->size());
        std::optional<std::size_t> count;
        file->read_at(0, target, [&](Result<std::size_t> r) {
            REQUIRE(r);
            count = *r;
        });
        REQUIRE(world.run_until([&] { return count.has_value(); }, steps_max));
        return {reinterpret_cast<const char*>(target.data()), *count};
    }
    // Crash, then reopen the file as a restarted process would.
    std::string crash_and_read(DiskCrash mode, const std::string& path = "/d/f") {
        fs.crash(mode);
        open(path);
        return read();
    }
};

}  // namespace

// Goal: a process crash (OS alive) keeps the page cache; a power loss keeps only synced data.
TEST_CASE("sim disk: keep_unsynced keeps everything, lose_unsynced keeps what was synced", "[sim][disk][faults]") {
    SimWorld world(21);
    Disk disk(world, world.add_node(), "/d/f");
    REQUIRE(disk.append("synced|"));
    REQUIRE(disk.sync());
    REQUIRE(disk.append("cached|"));
    REQUIRE(disk.crash_and_read(DiskCrash::keep_unsynced) == "synced|cached|");
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == "synced|");
    REQUIRE(world.fault_stats()[FaultKind::disk_crash_keep_unsynced] == 1);
    REQUIRE(world.fault_stats()[FaultKind::disk_crash_lose_unsynced] == 1);
}

// Goal: keep_some keeps a random subset of the unsynced writes, each whole or not at all, a
// later one possibly without an earlier one. Method: eight unsynced records over 30 seeds.
TEST_CASE("sim disk: keep_some keeps a random subset of unsynced writes", "[sim][disk][faults]") {
    const std::string base = "base|";
    bool saw_gap = false;  // A record kept after a lost one.
    std::size_t kept_total = 0;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        SimWorld world(seed);
        Disk disk(world, world.add_node(), "/d/f");
        REQUIRE(disk.append(base));
        REQUIRE(disk.sync());
        for (int i = 0; i < 8; ++i) REQUIRE(disk.append("rec" + std::to_string(i) + "|"));
        const std::string after = disk.crash_and_read(DiskCrash::keep_some);
        REQUIRE(after.compare(0, base.size(), base) == 0);
        REQUIRE((after.size() - base.size()) % 5 == 0);
        bool lost_before = false;
        for (std::size_t i = 0; base.size() + i * 5 < after.size(); ++i) {
            const std::string slot = after.substr(base.size() + i * 5, 5);
            if (slot == "rec" + std::to_string(i) + "|") {
                ++kept_total;
                saw_gap = saw_gap || lost_before;
            } else {
                REQUIRE(slot == std::string(5, '\0'));  // Lost, before a kept one: a hole.
                lost_before = true;
            }
        }
        // What survived is durable now: a second power loss keeps it.
        REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == after);
    }
    REQUIRE(saw_gap);
    REQUIRE(kept_total > 60);
    REQUIRE(kept_total < 180);
}

// Goal: tear_last keeps every unsynced write but the last, and of the last a strict prefix.
TEST_CASE("sim disk: tear_last keeps a prefix of the last write", "[sim][disk][faults]") {
    std::size_t lengths_seen = 0;
    std::vector<bool> seen(9, false);
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        SimWorld world(seed);
        Disk disk(world, world.add_node(), "/d/f");
        REQUIRE(disk.append("AAAA"));
        REQUIRE(disk.sync());
        REQUIRE(disk.append("BBBB"));
        REQUIRE(disk.append("CCCCCCCC"));
        const std::string after = disk.crash_and_read(DiskCrash::tear_last);
        REQUIRE(after.compare(0, 8, "AAAABBBB") == 0);
        const std::size_t torn = after.size() - 8;
        REQUIRE(torn < 8);
        REQUIRE(after.substr(8) == std::string(torn, 'C'));
        if (!seen[torn]) ++lengths_seen;
        seen[torn] = true;
        REQUIRE(world.fault_stats()[FaultKind::disk_crash_tear_last] == 1);
    }
    REQUIRE(lengths_seen >= 5);
}

// Goal: flip_bits changes exactly n bits of the durable content, and reads see them.
TEST_CASE("sim disk: a bit flip changes exactly n bits", "[sim][disk][faults]") {
    SimWorld world(22);
    Disk disk(world, world.add_node(), "/d/f");
    const std::string content(64, 'z');
    REQUIRE(disk.append(content));
    REQUIRE(disk.sync());
    REQUIRE(disk.fs.durable_paths() == std::vector<std::string>{"/d/f"});
    const auto bits = disk.fs.flip_bits("/d/f", 5);
    REQUIRE(bits.size() == 5);
    const std::string after = disk.read();
    REQUIRE(after.size() == content.size());
    int changed = 0;
    for (std::size_t i = 0; i < after.size(); ++i) {
        const auto diff = static_cast<unsigned char>(after[i] ^ content[i]);
        changed += std::popcount(diff);
        for (int bit = 0; bit < 8; ++bit) {
            const bool flipped = (diff >> bit) & 1U;
            const bool listed = std::find(bits.begin(), bits.end(), i * 8 + static_cast<std::size_t>(bit)) != bits.end();
            REQUIRE(flipped == listed);
        }
    }
    REQUIRE(changed == 5);
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == after);  // At rest: durable.
    REQUIRE(world.fault_stats()[FaultKind::disk_bit_flip] == 5);
    REQUIRE(disk.fs.flip_bits("/d/missing", 1).empty());
    REQUIRE(disk.fs.flip_bits("/d/f", 10'000).size() == 64 * 8);  // Capped at the file's bits.
}

// Goal: truncate_at_rest cuts the file to a shorter prefix.
TEST_CASE("sim disk: truncation at rest leaves a shorter prefix", "[sim][disk][faults]") {
    SimWorld world(23);
    Disk disk(world, world.add_node(), "/d/f");
    const std::string content = "0123456789abcdef";
    REQUIRE(disk.append(content));
    REQUIRE(disk.sync());
    const auto size = disk.fs.truncate_at_rest("/d/f");
    REQUIRE(size.has_value());
    REQUIRE(*size < content.size());
    REQUIRE(disk.read() == content.substr(0, *size));
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == content.substr(0, *size));
    REQUIRE(world.fault_stats()[FaultKind::disk_truncate] == 1);
}

// Goal: rollback restores the copy from before the last successful sync.
TEST_CASE("sim disk: rollback restores the older synced copy", "[sim][disk][faults]") {
    SimWorld world(24);
    Disk disk(world, world.add_node(), "/d/f");
    REQUIRE(disk.write(0, "version-1"));
    REQUIRE(disk.sync());
    REQUIRE(disk.write(0, "version-2"));
    REQUIRE(disk.sync());
    REQUIRE(disk.append("+unsynced"));
    REQUIRE(disk.fs.rollback("/d/f"));
    REQUIRE(disk.read() == "version-1");
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == "version-1");
    REQUIRE_FALSE(disk.fs.rollback("/d/none"));
    REQUIRE(world.fault_stats()[FaultKind::disk_rollback] == 1);
}

// Goal: past space_bytes_max, writes that grow the files fail with no_space and change nothing;
// overwrites in place still work; freeing space makes writes work again.
TEST_CASE("sim disk: ENOSPC once the byte budget is exceeded", "[sim][disk][faults]") {
    SimWorld world(25);
    SimNode& node = world.add_node();
    node.file_system().options().space_bytes_max = 100;
    Disk disk(world, node, "/d/f");
    REQUIRE(disk.append(std::string(80, 'a')));
    REQUIRE(disk.append(std::string(30, 'b')).error() == Errc::no_space);
    REQUIRE(disk.file->size() == 80);
    REQUIRE(disk.write(0, std::string(80, 'c')));  // In place: no growth.
    REQUIRE(disk.append(std::string(20, 'd')));    // Exactly at the limit.
    REQUIRE(disk.fs.used_bytes() == 100);
    REQUIRE(disk.append("e").error() == Errc::no_space);
    std::optional<Status> truncated;
    disk.file->truncate(50, [&](Status s) { truncated = s; });
    REQUIRE(world.run_until([&] { return truncated.has_value(); }, steps_max));
    REQUIRE(*truncated);
    REQUIRE(disk.append(std::string(50, 'f')));
    REQUIRE(world.fault_stats()[FaultKind::disk_no_space] == 2);
}

// Goal: a failed fsync reports io_error and makes nothing durable; the data stays unsynced so a
// crash loses it, while a later successful sync makes it durable. A probability of 1 fails all.
TEST_CASE("sim disk: fsync returning EIO leaves the data unsynced", "[sim][disk][faults]") {
    SimWorld world(26);
    SimNode& node = world.add_node();
    Disk disk(world, node, "/d/f");
    REQUIRE(disk.append("one|"));
    REQUIRE(disk.sync());
    REQUIRE(disk.append("two|"));
    disk.fs.fail_next_syncs(1);
    REQUIRE(disk.sync().error() == Errc::io_error);
    REQUIRE(disk.read() == "one|two|");  // Still readable from the cache.
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == "one|");

    REQUIRE(disk.append("two|"));
    disk.fs.fail_next_syncs(1);
    REQUIRE_FALSE(disk.sync());
    REQUIRE(disk.sync());  // Only the next one failed.
    REQUIRE(disk.crash_and_read(DiskCrash::lose_unsynced) == "one|two|");

    disk.fs.options().sync_error_probability = 1.0;
    REQUIRE(disk.append("three|"));
    REQUIRE_FALSE(disk.sync());
    std::optional<Status> dir;
    disk.fs.sync_directory("/d", [&](Status s) { dir = s; });
    REQUIRE(world.run_until([&] { return dir.has_value(); }, steps_max));
    REQUIRE(dir->error() == Errc::io_error);
    REQUIRE(world.fault_stats()[FaultKind::disk_sync_error] == 4);
}

// Goal: sync latency is configurable, with jitter drawn from the seed.
TEST_CASE("sim disk: fsync latency and jitter", "[sim][disk][faults]") {
    SimWorld world(27);
    SimNode& node = world.add_node();
    Disk disk(world, node, "/d/f");
    disk.fs.options().sync_latency = Duration::milliseconds(10);
    disk.fs.options().sync_latency_jitter = Duration::milliseconds(5);
    REQUIRE(disk.append("x"));
    for (int i = 0; i < 5; ++i) {
        const auto start = world.now();
        REQUIRE(disk.sync());
        REQUIRE(world.now() >= start + Duration::milliseconds(10));
        REQUIRE(world.now() <= start + Duration::milliseconds(15));
    }
}
