// FileStore durability and recovery on the simulated disk (DESIGN.md "JetStream"): no
// acknowledged message is lost by a crash; a torn tail is truncated; bit rot in the middle loses
// only the damaged record and is reported; a lost index is rebuilt; compaction keeps state.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "engine/base/errc.h"
#include "engine/store/errc.h"
#include "engine/store/record.h"
#include "tests/store/store_harness.h"

using herald::Duration;
using herald::Result;
using herald::store::Damage;
using herald::store::Errc;
using herald::store::message_size;
using herald::store::PurgeRequest;
using herald::store::SeqRange;
using herald::store::StoreAck;
using herald::store::StoreRequest;
using herald::store::testing::Harness;
using herald::store::testing::Kind;
namespace record = herald::store::record;
namespace sim = herald::sim;

namespace {

std::string payload_of(std::uint64_t i) {
    std::string text = "payload-" + std::to_string(i);
    text.resize(10, '.');
    return text;
}

// Offset of seq `k` in a first block holding only 1-byte-subject, 10-byte-payload messages.
std::uint64_t offset_of(std::uint64_t k) {
    return record::block_header_size + (k - 1) * message_size(1, 0, 10);
}

bool has_damage(const herald::store::RecoveryReport& report, Damage::Kind kind) {
    for (const auto& damage : report.damage) {
        if (damage.kind == kind) return true;
    }
    return false;
}

}  // namespace

// Goal: the durability contract: a crash (power loss, in every sim crash mode) at any moment
// loses no acknowledged message, and every acknowledged message loads back intact.
// Method: many stores in flight at once; crash when a random number of acks arrived; recover.
TEST_CASE("file store: a crash before sync loses only unacknowledged messages", "[store][sim][crash]") {
    const Kind kind = GENERATE(Kind::file, Kind::file_no_group_commit);
    const sim::DiskCrash mode = GENERATE(sim::DiskCrash::lose_unsynced, sim::DiskCrash::keep_some,
                                         sim::DiskCrash::tear_last, sim::DiskCrash::keep_unsynced);
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        Harness h(kind, {}, seed, 8 * 1024);
        std::map<std::uint64_t, std::string> acked;  // seq → payload
        const std::uint64_t total = 200;
        const std::uint64_t crash_after = h.world().random().uniform(total);
        std::uint64_t issued = 0;
        std::vector<std::string> payloads;
        for (std::uint64_t i = 0; i < total; ++i) payloads.push_back(payload_of(i));
        for (std::uint64_t i = 0; i < total; ++i) {
            h.store().store(StoreRequest{"s", "", payloads[i]}, [&, i](Result<StoreAck> ack) {
                REQUIRE(ack);
                acked[ack->seq] = payloads[i];
            });
            issued += 1;
        }
        h.run([&] { return acked.size() >= crash_after; });
        INFO("seed " << seed << " crash after " << acked.size() << " acks of " << issued);
        h.crash(mode);
        const auto state = h.store().state();
        CHECK(state.last_seq >= (acked.empty() ? 0 : acked.rbegin()->first));
        for (const auto& [seq, payload] : acked) {
            auto loaded = h.load(seq);
            REQUIRE(loaded);
            CHECK(loaded->payload == payload);
        }
        for (const SeqRange& lost : state.lost) {
            // Reported losses may only be messages that were never acknowledged.
            for (std::uint64_t seq = lost.first; seq <= lost.last; ++seq) CHECK_FALSE(acked.contains(seq));
        }
        // Numbering continues after the recovered last seq.
        CHECK(h.store_ok("s").seq == state.last_seq + 1);
    }
}

