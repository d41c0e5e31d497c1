// Stream store benchmarks: durable stores/s with and without group commit and in lazy mode, on
// the real disk (AsioEnv in a mkdtemp directory under /tmp) and in the simulator (1 ms fsync),
// plus loads and MemStore. Stores are issued `outstanding` at a time (async publish with that
// many acks pending); items/s counts acknowledged stores. Simulated runs report their rate in
// simulated time as the "sim_stores/s" counter (their wall time measures only CPU work).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/support/alloc_counter.h"
#include "engine/io/asio/asio_env.h"
#include "engine/store/file_store.h"
#include "engine/store/mem_store.h"
#include "sim/node.h"
#include "sim/world.h"

namespace {

using herald::Result;
using herald::Status;
using herald::store::FileStore;
using herald::store::FileStoreConfig;
using herald::store::StoreAck;
using herald::store::StoredMessage;
using herald::store::StoreRequest;
using herald::store::SyncMode;

constexpr std::size_t handlers_max = 100'000'000;
constexpr std::uint64_t sim_steps_max = 100'000'000;

enum class Mode : std::int64_t { no_group_commit = 0, group_commit = 1, interval = 2 };

FileStoreConfig config_for(Mode mode, std::string directory) {
    FileStoreConfig config;
    config.directory = std::move(directory);
    config.group_commit = mode == Mode::group_commit;
    if (mode == Mode::interval) {
        config.sync_mode = SyncMode::interval;
        config.sync_interval = herald::Duration::seconds(1);
    }
    return config;
}

const char* mode_label(Mode mode) {
    switch (mode) {
        case Mode::no_group_commit: return "always,no_group_commit";
        case Mode::group_commit: return "always,group_commit";
        case Mode::interval: return "interval(1s)";
    }
    return "?";
}

// Real disk: AsioEnv, a fresh directory per run.
void BM_FileStore_Store_Real(benchmark::State& state) {
    const auto mode = static_cast<Mode>(state.range(0));
    const auto outstanding = static_cast<std::uint64_t>(state.range(1));
    std::string root = "/tmp/herald-store-bench-XXXXXX";
    if (::mkdtemp(root.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    {
        herald::io::AsioEnv asio;
        std::optional<Result<std::unique_ptr<FileStore>>> opened;
        FileStore::open(asio.env(), config_for(mode, root + "/S"), [&](auto result) { opened.emplace(std::move(result)); });
        asio.run_until([&] { return opened.has_value(); }, handlers_max);
        if (!opened || !*opened) {
            state.SkipWithError("open failed");
            return;
        }
        auto store = std::move(**opened);
        const std::string payload(128, 'p');
        std::uint64_t acked = 0;
        {
            herald::bench::AllocationCounter allocations(state, outstanding);
            for (auto _ : state) {
                const std::uint64_t target = acked + outstanding;
                for (std::uint64_t i = 0; i < outstanding; ++i) {
                    store->store(StoreRequest{"orders.new", "", payload}, [&](Result<StoreAck> ack) {
                        if (ack) acked += 1;
                    });
                }
                asio.run_until([&] { return acked >= target; }, handlers_max);
            }
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(acked));
        state.counters["syncs/store"] =
            static_cast<double>(store->stats().syncs) / static_cast<double>(acked == 0 ? 1 : acked);
        state.SetLabel(mode_label(mode));
        std::optional<Status> closed;
        store->close([&](Status status) { closed.emplace(status); });
        asio.run_until([&] { return closed.has_value(); }, handlers_max);
    }
    std::filesystem::remove_all(root);
}
BENCHMARK(BM_FileStore_Store_Real)
    ->ArgNames({"mode", "outstanding"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 64})
    ->Args({1, 64})
    ->Args({1, 1000})
    ->Args({2, 64})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(2.0);

// Simulated disk: 20 us writes, 1 ms fsync. The rate in simulated time is what group commit buys
// on a disk with that fsync latency.
void BM_FileStore_Store_Sim(benchmark::State& state) {
    const auto mode = static_cast<Mode>(state.range(0));
    const auto outstanding = static_cast<std::uint64_t>(state.range(1));
    herald::sim::SimWorld world(1);
    auto& node = world.add_node();
    std::optional<Result<std::unique_ptr<FileStore>>> opened;
    FileStore::open(node.env(), config_for(mode, "/data/S"), [&](auto result) { opened.emplace(std::move(result)); });
    world.run_until([&] { return opened.has_value(); }, sim_steps_max);
    auto store = std::move(**opened);
    const std::string payload(128, 'p');
    std::uint64_t acked = 0;
    const herald::Instant start = world.now();
    {
        herald::bench::AllocationCounter allocations(state, outstanding);
        for (auto _ : state) {
            const std::uint64_t target = acked + outstanding;
            for (std::uint64_t i = 0; i < outstanding; ++i) {
                store->store(StoreRequest{"orders.new", "", payload}, [&](Result<StoreAck> ack) {
                    if (ack) acked += 1;
                });
            }
            world.run_until([&] { return acked >= target; }, sim_steps_max);
        }
    }
    const double seconds = static_cast<double>(world.now().since(start).ns) / 1e9;
    state.SetItemsProcessed(static_cast<std::int64_t>(acked));
    state.counters["sim_stores/s"] = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
    state.SetLabel(mode_label(mode));
}
BENCHMARK(BM_FileStore_Store_Sim)
    ->ArgNames({"mode", "outstanding"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 64})
    ->Args({1, 64})
    ->Args({1, 1000})
    ->Args({2, 64})
    ->Unit(benchmark::kMicrosecond);

// Load by seq from the real disk (page cache), random over 10k messages.
void BM_FileStore_Load_Real(benchmark::State& state) {
    std::string root = "/tmp/herald-store-bench-XXXXXX";
    if (::mkdtemp(root.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    {
        herald::io::AsioEnv asio;
        std::optional<Result<std::unique_ptr<FileStore>>> opened;
        FileStore::open(asio.env(), config_for(Mode::group_commit, root + "/S"),
                        [&](auto result) { opened.emplace(std::move(result)); });
        asio.run_until([&] { return opened.has_value(); }, handlers_max);
        auto store = std::move(**opened);
        const std::string payload(128, 'p');
        constexpr std::uint64_t count = 10'000;
        std::uint64_t acked = 0;
        for (std::uint64_t i = 0; i < count; ++i) {
            store->store(StoreRequest{"orders.new", "", payload}, [&](Result<StoreAck>) { acked += 1; });
        }
        asio.run_until([&] { return acked == count; }, handlers_max);
        std::uint64_t seq = 1;
        std::uint64_t loaded = 0;
        {
            herald::bench::AllocationCounter allocations(state);
            for (auto _ : state) {
                store->load(seq, [&](Result<StoredMessage> message) { loaded += message ? 1U : 0U; });
                const std::uint64_t target = loaded + 1;
                asio.run_until([&] { return loaded >= target; }, handlers_max);
                seq = seq * 7919 % count + 1;
            }
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(loaded));
        std::optional<Status> closed;
        store->close([&](Status status) { closed.emplace(status); });
        asio.run_until([&] { return closed.has_value(); }, handlers_max);
    }
    std::filesystem::remove_all(root);
}
BENCHMARK(BM_FileStore_Load_Real)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A consumer reading in order after a restart (nothing cached): load_next_now when the read
// cache has the message, else load_next, which reads a 256 KiB chunk. 10k messages of 128 B,
// read round and round; each round starts cold again.
void BM_FileStore_LoadNext_Cold_Real(benchmark::State& state) {
    std::string root = "/tmp/herald-store-bench-XXXXXX";
    if (::mkdtemp(root.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    {
        herald::io::AsioEnv asio;
        const FileStoreConfig config = config_for(Mode::group_commit, root + "/S");
        auto open = [&] {
            std::optional<Result<std::unique_ptr<FileStore>>> opened;
            FileStore::open(asio.env(), config, [&](auto result) { opened.emplace(std::move(result)); });
            asio.run_until([&] { return opened.has_value(); }, handlers_max);
            return std::move(**opened);
        };
        auto close = [&](FileStore& store) {
            std::optional<Status> closed;
            store.close([&](Status status) { closed.emplace(status); });
            asio.run_until([&] { return closed.has_value(); }, handlers_max);
        };
        auto store = open();
        const std::string payload(128, 'p');
        constexpr std::uint64_t count = 10'000;
        std::uint64_t acked = 0;
        for (std::uint64_t i = 0; i < count; ++i) {
            store->store(StoreRequest{"orders.new", "", payload}, [&](Result<StoreAck>) { acked += 1; });
        }
        asio.run_until([&] { return acked == count; }, handlers_max);
        close(*store);
        store = open();
        std::uint64_t seq = 1;
        std::uint64_t loaded = 0;
        {
            herald::bench::AllocationCounter allocations(state);
            for (auto _ : state) {
                if (seq > count) {  // A new round: cold again.
                    state.PauseTiming();
                    close(*store);
                    store = open();
                    seq = 1;
                    state.ResumeTiming();
                }
                if (auto now = store->load_next_now("", seq)) {
                    loaded += *now ? 1U : 0U;
                } else {
                    const std::uint64_t target = loaded + 1;
                    store->load_next("", seq, [&](Result<StoredMessage> message) { loaded += message ? 1U : 0U; });
                    asio.run_until([&] { return loaded >= target; }, handlers_max);
                }
                seq += 1;
            }
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(loaded));
        state.counters["chunk_reads"] = static_cast<double>(store->stats().chunk_reads);
        close(*store);
    }
    std::filesystem::remove_all(root);
}
BENCHMARK(BM_FileStore_LoadNext_Cold_Real)->Unit(benchmark::kMicrosecond)->UseRealTime();

// MemStore store + ack on the simulated loop: the CPU cost of the shared index and limits.
void BM_MemStore_Store(benchmark::State& state) {
    herald::sim::SimWorld world(1);
    auto& node = world.add_node();
    herald::store::StoreLimits limits;
    limits.max_msgs = 100'000;
    herald::store::MemStore store(node.env(), limits);
    const std::string payload(128, 'p');
    std::uint64_t acked = 0;
    {
        herald::bench::AllocationCounter allocations(state);
        for (auto _ : state) {
            store.store(StoreRequest{"orders.new", "", payload}, [&](Result<StoreAck>) { acked += 1; });
            world.step();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(acked));
}
BENCHMARK(BM_MemStore_Store);

}  // namespace
