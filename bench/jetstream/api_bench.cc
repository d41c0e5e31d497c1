// JSON API request handling: what $JS.API.STREAM.CREATE does with a request body before it
// touches a store (parse into StreamConfig, nats-server's defaults and checks, the config echoed
// in the StreamInfo reply), and the same for a consumer config.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "bench/support/alloc_counter.h"
#include "engine/jetstream/consumer_config.h"
#include "engine/jetstream/stream_config.h"

namespace {

using herald::jetstream::ConsumerConfig;
using herald::jetstream::StreamConfig;

constexpr const char* stream_request =
    R"({"name":"ORDERS","subjects":["orders.*","refunds.>"],"retention":"limits",)"
    R"("max_consumers":-1,"max_msgs":1000000,"max_bytes":-1,"max_age":86400000000000,)"
    R"("max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file",)"
    R"("num_replicas":1,"duplicate_window":120000000000,"allow_rollup_hdrs":false})";

constexpr const char* consumer_request =
    R"({"durable_name":"PULL","deliver_policy":"all","ack_policy":"explicit",)"
    R"("ack_wait":30000000000,"max_deliver":-1,"filter_subject":"orders.new",)"
    R"("replay_policy":"instant","max_ack_pending":1000,"max_waiting":512})";

void BM_JsApi_StreamCreate(benchmark::State& state) {
    std::size_t reply_bytes = 0;
    herald::bench::AllocationCounter allocations(state);
    for (auto _ : state) {
        StreamConfig config;
        auto failure = herald::jetstream::parse_stream_config(stream_request, config);
        if (!failure) failure = herald::jetstream::check_stream_config(config);
        if (failure) {
            state.SkipWithError("the request was refused");
            break;
        }
        const std::string reply = herald::jetstream::stream_config_json(config).dump();
        reply_bytes += reply.size();
        benchmark::DoNotOptimize(reply.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["reply_bytes"] = benchmark::Counter(
        static_cast<double>(reply_bytes) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1)));
}
BENCHMARK(BM_JsApi_StreamCreate);

void BM_JsApi_ConsumerConfig(benchmark::State& state) {
    herald::bench::AllocationCounter allocations(state);
    for (auto _ : state) {
        const auto parsed = herald::jetstream::Json::parse(consumer_request, nullptr, false);
        ConsumerConfig config;
        if (herald::jetstream::consumer_config_from_json(parsed, config)) {
            state.SkipWithError("the request was refused");
            break;
        }
        benchmark::DoNotOptimize(config);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsApi_ConsumerConfig);

}  // namespace
