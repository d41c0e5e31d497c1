// Sublist: insert, remove, match and the result cache, against nats-server sublist.go behaviour
// and against a brute-force matcher built on protocol::subject_matches.
#include "engine/core/sublist.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include "engine/base/errc.h"
#include "engine/base/limits.h"
#include "engine/protocol/subject.h"

namespace {

using herald::core::Sublist;
using herald::core::SublistResult;
using herald::core::SublistResultPtr;
using herald::core::Subscription;

// Owns subscriptions for a test; a deque keeps their addresses stable.
class Subs {
public:
    Subscription& make(std::string subject, std::string queue = {}) {
        Subscription& sub = subs_.emplace_back();
        sub.id = ++ids_;
        sub.subject = std::move(subject);
        sub.queue = std::move(queue);
        sub.sid = std::to_string(sub.id);
        return sub;
    }

private:
    std::deque<Subscription> subs_;
    std::uint64_t ids_ = 0;
};

std::vector<std::uint64_t> ids(const std::vector<Subscription*>& subs) {
    std::vector<std::uint64_t> out;
    for (const Subscription* sub : subs) out.push_back(sub->id);
    return out;
}

std::vector<std::uint64_t> sorted_plain_ids(const SublistResult& result) {
    std::vector<std::uint64_t> out = ids(result.plain);
    std::sort(out.begin(), out.end());
    return out;
}

// Queue groups as name -> sorted member ids.
std::map<std::string, std::vector<std::uint64_t>> queue_ids(const SublistResult& result) {
    std::map<std::string, std::vector<std::uint64_t>> out;
    for (const auto& group : result.queue_groups) {
        REQUIRE_FALSE(group.members.empty());
        auto& members = out[std::string(group.name())];
        REQUIRE(members.empty());  // names are distinct
        for (const Subscription* sub : group.members) members.push_back(sub->id);
        std::sort(members.begin(), members.end());
    }
    return out;
}

void insert_ok(Sublist& sublist, Subscription& sub) { REQUIRE(sublist.insert(sub).has_value()); }
void remove_ok(Sublist& sublist, Subscription& sub) { REQUIRE(sublist.remove(sub).has_value()); }

}  // namespace

TEST_CASE("sublist: a literal subscription matches only its own subject", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& foo_bar = subs.make("foo.bar");
    insert_ok(sublist, foo_bar);
    CHECK(sublist.count() == 1);
    CHECK(ids(sublist.match("foo.bar")->plain) == std::vector<std::uint64_t>{foo_bar.id});
    CHECK(sublist.match("foo")->empty());
    CHECK(sublist.match("foo.bar.baz")->empty());
    CHECK(sublist.match("foo.baz")->empty());
    CHECK(sublist.match("foo.*")->empty());
    sublist.check_invariants();
}

TEST_CASE("sublist: '*' matches exactly one token", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& star = subs.make("foo.*");
    Subscription& middle = subs.make("*.bar.*");
    insert_ok(sublist, star);
    insert_ok(sublist, middle);
    CHECK(ids(sublist.match("foo.bar")->plain) == std::vector<std::uint64_t>{star.id});
    CHECK(ids(sublist.match("x.bar.y")->plain) == std::vector<std::uint64_t>{middle.id});
    CHECK(sorted_plain_ids(*sublist.match("foo.bar.baz")) == std::vector<std::uint64_t>{middle.id});
    CHECK(sublist.match("foo")->empty());
    CHECK(sublist.match("x.bar")->empty());
    CHECK(sublist.match("foo.bar.baz.qux")->empty());
    sublist.check_invariants();
}

