// The FileStore read cache and StreamStore::load_next_now (the consumer's fast path): answers
// from memory only what memory holds, reads a miss's neighbourhood once, and never serves bytes
// that compaction or removal made stale.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/store/errc.h"
#include "tests/store/store_harness.h"

using herald::Duration;
using herald::Result;
using herald::store::Errc;
using herald::store::PurgeRequest;
using herald::store::StoredMessage;
using herald::store::testing::Harness;
using herald::store::testing::Kind;

namespace {

std::string payload_of(std::uint64_t i) { return "payload-" + std::to_string(i); }

}  // namespace

TEST_CASE("stream store: load_next_now answers what load_next would, MemStore always",
          "[store][sim][cache]") {
    Harness h(Kind::memory);
    for (std::uint64_t i = 1; i <= 5; ++i) h.store_ok(i % 2 == 0 ? "even" : "odd", payload_of(i));
    REQUIRE(h.remove(3));
    auto now = h.store().load_next_now("", 3);
    REQUIRE(now.has_value());
    REQUIRE(now->has_value());
    CHECK((*now)->seq == 4);
    CHECK((*now)->payload == payload_of(4));
    now = h.store().load_next_now("odd", 2);
    REQUIRE(now.has_value());
    CHECK((*now)->seq == 5);
    now = h.store().load_next_now("", 6);
    REQUIRE(now.has_value());
    CHECK(now->error() == Errc::end_of_stream);
}

TEST_CASE("file store: load_next_now serves the write queue and acked batches, not a cold disk",
          "[store][sim][cache]") {
    const Kind kind = GENERATE(Kind::file, Kind::file_interval);
    Harness h(kind);
    for (std::uint64_t i = 1; i <= 50; ++i) h.store_ok("s", payload_of(i));
    // Just written: the acked batches stayed in the cache.
    for (std::uint64_t seq = 1; seq <= 50; ++seq) {
        auto now = h.store().load_next_now("", seq);
        REQUIRE(now.has_value());
        REQUIRE(now->has_value());
        CHECK((*now)->seq == seq);
        CHECK((*now)->payload == payload_of(seq));
    }
    CHECK(h.file_store().stats().chunk_reads == 0);
    // After a restart nothing is in memory: the fast path says so, a load reads one chunk, and
    // then the rest of the chunk is in memory.
    h.restart();
    CHECK_FALSE(h.store().load_next_now("", 1).has_value());
    CHECK(h.load_next("", 1)->payload == payload_of(1));
    CHECK(h.file_store().stats().chunk_reads == 1);
    for (std::uint64_t seq = 2; seq <= 50; ++seq) {
        auto now = h.store().load_next_now("", seq);
        REQUIRE(now.has_value());
        REQUIRE(now->has_value());
        CHECK((*now)->payload == payload_of(seq));
    }
    CHECK(h.file_store().stats().chunk_reads == 1);
    CHECK(h.store().load_next_now("", 51)->error() == Errc::end_of_stream);
}

TEST_CASE("file store: concurrent loads in one chunk share one read", "[store][sim][cache]") {
    Harness h(Kind::file);
    for (std::uint64_t i = 1; i <= 200; ++i) h.store_ok("s", payload_of(i));
    h.restart();
    std::vector<std::string> loaded(201);
    std::size_t answered = 0;
    for (std::uint64_t seq = 1; seq <= 200; ++seq) {
        h.store().load(seq, [&, seq](Result<StoredMessage> message) {
            REQUIRE(message);
            loaded[seq] = message->payload;
            answered += 1;
        });
    }
    h.run([&] { return answered == 200; });
    for (std::uint64_t seq = 1; seq <= 200; ++seq) CHECK(loaded[seq] == payload_of(seq));
    // 200 records of ~40 B fit in one 256 KiB chunk, but a block is 64 KiB here: one read per
    // block at most, never one per record.
    CHECK(h.file_store().stats().chunk_reads <= h.file_store().block_count());
    CHECK(h.file_store().stats().chunk_reads >= 1);
}

TEST_CASE("file store: cached bytes never outlive compaction or removal", "[store][sim][cache]") {
    Harness h(Kind::file, {}, 9, 4096);
    for (std::uint64_t i = 1; i <= 400; ++i) h.store_ok(i % 2 == 0 ? "even" : "odd", payload_of(i));
    h.restart();
    for (std::uint64_t seq = 1; seq <= 400; ++seq) REQUIRE(h.load(seq));  // Fill the cache.
    CHECK(*h.purge(PurgeRequest{"", 150, 0}) == 149);
    for (std::uint64_t seq = 200; seq <= 300; ++seq) {
        if (seq % 10 != 0) REQUIRE(h.remove(seq));
    }
    h.advance(Duration::seconds(1));
    REQUIRE(h.file_store().stats().blocks_compacted > 0);
    // Rewritten blocks moved records: every load still finds the right one, by both paths.
    for (std::uint64_t seq = 150; seq <= 400; ++seq) {
        const bool live = seq < 200 || seq > 300 || seq % 10 == 0;
        auto loaded = h.load(seq);
        if (!live) {
            CHECK(loaded.error() == Errc::message_not_found);
            continue;
        }
        REQUIRE(loaded);
        CHECK(loaded->payload == payload_of(seq));
        auto now = h.store().load_next_now("", seq);
        REQUIRE(now.has_value());
        REQUIRE(now->has_value());
        CHECK((*now)->seq == seq);
        CHECK((*now)->payload == payload_of(seq));
    }
    CHECK(h.load(149).error() == Errc::message_not_found);
}
