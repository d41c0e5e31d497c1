// Encoder micro-benchmarks beyond the MSG line of parser_bench.cc: the HMSG line, and whole MSG
// and HMSG frames (line, headers, payload, CRLF) as the server writes them for a delivery. Items
// are frames, bytes are frame bytes; allocs/op shows that appending to a reserved buffer
// allocates nothing.
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/support/alloc_counter.h"
#include "engine/protocol/encoder.h"

namespace {

constexpr std::size_t buffer_size = 1 << 20;

void BM_Encoder_HmsgLine(benchmark::State& state) {
    std::string out;
    out.reserve(buffer_size);
    std::int64_t bytes = 0;
    herald::bench::AllocationCounter allocations(state);
    for (auto _ : state) {
        if (out.size() > buffer_size / 2) out.clear();
        const std::size_t before = out.size();
        herald::protocol::append_hmsg_line(out, "orders.eu.created", "17", "_INBOX.abc.1", 32, 160);
        bytes += static_cast<std::int64_t>(out.size() - before);
    }
    benchmark::DoNotOptimize(out.data());
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Encoder_HmsgLine);

// A whole delivery frame: MSG (headers = false) or HMSG (headers = true) with its payload.
void encode_frames(benchmark::State& state, bool headers) {
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    const std::string header_block = "NATS/1.0\r\nNats-Msg-Id: 42\r\n\r\n";
    std::string out;
    out.reserve(buffer_size);
    std::int64_t bytes = 0;
    herald::bench::AllocationCounter allocations(state);
    for (auto _ : state) {
        if (out.size() > buffer_size / 2) out.clear();
        const std::size_t before = out.size();
        if (headers) {
            herald::protocol::append_hmsg_line(out, "orders.eu.created", "17", "", header_block.size(),
                                               header_block.size() + payload.size());
            out.append(header_block);
        } else {
            herald::protocol::append_msg_line(out, "orders.eu.created", "17", "", payload.size());
        }
        out.append(payload);
        out.append(herald::protocol::crlf);
        bytes += static_cast<std::int64_t>(out.size() - before);
    }
    benchmark::DoNotOptimize(out.data());
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(bytes);
}

void BM_Encoder_MsgFrame(benchmark::State& state) { encode_frames(state, false); }
BENCHMARK(BM_Encoder_MsgFrame)->ArgName("payload")->Arg(16)->Arg(128)->Arg(1024);

void BM_Encoder_HmsgFrame(benchmark::State& state) { encode_frames(state, true); }
BENCHMARK(BM_Encoder_HmsgFrame)->ArgName("payload")->Arg(16)->Arg(128);

}  // namespace