TEST_CASE("sublist: '>' matches one or more trailing tokens", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& all = subs.make(">");
    Subscription& foo = subs.make("foo.>");
    insert_ok(sublist, all);
    insert_ok(sublist, foo);
    CHECK(sorted_plain_ids(*sublist.match("foo.bar")) == std::vector<std::uint64_t>{all.id, foo.id});
    CHECK(sorted_plain_ids(*sublist.match("foo.bar.baz")) == std::vector<std::uint64_t>{all.id, foo.id});
    CHECK(ids(sublist.match("foo")->plain) == std::vector<std::uint64_t>{all.id});
    CHECK(ids(sublist.match("bar")->plain) == std::vector<std::uint64_t>{all.id});
    sublist.check_invariants();
}

TEST_CASE("sublist: a publish to a wildcard subject takes its tokens literally", "[core][sublist]") {
    // nats quirk (core-protocol.md §6): foo.* reaches foo.*, foo.> and >, but not foo.bar.
    Subs subs;
    Sublist sublist;
    Subscription& star = subs.make("foo.*");
    Subscription& tail = subs.make("foo.>");
    Subscription& all = subs.make(">");
    Subscription& literal = subs.make("foo.bar");
    for (Subscription* sub : {&star, &tail, &all, &literal}) insert_ok(sublist, *sub);
    CHECK(sorted_plain_ids(*sublist.match("foo.*")) == std::vector<std::uint64_t>{star.id, tail.id, all.id});
    CHECK(sorted_plain_ids(*sublist.match("foo.>")) == std::vector<std::uint64_t>{star.id, tail.id, all.id});
}

TEST_CASE("sublist: a subject with an empty token matches nothing", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    insert_ok(sublist, subs.make(">"));
    for (const char* subject : {"", ".", "foo.", ".foo", "foo..bar"}) {
        INFO(subject);
        CHECK(sublist.match(subject)->empty());
    }
    CHECK(sublist.cache_count() == 0);
}

TEST_CASE("sublist: an invalid subject is refused and a missing subscription is not found", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    for (const char* subject : {"", "foo..bar", "foo.>.bar", ".foo", "foo bar"}) {
        Subscription& sub = subs.make(subject);
        INFO(subject);
        const herald::Status status = sublist.insert(sub);
        REQUIRE_FALSE(status.has_value());
        CHECK(status.error() == herald::base::Errc::invalid_argument);
        CHECK(sub.sublist_index == herald::core::sublist_index_none);
    }
    Subscription& absent = subs.make("foo.bar");
    CHECK(sublist.remove(absent).error() == herald::base::Errc::not_found);
    Subscription& present = subs.make("foo.bar");
    insert_ok(sublist, present);
    CHECK(sublist.remove(absent).error() == herald::base::Errc::not_found);
    remove_ok(sublist, present);
    CHECK(sublist.remove(present).error() == herald::base::Errc::not_found);
    CHECK(sublist.count() == 0);
    sublist.check_invariants();
}

TEST_CASE("sublist: queue subscriptions are grouped by queue name across patterns", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& plain = subs.make("foo.bar");
    Subscription& a1 = subs.make("foo.bar", "a");
    Subscription& a2 = subs.make("foo.*", "a");
    Subscription& a3 = subs.make("foo.>", "a");
    Subscription& b1 = subs.make("foo.bar", "b");
    Subscription& c1 = subs.make("baz", "c");
    for (Subscription* sub : {&plain, &a1, &a2, &a3, &b1, &c1}) insert_ok(sublist, *sub);
    const SublistResultPtr result = sublist.match("foo.bar");
    CHECK(ids(result->plain) == std::vector<std::uint64_t>{plain.id});
    const std::map<std::string, std::vector<std::uint64_t>> expected{{"a", {a1.id, a2.id, a3.id}},
                                                                     {"b", {b1.id}}};
    CHECK(queue_ids(*result) == expected);
    sublist.check_invariants();

    remove_ok(sublist, b1);
    CHECK_FALSE(queue_ids(*sublist.match("foo.bar")).contains("b"));
    remove_ok(sublist, a2);
    CHECK(queue_ids(*sublist.match("foo.bar"))["a"] == std::vector<std::uint64_t>{a1.id, a3.id});
    sublist.check_invariants();
}