// Goal: a skip is as durable as a store: after a crash in every sim crash mode, an acknowledged
// skip's seqs are neither lost nor messages, last_seq covers it, and numbering goes on after it.
// Method: stores and skips of 1..40 seqs interleaved, all in flight, small blocks (rolls); crash
// after a random number of acks; recover and check each acknowledged operation.
TEST_CASE("file store: a crash loses no acknowledged skip", "[store][sim][crash][skip]") {
    const Kind kind = GENERATE(Kind::file, Kind::file_no_group_commit);
    const sim::DiskCrash mode = GENERATE(sim::DiskCrash::lose_unsynced, sim::DiskCrash::keep_some,
                                         sim::DiskCrash::tear_last, sim::DiskCrash::keep_unsynced);
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        Harness h(kind, {}, seed, 4 * 1024);
        std::map<std::uint64_t, std::string> acked;  // seq → payload
        std::vector<SeqRange> skipped;               // Acknowledged skips.
        std::uint64_t acks = 0;
        const std::uint64_t total = 200;
        const std::uint64_t crash_after = h.world().random().uniform(total);
        std::vector<std::string> payloads;
        for (std::uint64_t i = 0; i < total; ++i) payloads.push_back(payload_of(i));
        for (std::uint64_t i = 0; i < total; ++i) {
            if (h.world().random().uniform(3) == 0) {
                const std::uint64_t first = h.store().state().last_seq + 1;
                const SeqRange range{first, first + h.world().random().uniform(40)};
                h.store().skip(range.first, range.last, 0, [&, range](herald::Status status) {
                    REQUIRE(status);
                    skipped.push_back(range);
                    acks += 1;
                });
                continue;
            }
            h.store().store(StoreRequest{"s", "", payloads[i]}, [&, i](Result<StoreAck> ack) {
                REQUIRE(ack);
                acked[ack->seq] = payloads[i];
                acks += 1;
            });
        }
        h.run([&] { return acks >= crash_after; });
        INFO("seed " << seed << " crash after " << acks << " acks");
        h.crash(mode);
        const auto state = h.store().state();
        if (!acked.empty()) CHECK(state.last_seq >= acked.rbegin()->first);
        if (!skipped.empty()) CHECK(state.last_seq >= skipped.back().last);
        for (const auto& [seq, payload] : acked) {
            auto loaded = h.load(seq);
            REQUIRE(loaded);
            CHECK(loaded->payload == payload);
        }
        for (const SeqRange& range : skipped) {
            CHECK(h.load(range.first).error() == Errc::message_not_found);
            CHECK(h.load(range.last).error() == Errc::message_not_found);
            CHECK(h.store().count_matching("", range.first, range.last) == 0);
            for (const SeqRange& lost : state.lost) CHECK((lost.last < range.first || lost.first > range.last));
        }
        for (const SeqRange& lost : state.lost) {
            for (std::uint64_t seq = lost.first; seq <= lost.last; ++seq) CHECK_FALSE(acked.contains(seq));
        }
        CHECK(h.store_ok("s").seq == state.last_seq + 1);
    }
}

// Goal: a torn tail (power loss in the middle of a write) is cut back to the last whole record
// and reported as truncated, not lost. Method: append a short record by hand and sync it.
TEST_CASE("file store: a torn tail is truncated to the last whole record", "[store][sim][recovery]") {
    Harness h(Kind::file);
    for (std::uint64_t i = 1; i <= 5; ++i) h.store_ok("s", payload_of(i));
    REQUIRE(h.close());
    const std::string block = h.file_store().block_paths().back();
    const std::uint64_t end = h.file_size(block);
    REQUIRE(end == offset_of(6));
    // The first 20 bytes of a would-be sixth record: a header that promises more than is there.
    std::vector<std::byte> next;
    record::append_message(next, 6, 1, "s", "", payload_of(6));
    h.damage(block, end, std::string(reinterpret_cast<const char*>(next.data()), 20));
    h.open();
    const auto& report = h.store().recovery_report();
    CHECK(report.truncated_bytes == 20);
    CHECK(report.lost.empty());
    CHECK(report.lost_bytes == 0);
    CHECK(has_damage(report, Damage::Kind::torn_tail));
    CHECK(h.file_size(block) == end);
    CHECK(h.store().state().messages == 5);
    CHECK(h.store_ok("s", payload_of(6)).seq == 6);
    h.restart();
    CHECK(h.store().recovery_report().clean());
    CHECK(h.load(6)->payload == payload_of(6));
}

