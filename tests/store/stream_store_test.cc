// One suite over every StreamStore implementation and configuration (nats-server
// testFileStoreAllPermutations): MemStore, FileStore with group commit, without it, and lazy.
// Each test runs once per kind on a simulated node (simulated time, simulated disk).
#include <catch2/catch.hpp>
#include <map>
#include <tuple>
#include <vector>

#include "engine/base/errc.h"
#include "engine/store/errc.h"
#include "engine/store/message_index.h"
#include "tests/store/store_harness.h"

using herald::Duration;
using herald::store::Discard;
using herald::store::Errc;
using herald::store::PurgeRequest;
using herald::store::StoreLimits;
using herald::store::SubjectState;
using herald::store::SyncMode;
using herald::store::testing::Harness;
using herald::store::testing::Kind;
using herald::store::testing::kind_name;

namespace {

Kind any_kind() {
    return GENERATE(Kind::memory, Kind::file, Kind::file_no_group_commit, Kind::file_interval);
}

}  // namespace

// Goal: the basic contract — seqs from 1, timestamps from the node's wall clock, loads by seq.
// Method: store three messages with headers, load each, check state.
TEST_CASE("store: stores get consecutive seqs and load back byte for byte", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    const std::int64_t before_ns = h.node().env().clock.realtime_ns();
    auto first = h.store("orders.new", "one", "NATS/1.0\r\nA: b\r\n\r\n");
    REQUIRE(first);
    CHECK(first->seq == 1);
    CHECK(first->timestamp_ns >= before_ns);
    CHECK(h.store_ok("orders.new", "two").seq == 2);
    CHECK(h.store_ok("orders.old", "").seq == 3);

    auto loaded = h.load(1);
    REQUIRE(loaded);
    CHECK(loaded->subject == "orders.new");
    CHECK(loaded->headers == "NATS/1.0\r\nA: b\r\n\r\n");
    CHECK(loaded->payload == "one");
    CHECK(loaded->timestamp_ns == first->timestamp_ns);
    CHECK(h.load(3)->payload.empty());
    CHECK(h.load(4).error() == Errc::end_of_stream);
    CHECK(h.load(0).error() == Errc::message_not_found);

    const auto state = h.store().state();
    CHECK(state.messages == 3);
    CHECK(state.first_seq == 1);
    CHECK(state.last_seq == 3);
    CHECK(state.first_ts == first->timestamp_ns);
    CHECK(state.num_subjects == 2);
    CHECK(state.num_deleted == 0);
    // nats-server's numbers (fileStoreMsgSize: 22 + subject + payload + 8, + 4 + headers when
    // there are headers; memStoreMsgSize: subject + headers + payload + 16).
    CHECK(state.bytes == (kind == Kind::memory ? 47u + 29u + 26u : 65u + 43u + 40u));
    CHECK(h.store().durability().mode ==
          (kind == Kind::memory ? SyncMode::memory
                                : kind == Kind::file_interval ? SyncMode::interval : SyncMode::always));
}

// Goal: removal leaves a delete marker: the seq is gone, interior deletes are counted, first
// moves when the first goes. Method: remove middle, first, and a missing seq.
TEST_CASE("store: remove deletes one message and counts interior deletes", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    for (int i = 0; i < 5; ++i) h.store_ok("a");
    REQUIRE(h.remove(3));
    CHECK(h.load(3).error() == Errc::message_not_found);
    CHECK(h.remove(3).error() == Errc::message_not_found);
    CHECK(h.store().state().num_deleted == 1);
    REQUIRE(h.remove(1));
    CHECK(h.store().state().first_seq == 2);
    CHECK(h.store().state().messages == 3);
    h.restart();
    CHECK(h.store().state().messages == 3);
    CHECK(h.load(3).error() == Errc::message_not_found);
    CHECK(h.store_ok("a").seq == 6);
}