TEST_CASE("sublist: removal prunes empty nodes and leaves the other subscriptions", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& deep = subs.make("a.b.c.d");
    Subscription& shallow = subs.make("a.b");
    Subscription& star = subs.make("a.*.c");
    for (Subscription* sub : {&deep, &shallow, &star}) insert_ok(sublist, *sub);
    remove_ok(sublist, deep);
    sublist.check_invariants();  // asserts that no empty node is left
    CHECK(sublist.match("a.b.c.d")->empty());
    CHECK(ids(sublist.match("a.b")->plain) == std::vector<std::uint64_t>{shallow.id});
    CHECK(ids(sublist.match("a.b.c")->plain) == std::vector<std::uint64_t>{star.id});
    remove_ok(sublist, shallow);
    remove_ok(sublist, star);
    CHECK(sublist.count() == 0);
    sublist.check_invariants();
    // Re-inserting after full pruning works and a subscription may be reused.
    insert_ok(sublist, deep);
    CHECK(ids(sublist.match("a.b.c.d")->plain) == std::vector<std::uint64_t>{deep.id});
    sublist.check_invariants();
}

TEST_CASE("sublist: removing one of many subscribers on a subject keeps the rest in a fixed order", "[core][sublist]") {
    // Goal: removal is by slot, not by search, and the order it leaves is a function of the
    // operations only. Method: two sublists fed the same operations give identical results.
    Subs subs;
    std::vector<Subscription*> first;
    std::vector<Subscription*> second;
    for (int i = 0; i < 1000; i++) {
        first.push_back(&subs.make("hot.subject", i % 3 == 0 ? "q" : ""));
        second.push_back(&subs.make("hot.subject", i % 3 == 0 ? "q" : ""));
    }
    Sublist one;
    Sublist two;
    for (std::size_t i = 0; i < first.size(); i++) {
        insert_ok(one, *first[i]);
        insert_ok(two, *second[i]);
    }
    for (std::size_t i = 0; i < first.size(); i += 7) {
        remove_ok(one, *first[i]);
        remove_ok(two, *second[i]);
    }
    const SublistResultPtr a = one.match("hot.subject");
    const SublistResultPtr b = two.match("hot.subject");
    REQUIRE(a->plain.size() == b->plain.size());
    // Ids differ by one between the twins (first is odd-numbered, second even).
    for (std::size_t i = 0; i < a->plain.size(); i++) CHECK(a->plain[i]->id + 1 == b->plain[i]->id);
    REQUIRE(a->queue_groups.size() == 1);
    REQUIRE(b->queue_groups.size() == 1);
    const auto& qa = a->queue_groups[0].members;
    const auto& qb = b->queue_groups[0].members;
    REQUIRE(qa.size() == qb.size());
    for (std::size_t i = 0; i < qa.size(); i++) CHECK(qa[i]->id + 1 == qb[i]->id);
    CHECK(one.count() == 1000 - 143);
    one.check_invariants();
    two.check_invariants();
}

TEST_CASE("sublist: a cached result is reused until an insert or remove touches it", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    Subscription& foo = subs.make("foo.bar");
    Subscription& other = subs.make("other");
    insert_ok(sublist, foo);
    (void)sublist.match("foo.bar");  // a first miss is not cached (admission), the second is
    const SublistResultPtr first = sublist.match("foo.bar");
    const SublistResultPtr again = sublist.match("foo.bar");
    CHECK(first == again);  // the same shared result
    CHECK(sublist.stats().cache_hits == 1);
    CHECK(sublist.stats().matches == 3);

    // An unrelated insert leaves the entry alone.
    insert_ok(sublist, other);
    CHECK(sublist.match("foo.bar") == first);

    // A wildcard insert that matches the entry replaces it; the old result stays as it was.
    Subscription& star = subs.make("foo.*");
    insert_ok(sublist, star);
    const SublistResultPtr after_insert = sublist.match("foo.bar");
    CHECK(after_insert != first);
    CHECK(sorted_plain_ids(*after_insert) == std::vector<std::uint64_t>{foo.id, star.id});
    CHECK(ids(first->plain) == std::vector<std::uint64_t>{foo.id});
    sublist.check_invariants();

    remove_ok(sublist, foo);
    CHECK(ids(sublist.match("foo.bar")->plain) == std::vector<std::uint64_t>{star.id});
    remove_ok(sublist, star);
    CHECK(sublist.match("foo.bar")->empty());
    sublist.check_invariants();

    const Sublist::Stats stats = sublist.stats();
    CHECK(stats.inserts == 3);
    CHECK(stats.removes == 2);
    CHECK(stats.count == 1);
    CHECK(stats.cache_entries == 1);
}