// Goal: the sim's tear_last crash mode gives the same: recovery truncates and continues.
TEST_CASE("file store: the sim's torn-write crash is recovered by truncation", "[store][sim][recovery]") {
    Harness h(Kind::file, {}, 7);
    for (std::uint64_t i = 1; i <= 5; ++i) h.store_ok("s", payload_of(i));
    std::uint64_t acks = 0;
    for (std::uint64_t i = 6; i <= 8; ++i) {
        h.store().store(StoreRequest{"s", "", "unacked-payload"}, [&](Result<StoreAck>) { acks += 1; });
    }
    h.advance(Duration::microseconds(30));  // Written, not yet synced.
    REQUIRE(acks == 0);
    h.crash(sim::DiskCrash::tear_last);
    CHECK(h.store().state().last_seq == 5);
    CHECK(h.store().recovery_report().lost.empty());
    CHECK(h.store_ok("s").seq == 6);
}

// Goal: bit rot in the middle loses only the damaged record; every record after it is kept
// and the loss is reported exactly (seq, bytes) in the report and in state.
// Method: overwrite bytes inside record 5 of 10, reopen.
TEST_CASE("file store: bit rot in the middle loses only that record and reports it", "[store][sim][recovery]") {
    Harness h(Kind::file);
    for (std::uint64_t i = 1; i <= 10; ++i) h.store_ok("s", payload_of(i));
    REQUIRE(h.close());
    const std::string block = h.file_store().block_paths().back();
    h.damage(block, offset_of(5) + record::header_size + 1, "XXXX");
    h.open();
    const auto& report = h.store().recovery_report();
    REQUIRE(report.lost == std::vector<SeqRange>{{5, 5}});
    CHECK(report.lost_messages == 1);
    CHECK(report.lost_bytes == message_size(1, 0, 10));
    CHECK(report.truncated_bytes == 0);
    REQUIRE(has_damage(report, Damage::Kind::corrupt_middle));
    CHECK(report.damage[0].offset == offset_of(5));
    const auto state = h.store().state();
    CHECK(state.messages == 9);
    CHECK(state.lost == std::vector<SeqRange>{{5, 5}});
    CHECK(h.load(5).error() == Errc::message_not_found);
    for (std::uint64_t i = 6; i <= 10; ++i) CHECK(h.load(i)->payload == payload_of(i));
    CHECK(h.store_ok("s").seq == 11);
}

// Goal: damage to the length field (the worst place) still resyncs on the next record.
TEST_CASE("file store: a damaged record length resyncs on the next record", "[store][sim][recovery]") {
    Harness h(Kind::file);
    for (std::uint64_t i = 1; i <= 10; ++i) h.store_ok("s", payload_of(i));
    REQUIRE(h.close());
    const std::string block = h.file_store().block_paths().back();
    h.damage(block, offset_of(3) + 4, std::string("\xff\xff\x00\x00", 4));
    h.open();
    CHECK(h.store().recovery_report().lost == std::vector<SeqRange>{{3, 3}});
    CHECK(h.store().state().messages == 9);
    CHECK(h.load(10)->payload == payload_of(10));
}

// Goal: random bit flips from the sim's fault model lose at most the records they hit, never
// the store, and the report names every lost seq. Method: many seeds, 1-3 flips each.
TEST_CASE("file store: random bit flips lose at most the records they hit", "[store][sim][recovery]") {
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        Harness h(Kind::file, {}, seed, 4096);
        for (std::uint64_t i = 1; i <= 150; ++i) h.store_ok("s", payload_of(i));
        REQUIRE(h.close());
        const auto paths = h.file_store().block_paths();
        const std::uint64_t flips = 1 + h.world().random().uniform(3);
        for (std::uint64_t f = 0; f < flips; ++f) {
            const std::string& path = paths[h.world().random().uniform(paths.size())];
            h.disk().flip_bits(path, 1);
        }
        h.open();
        INFO("seed " << seed);
        const auto state = h.store().state();
        const auto& report = h.store().recovery_report();
        CHECK(report.lost_messages <= flips);
        CHECK(state.messages + report.lost_messages == 150);
        CHECK(state.last_seq == 150);
        for (std::uint64_t seq = 1; seq <= 150; ++seq) {
            bool lost = false;
            for (const SeqRange& range : report.lost) lost = lost || (seq >= range.first && seq <= range.last);
            auto loaded = h.load(seq);
            CHECK(loaded.has_value() == !lost);
            if (loaded) CHECK(loaded->payload == payload_of(seq));
        }
        CHECK(h.store_ok("s").seq == 151);
    }
}