// Goal: last-by-subject and next-matching loads, with wildcards (KV get, consumers).
TEST_CASE("store: load_last and load_next follow subjects and wildcards", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    h.store_ok("kv.a", "1");
    h.store_ok("kv.b", "2");
    h.store_ok("kv.a", "3");
    h.store_ok("other", "4");
    CHECK(h.load_last("kv.a")->seq == 3);
    CHECK(h.load_last("kv.*")->seq == 3);
    CHECK(h.load_last(">")->seq == 4);
    CHECK(h.load_last("kv.c").error() == Errc::message_not_found);
    CHECK(h.load_next("kv.b", 1)->seq == 2);
    CHECK(h.load_next("kv.a", 2)->seq == 3);
    CHECK(h.load_next("kv.>", 4).error() == Errc::end_of_stream);
    CHECK(h.load_next("", 4)->seq == 4);
    REQUIRE(h.remove(3));
    CHECK(h.load_last("kv.a")->seq == 1);
    const auto subjects = h.store().subjects_state("kv.*");
    REQUIRE(subjects.size() == 2);
    CHECK(subjects[0] == SubjectState{"kv.a", 1, 1, 1});
    CHECK(subjects[1] == SubjectState{"kv.b", 1, 2, 2});
}

// Goal: every purge form of STREAM.PURGE (nats PurgeEx): all, by filter, up to seq, keep.
TEST_CASE("store: purge all, by subject, up to a seq, and keeping the newest", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    for (int i = 0; i < 10; ++i) h.store_ok(i % 2 == 0 ? "even" : "odd");
    CHECK(*h.purge(PurgeRequest{"odd", 0, 2}) == 3);  // 2,4,6 go; 8,10 stay.
    CHECK(h.store().subjects_state("odd")[0].first_seq == 8);
    CHECK(*h.purge(PurgeRequest{"even", 5, 0}) == 2);  // 1,3.
    CHECK(h.store().state().first_seq == 5);
    CHECK(h.purge(PurgeRequest{"", 3, 1}).error() == Errc::purge_argument_mismatch);
    CHECK(*h.purge(PurgeRequest{"", 0, 2}) == 3);  // 5,7,8 go; 9,10 stay.
    CHECK(h.store().state().messages == 2);
    CHECK(*h.purge(PurgeRequest{"", 10, 0}) == 1);
    CHECK(h.store().state().first_seq == 10);
    h.restart();
    CHECK(h.store().state().messages == 1);
    CHECK(*h.purge(PurgeRequest{}) == 1);
    const auto state = h.store().state();
    CHECK(state.messages == 0);
    CHECK(state.first_seq == 11);
    CHECK(state.last_seq == 10);
    h.restart();
    CHECK(h.store().state().first_seq == 11);
    CHECK(h.store_ok("even").seq == 11);
}

// Goal: compact past the end moves the next seq (nats Compact), and survives a restart.
TEST_CASE("store: compact removes below a seq and may move the next seq", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    for (int i = 0; i < 4; ++i) h.store_ok("a");
    CHECK(*h.compact(3) == 2);
    CHECK(h.store().state().first_seq == 3);
    CHECK(*h.compact(100) == 2);
    CHECK(h.store().state().last_seq == 99);
    h.restart();
    CHECK(h.store().state().last_seq == 99);
    CHECK(h.store_ok("a").seq == 100);
}

