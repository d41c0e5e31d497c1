// MessageIndex's dense seq window: find() answers from it while holes are few, falls back to the
// tree once holes outnumber entries, and comes back when the index is empty; either way every
// lookup agrees with a plain set of the live seqs.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "engine/store/message_index.h"

using herald::store::Location;
using herald::store::MessageIndex;
using herald::store::Seq;
using herald::store::StoreKind;

namespace {

void insert(MessageIndex& index, Seq seq, std::set<Seq>& live) {
    index.insert(seq, "s." + std::to_string(seq % 7), static_cast<std::int64_t>(seq), 64,
                 Location{1, seq * 100, 64});
    live.insert(seq);
    index.check_invariants();
}

void remove(MessageIndex& index, Seq seq, std::set<Seq>& live) {
    REQUIRE(index.remove(seq).has_value());
    live.erase(seq);
    index.check_invariants();
}

// Every seq from 0 to past the end: found exactly when live, with its own location; the next
// live seq from each start agrees with the set.
void check_lookups(const MessageIndex& index, const std::set<Seq>& live, Seq end) {
    for (Seq seq = 0; seq <= end + 2; ++seq) {
        const auto* entry = index.find(seq);
        REQUIRE((entry != nullptr) == live.contains(seq));
        if (entry != nullptr) REQUIRE(entry->location.offset == seq * 100);
        const auto next = live.lower_bound(seq);
        REQUIRE(index.next_matching(">", seq) == (next == live.end() ? 0 : *next));
    }
}

}  // namespace

TEST_CASE("message index: find uses the dense window while holes are few", "[store][index]") {
    MessageIndex index(StoreKind::file);
    std::set<Seq> live;
    for (Seq seq = 1; seq <= 3000; ++seq) insert(index, seq, live);
    CHECK(index.dense());
    for (Seq seq = 2; seq <= 3000; seq += 3) remove(index, seq, live);  // Holes in the middle.
    for (Seq seq = 1; seq <= 100; ++seq) {
        if (live.contains(seq)) remove(index, seq, live);  // The front moves.
    }
    CHECK(index.dense());
    check_lookups(index, live, 3000);
    insert(index, 3005, live);  // A gap at the end (skipped seqs).
    CHECK(index.dense());
    check_lookups(index, live, 3005);
}

TEST_CASE("message index: a sparse index leaves the window and an empty one returns to it", "[store][index]") {
    MessageIndex index(StoreKind::memory);
    std::set<Seq> live;
    for (Seq seq = 1; seq <= 20000; ++seq) insert(index, seq, live);
    // Keep every 10th (a KV bucket after overwrites): holes far outnumber entries.
    for (Seq seq = 1; seq <= 20000; ++seq) {
        if (seq % 10 != 0) remove(index, seq, live);
    }
    CHECK_FALSE(index.dense());
    check_lookups(index, live, 20000);
    insert(index, 30000, live);  // A big gap while off.
    check_lookups(index, live, 30000);
    while (!live.empty()) remove(index, *live.begin(), live);
    CHECK(index.dense());
    insert(index, 30001, live);
    insert(index, 30002, live);
    CHECK(index.dense());
    check_lookups(index, live, 30002);
}

TEST_CASE("message index: a big gap on insert turns the window off instead of filling it", "[store][index]") {
    MessageIndex index(StoreKind::file);
    std::set<Seq> live;
    insert(index, 1, live);
    insert(index, 1'000'000, live);  // A mirror skipping most of an origin.
    CHECK_FALSE(index.dense());
    CHECK(index.find(1'000'000) != nullptr);
    CHECK(index.find(999'999) == nullptr);
    CHECK(index.next_matching(">", 2) == 1'000'000);
}