TEST_CASE("sublist: a cached result equals a fresh match whatever the order of operations", "[core][sublist]") {
    // Goal: results never depend on whether they were cached. Method: the same operations with
    // and without matches in between give identical (ordered) results.
    Subs subs;
    Subscription& literal = subs.make("foo.bar");
    Subscription& tail = subs.make("foo.>");
    Subscription& literal2 = subs.make("foo.bar");
    Subscription& tail2 = subs.make("foo.>");
    Sublist warm;
    Sublist cold(false);
    insert_ok(warm, literal);
    (void)warm.match("foo.bar");
    insert_ok(warm, tail);
    insert_ok(cold, literal2);
    insert_ok(cold, tail2);
    CHECK(ids(warm.match("foo.bar")->plain) == std::vector<std::uint64_t>{tail.id, literal.id});
    CHECK(ids(cold.match("foo.bar")->plain) == std::vector<std::uint64_t>{tail2.id, literal2.id});
    CHECK(cold.cache_count() == 0);
    warm.check_invariants();
    cold.check_invariants();
}

TEST_CASE("sublist: the cache is bounded and a sweep keeps the most recently used entries", "[core][sublist]") {
    namespace limits = herald::limits;
    Subs subs;
    Sublist sublist;
    Subscription& all = subs.make(">");
    insert_ok(sublist, all);
    // Each subject is matched twice: the second miss admits it to the cache.
    const auto admit = [&](const std::string& subject) {
        (void)sublist.match(subject);
        (void)sublist.match(subject);
    };
    admit("hot");
    // "hot" plus entries_max - 1 cold subjects fill the cache exactly.
    for (std::size_t i = 0; i + 1 < limits::sublist_cache_entries_max; i++) {
        admit("cold." + std::to_string(i));
        if (i % 100 == 0) (void)sublist.match("hot");  // keep it recently used
        CHECK(sublist.cache_count() <= limits::sublist_cache_entries_max);
    }
    CHECK(sublist.cache_count() == limits::sublist_cache_entries_max);
    admit("one.more");
    CHECK(sublist.cache_count() == limits::sublist_cache_sweep_to);
    const std::uint64_t hits = sublist.stats().cache_hits;
    (void)sublist.match("hot");
    (void)sublist.match("one.more");
    CHECK(sublist.stats().cache_hits == hits + 2);
    (void)sublist.match("cold.0");
    CHECK(sublist.stats().cache_hits == hits + 2);
    sublist.check_invariants();
}