// Goal: skip on an empty store as nats-server SkipMsg shows it: last_seq raised, first_seq past
// it, nothing counted, the same after a restart; the next store continues at last + 1.
TEST_CASE("store: skip on an empty store moves first past the skipped seqs", "[store][skip]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    REQUIRE(h.skip(1, 5, 1'000));
    const auto state = h.store().state();
    CHECK(state.messages == 0);
    CHECK(state.bytes == 0);
    CHECK(state.first_seq == 6);
    CHECK(state.last_seq == 5);
    CHECK(state.last_ts == 1'000);
    CHECK(state.num_deleted == 0);
    CHECK(state.num_subjects == 0);
    CHECK(h.load(3).error() == Errc::message_not_found);
    CHECK(h.load(6).error() == Errc::end_of_stream);
    CHECK(h.load_next("", 1).error() == Errc::end_of_stream);
    h.restart();
    CHECK(h.store().state() == state);
    CHECK(h.store().recovery_report().clean());
    CHECK(h.store_ok("a").seq == 6);
    CHECK(h.store().state().first_seq == 6);
    CHECK(h.store().state().num_deleted == 0);
    h.restart();
    CHECK(h.store().state().first_seq == 6);
    CHECK(h.store().state().last_seq == 6);
}

// Goal: skip on a non-empty store: the skipped seqs are interior deletes, no limit counts them
// (discard old removes nothing, discard new still accepts the skip), and it survives a restart.
// Method: max_msgs 2 full, skip 3..10, restart, store once more.
TEST_CASE("store: skip counts against no limit and keeps every message", "[store][skip]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    const Discard discard = GENERATE(Discard::old_messages, Discard::new_messages);
    StoreLimits limits;
    limits.max_msgs = 2;
    limits.max_bytes = 200;
    limits.discard = discard;
    Harness h(kind, limits);
    const auto first = h.store_ok("a", "one");
    h.store_ok("b", "two");
    const auto before = h.store().state();
    const std::int64_t skip_ns = h.node().env().clock.realtime_ns();
    REQUIRE(h.skip(3, 10));  // Timestamp 0: the clock at the call.
    auto state = h.store().state();
    CHECK(state.messages == 2);
    CHECK(state.bytes == before.bytes);
    CHECK(state.first_seq == 1);
    CHECK(state.first_ts == first.timestamp_ns);
    CHECK(state.last_seq == 10);
    CHECK(state.last_ts == skip_ns);
    CHECK(state.num_deleted == 8);
    CHECK(state.num_subjects == 2);
    CHECK(h.load(1)->payload == "one");
    CHECK(h.load(2)->payload == "two");
    CHECK(h.load(7).error() == Errc::message_not_found);
    CHECK(h.load_next("", 3).error() == Errc::end_of_stream);
    CHECK(h.store().count_matching("", 1, 10) == 2);
    h.restart();
    CHECK(h.store().state() == state);
    if (discard == Discard::new_messages) {
        CHECK(h.store("c").error() == Errc::max_messages_exceeded);
        CHECK(h.store().state().last_seq == 10);
        return;
    }
    CHECK(h.store_ok("c").seq == 11);  // Pushes out the oldest, as any store at max_msgs.
    state = h.store().state();
    CHECK(state.messages == 2);
    CHECK(state.first_seq == 2);
    CHECK(state.num_deleted == 8);
    CHECK(h.load_next("", 3)->seq == 11);
    h.restart();
    CHECK(h.store().state() == state);
}

// Goal: skip refuses what nats-server's store could not mean: a range not starting at
// last_seq + 1, an empty range, a closed store.
TEST_CASE("store: skip refuses a range not at last_seq + 1", "[store][skip]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    h.store_ok("a");
    CHECK(h.skip(3, 4).error() == Errc::sequence_mismatch);
    CHECK(h.skip(1, 1).error() == Errc::sequence_mismatch);
    CHECK(h.skip(2, 1).error() == herald::base::Errc::invalid_argument);
    CHECK(h.store().state().last_seq == 1);
    REQUIRE(h.skip(2, 2));  // One seq, as SkipMsg.
    REQUIRE(h.skip(3, 1'000'000));  // A long gap is one record, whatever its length.
    CHECK(h.store().state().last_seq == 1'000'000);
    CHECK(h.store().state().num_deleted == 999'999);
    h.restart();
    CHECK(h.store().state().last_seq == 1'000'000);
    CHECK(h.store_ok("a").seq == 1'000'001);
    REQUIRE(h.close());
    CHECK(h.skip(1'000'002, 1'000'003).error() == Errc::closed);
}

// Goal: discard old drops the oldest at max_msgs and max_bytes; discard new refuses with the
// nats-server errors. Method: fill to the limit, store one more.
TEST_CASE("store: max_msgs and max_bytes with discard old and discard new", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    SECTION("discard old") {
        StoreLimits limits;
        limits.max_msgs = 3;
        Harness h(kind, limits);
        for (int i = 0; i < 5; ++i) h.store_ok("a");
        CHECK(h.store().state().messages == 3);
        CHECK(h.store().state().first_seq == 3);
        h.restart();
        CHECK(h.store().state().messages == 3);
        CHECK(h.store().state().first_seq == 3);
    }
    SECTION("discard new") {
        StoreLimits limits;
        limits.max_msgs = 3;
        limits.discard = Discard::new_messages;
        Harness h(kind, limits);
        for (int i = 0; i < 3; ++i) h.store_ok("a");
        auto refused = h.store("a");
        REQUIRE_FALSE(refused);
        CHECK(refused.error() == Errc::max_messages_exceeded);
        CHECK(refused.error().message() == "maximum messages exceeded");
        CHECK(h.store().state().last_seq == 3);
    }
    SECTION("max_bytes discard old and new") {
        StoreLimits limits;
        const std::uint64_t size = kind == Kind::memory ? 1 + 4 + 16 : 22 + 1 + 4 + 8;
        limits.max_bytes = static_cast<std::int64_t>(2 * size);
        Harness h(kind, limits);
        for (int i = 0; i < 3; ++i) h.store_ok("a", "data");
        CHECK(h.store().state().messages == 2);
        CHECK(h.store().state().bytes == 2 * size);
        limits.discard = Discard::new_messages;
        h.update_limits(limits);
        CHECK(h.store("a", "data").error() == Errc::max_bytes_exceeded);
    }
}

// Goal: with discard old, a message larger than max_bytes is stored and acknowledged, then the
// limit removes every message, itself included (nats-server storeRawMsg + enforceBytesLimit in
// memstore.go and filestore.go): messages 0, bytes 0, last_seq its seq, first_seq one past it.
// Method: two small messages, one over the limit, then a restart and one more small message.
TEST_CASE("store: a message larger than max_bytes with discard old is acked and then removed", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    StoreLimits limits;
    limits.max_bytes = 100;
    Harness h(kind, limits);
    CHECK(h.store_ok("a", "one").seq == 1);
    CHECK(h.store_ok("b", "two").seq == 2);
    auto big = h.store("a", std::string(200, 'x'));
    REQUIRE(big);
    CHECK(big->seq == 3);
    const auto check_empty_after = [&](herald::store::Seq last) {
        const auto state = h.store().state();
        CHECK(state.messages == 0);
        CHECK(state.bytes == 0);
        CHECK(state.first_seq == last + 1);
        CHECK(state.last_seq == last);
        CHECK(state.num_deleted == 0);
        CHECK(state.num_subjects == 0);
        CHECK(h.load(last).error() == Errc::message_not_found);
        CHECK(h.load_next("", 1).error() == Errc::end_of_stream);
    };
    check_empty_after(3);
    h.restart();
    check_empty_after(3);
    const auto small = h.store_ok("a", "four");
    CHECK(small.seq == 4);
    CHECK(h.store().state().messages == 1);
    CHECK(h.store().state().first_seq == 4);
    CHECK(h.load(4)->payload == "four");
}

// Goal: bytes and discard new at max_bytes as nats-server 2.9.10 counts them. Method: the numbers
// a real nats-server -js gave for the same publishes (STREAM.INFO state.bytes after each, and 5
// publishes of a 10-byte payload to a stream with max_bytes and discard new): it refuses when the
// bytes plus the new payload reach max_bytes, and a message it admits may push out the oldest.
TEST_CASE("store: bytes and max_bytes discard new as nats-server counts them", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    const bool memory = kind == Kind::memory;
    SECTION("bytes per message, with and without headers") {
        Harness h(kind);
        const std::string subject = memory ? "Bmemory" : "Bfile";
        const std::string headers = "NATS/1.0\r\nA: b\r\n\r\n";
        const std::vector<std::uint64_t> expected =
            memory ? std::vector<std::uint64_t>{30, 48, 27, 45} : std::vector<std::uint64_t>{42, 64, 39, 61};
        std::uint64_t before = 0;
        std::size_t i = 0;
        for (const auto& [suffix, with_headers, payload] :
             {std::tuple{".a", false, "hello"}, {".a", true, "hello"}, {".abc", false, ""}, {".abc", true, ""}}) {
            REQUIRE(h.store(subject + suffix, payload, with_headers ? headers : ""));
            CHECK(h.store().state().bytes - before == expected[i++]);
            before = h.store().state().bytes;
        }
        CHECK(before == (memory ? 150u : 206u));
        h.restart();
        CHECK(h.store().state().bytes == (memory ? 150u : 206u));
    }
    SECTION("max_bytes with discard new") {
        struct Case {
            std::int64_t max_bytes;
            std::vector<bool> stored;  // Of 5 publishes.
            std::uint64_t messages, bytes;
            herald::store::Seq first;
        };
        const std::string prefix = memory ? "BmemoryD" : "BfileD";
        const std::vector<Case> cases =
            memory ? std::vector<Case>{{90, {true, true, true, true, true}, 2, 72, 4},
                                       {100, {true, true, true, true, true}, 2, 74, 4}}
                   : std::vector<Case>{{90, {true, true, true, true, true}, 1, 48, 5},
                                       {100, {true, true, false, false, false}, 2, 98, 1}};
        for (const Case& c : cases) {
            INFO("max_bytes " << c.max_bytes);
            StoreLimits limits;
            limits.max_bytes = c.max_bytes;
            limits.discard = Discard::new_messages;
            Harness h(kind, limits);
            for (bool stored : c.stored) {
                auto result = h.store(prefix + std::to_string(c.max_bytes), std::string(10, 'x'));
                CHECK(result.has_value() == stored);
                if (!stored) CHECK(result.error() == Errc::max_bytes_exceeded);
            }
            CHECK(h.store().state().messages == c.messages);
            CHECK(h.store().state().bytes == c.bytes);
            CHECK(h.store().state().first_seq == c.first);
        }
    }
}

// Goal: count_matching is exact with interior deletes and interleaved subjects, and
// removed_below says whether every removal since a point was below a seq. Method: the
// interleaved stream of the consumer example (a and b alternating), deletes, a wildcard.
TEST_CASE("store: count_matching and removed_below", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    for (int i = 0; i < 10; ++i) {
        h.store_ok("p.a", "a");
        h.store_ok("p.b", "b");
    }
    auto& store = h.store();
    const herald::store::Seq end = ~herald::store::Seq{0};
    CHECK(store.count_matching("p.a", 1, end) == 10);
    CHECK(store.count_matching("p.a", 8, end) == 6);  // After 4 deliveries (seqs 1, 3, 5, 7).
    CHECK(store.count_matching("p.a", 9, 12) == 2);
    CHECK(store.count_matching("p.*", 8, end) == 13);
    CHECK(store.count_matching("", 8, end) == 13);
    CHECK(store.count_matching(">", 21, end) == 0);
    CHECK(store.count_matching("p.c", 1, end) == 0);
    const std::uint64_t removals = store.removals();
    REQUIRE(h.remove(3));
    REQUIRE(h.remove(12));
    CHECK(store.removals() == removals + 2);
    CHECK(store.removed_below(removals, 13));
    CHECK_FALSE(store.removed_below(removals, 12));
    CHECK(store.removed_below(removals + 2, 1));
    CHECK(store.count_matching("p.a", 1, end) == 9);
    CHECK(store.count_matching("p.b", 1, end) == 9);
    CHECK(store.count_matching("", 2, 13) == 10);
    CHECK(store.count_matching("*.b", 2, 13) == 5);
    CHECK(store.count_matching("p.b", 12, 12) == 0);
    // More removals than the store remembers: not known.
    const std::uint64_t before_purge = store.removals();
    REQUIRE(h.purge(PurgeRequest{}));
    CHECK(store.removals() == before_purge + 18);
    CHECK(store.removed_below(before_purge, 100));
    for (int i = 0; i < 70; ++i) h.store_ok("p.a", "a");
    REQUIRE(h.purge(PurgeRequest{}));
    CHECK_FALSE(store.removed_below(before_purge, 1000));
    CHECK(store.count_matching("", 1, end) == 0);
}

// Goal: max_msgs_per_subject keeps the newest per subject (KV history); with
// discard_new_per_subject it refuses instead.
TEST_CASE("store: max_msgs_per_subject keeps the newest per subject", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    StoreLimits limits;
    limits.max_msgs_per_subject = 2;
    Harness h(kind, limits);
    for (int i = 0; i < 4; ++i) h.store_ok("kv.a", std::to_string(i));
    h.store_ok("kv.b");
    CHECK(h.store().subjects_state("kv.a")[0] == SubjectState{"kv.a", 2, 3, 4});
    CHECK(h.store().state().messages == 3);
    CHECK(h.load(2).error() == Errc::message_not_found);
    h.restart();
    CHECK(h.store().subjects_state("kv.a")[0] == SubjectState{"kv.a", 2, 3, 4});
    limits.discard = Discard::new_messages;
    limits.discard_new_per_subject = true;
    h.update_limits(limits);
    CHECK(h.store("kv.a").error() == Errc::max_messages_per_subject_exceeded);
    CHECK(h.store("kv.b"));
}

// Goal: max_age expires messages by the node's wall clock through a loop timer, also ones that
// aged while the store was closed. Method: simulated time.
TEST_CASE("store: max_age expires messages on simulated time", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    StoreLimits limits;
    limits.max_age = Duration::seconds(10);
    Harness h(kind, limits);
    h.store_ok("a");
    h.advance(Duration::seconds(6));
    h.store_ok("a");
    h.advance(Duration::seconds(5));
    CHECK(h.store().state().messages == 1);
    CHECK(h.store().state().first_seq == 2);
    h.advance(Duration::seconds(5));
    CHECK(h.store().state().messages == 0);
    CHECK(h.store().state().first_seq == 3);
    h.store_ok("a");
    h.restart();
    if (h.is_file()) CHECK(h.store().state().messages == 1);
    h.advance(Duration::seconds(11));
    CHECK(h.store().state().messages == 0);
}

// Goal: consumer registration shows in consumer_count (StreamState field).
TEST_CASE("store: consumer_count follows add and remove", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    h.store().add_consumer();
    h.store().add_consumer();
    h.store().remove_consumer();
    CHECK(h.store().state().consumer_count == 1);
}

// Goal: an explicit seq (a replica applying the leader's entry) must be last_seq + 1.
TEST_CASE("store: an explicit seq and timestamp are applied or refused", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    std::optional<herald::Result<herald::store::StoreAck>> result;
    h.store().store(herald::store::StoreRequest{"a", "", "x", 1, 42},
                    [&](herald::Result<herald::store::StoreAck> ack) { result.emplace(ack); });
    h.run([&] { return result.has_value(); });
    REQUIRE(*result);
    CHECK((*result)->timestamp_ns == 42);
    result.reset();
    h.store().store(herald::store::StoreRequest{"a", "", "x", 5, 43},
                    [&](herald::Result<herald::store::StoreAck> ack) { result.emplace(ack); });
    h.run([&] { return result.has_value(); });
    CHECK(result->error() == Errc::sequence_mismatch);
}

// Goal: after close, everything fails with closed.
TEST_CASE("store: a closed store refuses work", "[store]") {
    const Kind kind = any_kind();
    INFO(kind_name(kind));
    Harness h(kind);
    h.store_ok("a");
    REQUIRE(h.close());
    CHECK(h.store("a").error() == Errc::closed);
    CHECK(h.load(1).error() == Errc::closed);
}

// Goal: count_matching's long-span paths (chain walks from both ends, per subject and over the
// stream) agree with brute force; short spans are checked by the property test. Method: 5,000
// interleaved messages on three subjects with scattered deletes, many filters and ranges.
TEST_CASE("store: count_matching over long spans equals brute force", "[store]") {
    const Kind kind = GENERATE(Kind::memory, Kind::file);
    INFO(kind_name(kind));
    Harness h(kind, {}, 1, 1024 * 1024);
    const char* names[] = {"s.a", "s.b", "t.c"};
    std::map<herald::store::Seq, std::string> kept;
    for (int i = 1; i <= 5000; ++i) {
        const char* subject = names[(i * 7 + i / 13) % 3];
        kept[h.store_ok(subject, "x").seq] = subject;
    }
    for (herald::store::Seq seq = 1; seq <= 5000; ++seq) {
        if (seq % 11 == 0 || seq % 97 < 3 || (seq > 3000 && seq < 3400)) {
            REQUIRE(h.remove(seq));
            kept.erase(seq);
        }
    }
    const herald::store::Seq end = ~herald::store::Seq{0};
    for (const char* filter : {"", ">", "s.a", "s.*", "*.c", "t.c", "x.y", "*.*"}) {
        for (const herald::store::Seq first : {0u, 1u, 2u, 100u, 1500u, 2999u, 3200u, 4000u, 4990u}) {
            for (const herald::store::Seq length : {0u, 1u, 50u, 1100u, 3000u, 4999u}) {
                const herald::store::Seq last = length == 4999 ? end : first + length;
                std::uint64_t expected = 0;
                for (const auto& [seq, subject] : kept) {
                    if (seq >= first && seq <= last && herald::store::filter_matches(filter, subject)) ++expected;
                }
                INFO(filter << " [" << first << ", " << last << "]");
                CHECK(h.store().count_matching(filter, first, last) == expected);
            }
        }
    }
}