// Goal: a sealed block that lost its synced tail (rollback, truncation at rest) is reported
// exactly: the next block's header and the index say which seqs it held.
TEST_CASE("file store: a truncated sealed block reports exactly the lost seqs", "[store][sim][recovery]") {
    Harness h(Kind::file, {}, 3, 4096);
    for (std::uint64_t i = 1; i <= 200; ++i) h.store_ok("s", payload_of(i));
    REQUIRE(h.close());
    const auto paths = h.file_store().block_paths();
    REQUIRE(paths.size() >= 3);
    const std::uint64_t size = h.file_size(paths[0]);
    const std::uint64_t per_block = (size - record::block_header_size) / message_size(1, 0, 10);
    h.truncate_file(paths[0], size - 2 * message_size(1, 0, 10));
    h.open();
    CHECK(h.store().recovery_report().lost == std::vector<SeqRange>{{per_block - 1, per_block}});
    CHECK(h.store().state().messages == 198);
}

// Goal: a missing or damaged index is rebuilt from the blocks with nothing lost.
TEST_CASE("file store: a deleted or damaged index is rebuilt from the blocks", "[store][sim][recovery]") {
    Harness h(Kind::file, {}, 5, 4096);
    for (std::uint64_t i = 1; i <= 100; ++i) h.store_ok(i % 3 == 0 ? "x" : "y", payload_of(i));
    REQUIRE(h.remove(50));
    const auto before = h.store().state();
    REQUIRE(h.close());
    const std::string index = h.file_store().index_path();
    SECTION("deleted") { REQUIRE(h.disk().remove(index)); }
    SECTION("damaged") { h.damage(index, 10, "garbage"); }
    h.open();
    CHECK(h.store().recovery_report().index_rebuilt);
    CHECK(h.store().recovery_report().lost.empty());
    CHECK(h.store().state() == before);
    CHECK(h.load(100)->payload == payload_of(100));
    h.restart();
    CHECK(h.store().recovery_report().clean());
}

// Goal: a store is never deleted or emptied for damage: even with every block's header and
// many records destroyed, open succeeds, keeps what is intact and files stay.
TEST_CASE("file store: heavy damage never empties the store", "[store][sim][recovery]") {
    Harness h(Kind::file, {}, 11, 4096);
    for (std::uint64_t i = 1; i <= 120; ++i) h.store_ok("s", payload_of(i));
    REQUIRE(h.close());
    const auto paths = h.file_store().block_paths();
    for (const auto& path : paths) h.damage(path, 0, std::string(100, '\0'));
    h.open();
    CHECK(h.store().state().messages > 0);
    CHECK(h.file_store().block_paths() == paths);
    CHECK(h.store().recovery_report().lost_messages + h.store().state().messages == 120);
}

