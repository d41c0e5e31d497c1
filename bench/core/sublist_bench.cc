// Sublist micro-benchmarks: insert, and match on a cache hit, on a trie walk through wildcards, and
// on a cache miss, from 1 to 1M subscriptions. Each reports items/s and allocations per operation
// (counted by bench/support/alloc_counter).
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/support/alloc_counter.h"
#include "engine/core/sublist.h"


namespace {

using herald::core::Sublist;
using herald::core::Subscription;

constexpr std::int64_t subscriptions_max = 1 << 20;

// Subscriptions on "s.<i / 1000>.<i % 1000>": a two-level fan-out like service.instance names.
std::deque<Subscription> make_subs(std::int64_t count, std::int64_t wildcard_every = 0) {
    std::deque<Subscription> subs;
    for (std::int64_t i = 0; i < count; i++) {
        Subscription& sub = subs.emplace_back();
        sub.id = static_cast<std::uint64_t>(i + 1);
        if (wildcard_every > 0 && i % wildcard_every == 0) {
            sub.subject = (i / wildcard_every) % 2 == 0 ? "s." + std::to_string(i / 1000) + ".*"
                                                        : "s." + std::to_string(i / 1000) + ".>";
        } else {
            sub.subject = "s." + std::to_string(i / 1000) + "." + std::to_string(i % 1000);
        }
    }
    return subs;
}

void fill(Sublist& sublist, std::deque<Subscription>& subs) {
    for (Subscription& sub : subs) {
        if (!sublist.insert(sub)) std::abort();
    }
}

using herald::bench::AllocationCounter;

// Inserts N subscriptions into an empty sublist; time per insert.
void BM_Sublist_Insert(benchmark::State& state) {
    std::deque<Subscription> subs = make_subs(state.range(0), 10);
    std::uint64_t allocated = 0;
    for (auto _ : state) {
        auto sublist = std::make_unique<Sublist>();
        const std::uint64_t before = herald::bench::allocation_count();
        fill(*sublist, subs);
        allocated += herald::bench::allocation_count() - before;
        state.PauseTiming();
        sublist.reset();
        for (Subscription& sub : subs) sub.sublist_index = herald::core::sublist_index_none;
        state.ResumeTiming();
    }
    const auto inserts = state.iterations() * state.range(0);
    state.SetItemsProcessed(inserts);
    state.counters["allocs/op"] = static_cast<double>(allocated) / static_cast<double>(inserts);
}

// A literal subject that is in the cache: the hot path of a publish.
void BM_Sublist_Match_Literal(benchmark::State& state) {
    std::deque<Subscription> subs = make_subs(state.range(0));
    Sublist sublist;
    fill(sublist, subs);
    const std::string subject = subs.back().subject;
    if (sublist.match(subject)->plain.size() != 1) std::abort();
    AllocationCounter counter(state);
    for (auto _ : state) {
        auto result = sublist.match(subject);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations());
}

// A trie walk through '*' and '>' links, cache disabled: what a miss costs before caching.
void BM_Sublist_Match_Wildcard(benchmark::State& state) {
    std::deque<Subscription> subs = make_subs(state.range(0), 10);
    Sublist sublist(false);
    fill(sublist, subs);
    const std::string subject = "s.0.1";  // s.0.1 literal (if present), s.0.* and s.0.>
    if (sublist.match(subject)->empty()) std::abort();
    AllocationCounter counter(state);
    for (auto _ : state) {
        auto result = sublist.match(subject);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations());
}

// One-off subjects (each seen once, as $JS.ACK acks or reply inboxes): every match misses and
// walks the trie; admission keeps them out of the cache (a Bloom false positive may admit ~1%).
void BM_Sublist_Match_Miss(benchmark::State& state) {
    std::deque<Subscription> subs = make_subs(state.range(0), 10);
    Sublist sublist;
    fill(sublist, subs);
    std::vector<std::string> subjects;
    for (int i = 0; i < (1 << 18); i++) subjects.push_back("s." + std::to_string(i % 1024) + "." + std::to_string(i));
    std::size_t next = 0;
    AllocationCounter counter(state);
    for (auto _ : state) {
        auto result = sublist.match(subjects[next]);
        benchmark::DoNotOptimize(result);
        next = (next + 1) % subjects.size();
    }
    state.SetItemsProcessed(state.iterations());
    if (sublist.stats().cache_hits * 50 > static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("unexpected cache hits");
}

// Each subject matched twice in a row, over more subjects than the cache holds: the second miss
// admits it, so every pair walks the trie twice and inserts into the cache (sweeps included).
void BM_Sublist_Match_MissAdmit(benchmark::State& state) {
    std::deque<Subscription> subs = make_subs(state.range(0), 10);
    Sublist sublist;
    fill(sublist, subs);
    std::vector<std::string> subjects;
    for (int i = 0; i < 4096; i++) subjects.push_back("s." + std::to_string(i % 1024) + "." + std::to_string(i));
    std::size_t next = 0;
    AllocationCounter counter(state);
    for (auto _ : state) {
        auto first = sublist.match(subjects[next]);
        auto second = sublist.match(subjects[next]);
        benchmark::DoNotOptimize(first);
        benchmark::DoNotOptimize(second);
        next = (next + 1) % subjects.size();
    }
    state.SetItemsProcessed(2 * state.iterations());
}

// Removes and re-inserts one subscriber among N on the same subject: O(1), not O(N).
void BM_Sublist_RemoveInsert_SameSubject(benchmark::State& state) {
    std::deque<Subscription> subs;
    for (std::int64_t i = 0; i < state.range(0); i++) {
        Subscription& sub = subs.emplace_back();
        sub.id = static_cast<std::uint64_t>(i + 1);
        sub.subject = "hot.subject";
    }
    Sublist sublist;
    fill(sublist, subs);
    std::size_t next = 0;
    for (auto _ : state) {
        Subscription& sub = subs[next];
        if (!sublist.remove(sub)) std::abort();
        if (!sublist.insert(sub)) std::abort();
        next = (next + 7919) % subs.size();
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Sublist_Insert)->Name("BM_Sublist_Insert")->RangeMultiplier(10)->Range(1, 1000000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_Sublist_Match_Literal)->Name("BM_Sublist_Match/literal")->RangeMultiplier(10)->Range(1, 1000000);
BENCHMARK(BM_Sublist_Match_Wildcard)->Name("BM_Sublist_Match/wildcard")->RangeMultiplier(10)->Range(1, 1000000);
BENCHMARK(BM_Sublist_Match_Miss)->Name("BM_Sublist_Match/miss")->RangeMultiplier(10)->Range(1, 1000000);
BENCHMARK(BM_Sublist_Match_MissAdmit)->Name("BM_Sublist_Match/miss_admit")->RangeMultiplier(10)->Range(1, 1000000);
BENCHMARK(BM_Sublist_RemoveInsert_SameSubject)->Name("BM_Sublist_RemoveInsert/same_subject")->RangeMultiplier(10)->Range(1, 1000000);