TEST_CASE("sublist: one-off subjects do not enter the cache nor sweep the hot entries out", "[core][sublist]") {
    // Goal: a flood of subjects seen once (JetStream ack subjects, reply inboxes) leaves the cached
    // hot subjects cached. Method: 300 hot subjects admitted, 10 cache sizes of one-off subjects,
    // then every hot subject must be a cache hit and no sweep may have run.
    namespace limits = herald::limits;
    Subs subs;
    Sublist sublist;
    Subscription& acks = subs.make("$JS.ACK.S.C.>");
    insert_ok(sublist, acks);
    std::vector<std::string> hot;
    for (int i = 0; i < 300; i++) hot.push_back("$JS.ACK.S.C.hot." + std::to_string(i));
    for (int round = 0; round < 2; round++) {
        for (const std::string& subject : hot) (void)sublist.match(subject);
    }
    CHECK(sublist.cache_count() == hot.size());
    for (std::size_t i = 0; i < 10 * limits::sublist_cache_entries_max; i++) {
        const SublistResultPtr result = sublist.match("$JS.ACK.S.C.1." + std::to_string(i) + ".1.0.0");
        REQUIRE(result->plain.size() == 1);
        CHECK(result->plain.front() == &acks);
    }
    // A few one-offs may pass the Bloom filter as false positives; far fewer than a sweep needs.
    CHECK(sublist.cache_count() < hot.size() + 200);
    const std::uint64_t hits = sublist.stats().cache_hits;
    for (const std::string& subject : hot) (void)sublist.match(subject);
    CHECK(sublist.stats().cache_hits == hits + hot.size());
    sublist.check_invariants();
}

TEST_CASE("sublist: an uncached result a caller holds is never rewritten", "[core][sublist]") {
    // Uncached results are recycled only when no caller holds them: results kept across later
    // one-off matches (and inserts) keep what they had.
    Subs subs;
    Sublist sublist;
    Subscription& a = subs.make("a.>");
    Subscription& b = subs.make("b.>");
    insert_ok(sublist, a);
    insert_ok(sublist, b);
    std::vector<SublistResultPtr> kept;
    for (int i = 0; i < 8; i++) {
        kept.push_back(sublist.match(std::string(i % 2 == 0 ? "a." : "b.") + std::to_string(i)));
        if (i == 4) insert_ok(sublist, subs.make("a.*"));
    }
    for (std::size_t i = 0; i < kept.size(); i++) {
        INFO(i);
        REQUIRE(!kept[i]->plain.empty());
        CHECK(kept[i]->plain.front() == (i % 2 == 0 ? &a : &b));
        CHECK(kept[i]->plain.size() == (i % 2 == 0 && i > 4 ? 2u : 1u));
    }
    // Dropped results are reused: a run of one-off matches, each released before the next,
    // hands out at most two distinct results.
    std::set<const SublistResult*> distinct;
    for (int i = 0; i < 100; i++) distinct.insert(sublist.match("b.x." + std::to_string(i)).get());
    CHECK(distinct.size() <= 3);
    sublist.check_invariants();
}

TEST_CASE("sublist: removing a batch clears the cache once", "[core][sublist]") {
    Subs subs;
    Sublist sublist;
    std::vector<Subscription*> batch;
    for (int i = 0; i < 10; i++) {
        batch.push_back(&subs.make("batch." + std::to_string(i % 3) + ".>"));
        insert_ok(sublist, *batch.back());
    }
    Subscription& stays = subs.make("batch.*.x");
    insert_ok(sublist, stays);
    (void)sublist.match("batch.1.x");
    Subscription& never_inserted = subs.make("batch.9");
    batch.push_back(&never_inserted);
    CHECK(sublist.remove_batch(batch).error() == herald::base::Errc::not_found);
    CHECK(sublist.count() == 1);
    CHECK(sublist.cache_count() == 0);
    CHECK(ids(sublist.match("batch.1.x")->plain) == std::vector<std::uint64_t>{stays.id});
    sublist.check_invariants();
}

namespace {

struct Op {
    bool insert = true;
    std::string subject;  // insert: the pattern
    std::string queue;    // insert: "" for plain
    std::size_t victim = 0;  // remove: index among live subscriptions (modulo)
    std::vector<std::string> probes;  // subjects matched after the operation
};

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& token : tokens) {
        if (!out.empty()) out += '.';
        out += token;
    }
    return out;
}