// Goal: deleted space is reclaimed (oldest blocks removed, sparse blocks rewritten) and the
// state after a restart is identical, with nothing reported lost.
TEST_CASE("file store: compaction reclaims deleted space and keeps state", "[store][sim][compaction]") {
    Harness h(Kind::file, {}, 9, 4096);
    for (std::uint64_t i = 1; i <= 400; ++i) h.store_ok(i % 2 == 0 ? "even" : "odd", payload_of(i));
    const std::uint64_t disk_bytes_before = h.disk().used_bytes();
    CHECK(*h.purge(PurgeRequest{"", 150, 0}) == 149);
    // Sparse middle: remove most of the messages from 200 to 300.
    for (std::uint64_t seq = 200; seq <= 300; ++seq) {
        if (seq % 10 != 0) REQUIRE(h.remove(seq));
    }
    h.advance(Duration::seconds(1));
    CHECK(h.file_store().stats().blocks_removed > 0);
    CHECK(h.file_store().stats().blocks_compacted > 0);
    CHECK(h.disk().used_bytes() < disk_bytes_before);
    const auto before = h.store().state();
    h.restart();
    CHECK(h.store().recovery_report().clean());
    CHECK(h.store().state() == before);
    CHECK(h.load(210)->payload == payload_of(210));
    CHECK(h.load(211).error() == Errc::message_not_found);
    CHECK(h.load(400)->payload == payload_of(400));
    CHECK(h.store_ok("odd").seq == 401);
}

// Goal: an fsync error fails the unacknowledged stores and stops writes; nothing unstored is
// acknowledged; a restart recovers the store.
TEST_CASE("file store: an fsync error fails pending stores and the store", "[store][sim][faults]") {
    Harness h(Kind::file);
    h.store_ok("s");
    h.disk().fail_next_syncs(1);
    auto failed = h.store("s");
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == herald::base::Errc::io_error);
    CHECK(h.store("s").error() == Errc::failed);
    h.crash(sim::DiskCrash::lose_unsynced);
    CHECK(h.store().state().last_seq >= 1);
    CHECK(h.store("s"));
}

// Goal: the active block file is extended ahead of its writes (so a durable append need not
// write the file size), cut back to its records when sealed and when closed, and a power loss
// with extended space recovers clean: no damage, nothing truncated or lost.
TEST_CASE("file store: block files are extended ahead and cut back", "[store][sim][recovery]") {
    Harness h(Kind::file);
    for (std::uint64_t i = 1; i <= 5; ++i) h.store_ok("s", payload_of(i));
    std::string block = h.file_store().block_paths().back();
    CHECK(h.file_store().stats().extensions >= 1);
    CHECK(h.file_size(block) % record::extend_alignment == 0);
    CHECK(h.file_size(block) > offset_of(6));
    REQUIRE(h.close());
    CHECK(h.file_size(block) == offset_of(6));

    h.open();
    for (std::uint64_t i = 6; i <= 10; ++i) h.store_ok("s", payload_of(i));
    CHECK(h.file_size(block) > offset_of(11));
    h.crash(sim::DiskCrash::lose_unsynced);
    const auto& report = h.store().recovery_report();
    CHECK(report.damage.empty());
    CHECK(report.truncated_bytes == 0);
    CHECK(report.lost.empty());
    CHECK(h.store().state().messages == 10);
    CHECK(h.file_size(block) == offset_of(11));

    // Fill past the 64 KiB block: every sealed block is cut back to its records.
    for (std::uint64_t i = 11; i <= 3000; ++i) h.store_ok("s", payload_of(i));
    const auto blocks = h.file_store().block_paths();
    REQUIRE(blocks.size() >= 3);
    for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
        CHECK(h.file_size(blocks[b]) <= 64 * 1024);
        CHECK(h.file_size(blocks[b]) % record::extend_alignment != 0);
    }
    h.restart();
    CHECK(h.store().state().messages == 3000);
    CHECK(h.store().recovery_report().damage.empty());
}

// Goal: ENOSPC fails the store call and never acknowledges.
TEST_CASE("file store: a full disk fails the store", "[store][sim][faults]") {
    Harness h(Kind::file);
    h.store_ok("s");
    h.disk().options().space_bytes_max = h.disk().used_bytes() + 10;
    // Stores fit in the space the block file was already extended by (preallocate_bytes); the
    // first that needs more (a further extension or the next block) fails and is not acked.
    std::uint64_t acked = 0;
    std::optional<Result<StoreAck>> failed;
    for (int i = 0; i < 200 && !failed; ++i) {
        auto stored = h.store("s", std::string(1000, 'x'));
        if (stored) {
            acked += 1;
        } else {
            failed.emplace(std::move(stored));
        }
    }
    REQUIRE(failed);
    CHECK(failed->error() == herald::base::Errc::no_space);
    CHECK(acked < 70);  // A 64 KiB block holds about 60 of them.
    h.disk().options().space_bytes_max = 0;
    h.crash();  // Power loss: the disk holds every acked message, not the failed one.
    CHECK(h.store().state().messages == 1 + acked);
}

// Goal: group commit batches stores waiting for an fsync into one fsync; without it every store
// has its own. Method: 100 stores issued at once, count fsyncs.
TEST_CASE("file store: group commit shares one fsync among waiting stores", "[store][sim]") {
    for (const Kind kind : {Kind::file, Kind::file_no_group_commit}) {
        Harness h(kind);
        const auto syncs_before = h.file_store().stats().syncs;
        std::uint64_t acks = 0;
        for (int i = 0; i < 100; ++i) {
            h.store().store(StoreRequest{"s", "", "x"}, [&](Result<StoreAck> ack) {
                REQUIRE(ack);
                acks += 1;
            });
        }
        h.run([&] { return acks == 100; });
        const auto syncs = h.file_store().stats().syncs - syncs_before;
        if (kind == Kind::file) {
            CHECK(syncs <= 2);
            CHECK(h.store().durability().group_commit);
        } else {
            CHECK(syncs == 100);
            CHECK_FALSE(h.store().durability().group_commit);
        }
    }
}

// Goal: the lazy mode is exactly as lazy as documented, and only when configured: with
// sync_interval a publish is acknowledged before its record is written or synced (nats-server
// acks before write(2) too), so a power loss right after the ack loses it; the durable default
// never acknowledges what a power loss can take.
TEST_CASE("file store: lazy (interval) mode acks before the write; the default acks after fsync",
          "[store][sim][crash]") {
    for (const Kind kind : {Kind::file_interval, Kind::file}) {
        Harness h(kind);
        std::uint64_t syncs_at_ack = 0;
        bool acked = false;
        const std::uint64_t syncs_before = h.file_store().stats().syncs;
        h.store().store(StoreRequest{"s", "", "lazy?"}, [&](Result<StoreAck> ack) {
            REQUIRE(ack);
            acked = true;
            syncs_at_ack = h.file_store().stats().syncs;
        });
        h.run([&] { return acked; });
        h.crash(herald::sim::DiskCrash::lose_unsynced);
        if (kind == Kind::file_interval) {
            CHECK(syncs_at_ack == syncs_before);
            CHECK(h.store().state().messages == 0);  // Acked, then lost with the unsynced data.
            CHECK(h.store().durability().mode == herald::store::SyncMode::interval);
        } else {
            CHECK(syncs_at_ack == syncs_before + 1);
            CHECK(h.store().state().messages == 1);
            CHECK(h.load(1)->payload == "lazy?");
        }
    }
}

// Regression (found by the FileStore-vs-MemStore property test, seed 5431129191705334415):
// lowering max_msgs emptied a sealed block whose last batch was still being written; compaction
// removed the block and the write's completion looked it up (map::at). A block with a queued or
// in-flight batch is now left alone until the batch is done.
TEST_CASE("file store: a block still being written is not compacted away", "[store][sim][compaction]") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Harness h(Kind::file, {}, seed, 4096);
        std::uint64_t acked = 0;
        for (std::uint64_t i = 1; i <= 60; ++i) {
            h.store().store(StoreRequest{"s", "", std::string(40 + (i * 37) % 230, 'p')},
                            [&](Result<StoreAck> ack) {
                                REQUIRE(ack);
                                acked += 1;
                            });
            if (i % 20 == 0) {
                herald::store::StoreLimits limits;
                limits.max_msgs = 1;
                h.update_limits(limits);
            }
        }
        h.run([&] { return acked == 60; });
        h.advance(Duration::seconds(1));
        CHECK(h.store().state().messages == 1);
        h.restart();
        CHECK(h.store().state().messages == 1);
        CHECK(h.store().state().last_seq == 60);
    }
}