rc::Gen<std::string> gen_pattern() {
    return rc::gen::map(
        rc::gen::pair(rc::gen::inRange<std::size_t>(1, 5),
                      rc::gen::container<std::vector<std::string>>(4, rc::gen::element<std::string>("a", "b", "*", ">"))),
        [](std::pair<std::size_t, std::vector<std::string>> spec) {
            std::vector<std::string> tokens(spec.second.begin(), spec.second.begin() + static_cast<std::ptrdiff_t>(spec.first));
            for (std::size_t i = 0; i + 1 < tokens.size(); i++) {
                if (tokens[i] == ">") tokens[i] = "*";
            }
            return join(tokens);
        });
}

rc::Gen<std::string> gen_subject() {
    // Mostly literal tokens, sometimes a literal '*' or '>' as a publish may carry.
    return rc::gen::map(
        rc::gen::pair(rc::gen::inRange<std::size_t>(1, 5),
                      rc::gen::container<std::vector<std::string>>(
                          4, rc::gen::weightedElement<std::string>({{6, "a"}, {6, "b"}, {1, "*"}, {1, ">"}}))),
        [](std::pair<std::size_t, std::vector<std::string>> spec) {
            std::vector<std::string> tokens(spec.second.begin(), spec.second.begin() + static_cast<std::ptrdiff_t>(spec.first));
            return join(tokens);
        });
}

rc::Gen<Op> gen_op() {
    return rc::gen::build<Op>(
        rc::gen::set(&Op::insert, rc::gen::weightedElement<bool>({{3, true}, {1, false}})),
        rc::gen::set(&Op::subject, gen_pattern()),
        rc::gen::set(&Op::queue, rc::gen::weightedElement<std::string>({{3, ""}, {1, "q1"}, {1, "q2"}})),
        rc::gen::set(&Op::victim, rc::gen::arbitrary<std::size_t>()),
        rc::gen::set(&Op::probes, rc::gen::container<std::vector<std::string>>(2, gen_subject())));
}

}  // namespace

TEST_CASE("sublist: matches a brute-force model under random operations", "[core][sublist][property]") {
    // Goal: trie, pruning, swap-remove and cache invalidation agree with the definition of a
    // match. Method: random inserts/removes over tiny alphabets; after each step compare match()
    // with subject_matches over all live subscriptions, as multisets, and check the invariants.
    rc::prop("sublist: matches a brute-force matcher over random subjects, subscriptions and removals",
             [](bool cache_enabled) {
                 const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(gen_op());
                 Subs subs;
                 std::vector<Subscription*> live;
                 Sublist sublist(cache_enabled);
                 std::size_t non_empty_matches = 0;
                 for (const Op& op : ops) {
                     if (op.insert || live.empty()) {
                         Subscription& sub = subs.make(op.subject, op.queue);
                         RC_ASSERT(sublist.insert(sub).has_value());
                         live.push_back(&sub);
                     } else {
                         const std::size_t index = op.victim % live.size();
                         RC_ASSERT(sublist.remove(*live[index]).has_value());
                         live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
                     }
                     RC_ASSERT(sublist.count() == live.size());
                     for (const std::string& subject : op.probes) {
                         std::vector<std::uint64_t> plain;
                         std::map<std::string, std::vector<std::uint64_t>> queues;
                         for (const Subscription* sub : live) {
                             if (!herald::protocol::subject_matches(sub->subject, subject)) continue;
                             if (sub->queue.empty()) {
                                 plain.push_back(sub->id);
                             } else {
                                 queues[sub->queue].push_back(sub->id);
                             }
                         }
                         std::sort(plain.begin(), plain.end());
                         for (auto& [name, members] : queues) std::sort(members.begin(), members.end());
                         const SublistResultPtr result = sublist.match(subject);
                         if (!result->empty()) non_empty_matches++;
                         RC_ASSERT(sorted_plain_ids(*result) == plain);
                         RC_ASSERT(queue_ids(*result) == queues);
                     }
                     sublist.check_invariants();
                 }
                 RC_CLASSIFY(non_empty_matches > 0, "some probes matched");
                 for (Subscription* sub : live) RC_ASSERT(sublist.remove(*sub).has_value());
                 RC_ASSERT(sublist.count() == 0);
                 sublist.check_invariants();
             });
}
