// Outbound micro-benchmarks: the delivery path of one connection. MSG frames (line encoded into
// the tail chunk, then payload and CRLF, as Client::deliver does) are queued, handed out as one
// vectored write (start_write) and recycled (finish_write), in batches like one loop turn's worth
// of deliveries. Items are frames, bytes are frame bytes; allocs/op per frame shows that chunk
// reuse keeps the steady state allocation-free.
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/support/alloc_counter.h"
#include "engine/core/outbound.h"
#include "engine/protocol/encoder.h"

namespace {

using herald::core::Outbound;

constexpr std::int64_t frames_per_flush = 256;

// Appends one MSG frame the way the server does: into the tail chunk directly.
std::size_t append_frame(Outbound& outbound, const std::string& payload) {
    std::string& chunk = outbound.tail_chunk(payload.size() + 64);
    const std::size_t before = chunk.size();
    herald::protocol::append_msg_line(chunk, "orders.eu.created", "17", "", payload.size());
    chunk.append(payload);
    chunk.append(herald::protocol::crlf);
    const std::size_t added = chunk.size() - before;
    outbound.commit_tail(added);
    return added;
}

// Queue `frames_per_flush` frames of `payload` bytes, then write them out as vectored writes
// (each drained at once, as a fast socket would) until the outbound is empty.
void BM_Outbound_Flush(benchmark::State& state) {
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    Outbound outbound;
    std::int64_t bytes = 0;
    std::size_t iovecs = 0;
    herald::bench::AllocationCounter allocations(state, frames_per_flush);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < frames_per_flush; ++i) {
            bytes += static_cast<std::int64_t>(append_frame(outbound, payload));
        }
        while (!outbound.empty()) {
            iovecs += outbound.start_write().size();
            outbound.finish_write();
        }
    }
    benchmark::DoNotOptimize(iovecs);
    state.SetItemsProcessed(state.iterations() * frames_per_flush);
    state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Outbound_Flush)->ArgName("payload")->Arg(16)->Arg(128)->Arg(1024);

// The slow-reader case: a write is in flight while more frames are appended behind it, so the
// outbound grows to several chunks before the write completes.
void BM_Outbound_AppendBehindWrite(benchmark::State& state) {
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    Outbound outbound;
    std::int64_t bytes = 0;
    herald::bench::AllocationCounter allocations(state, frames_per_flush);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < frames_per_flush; ++i) {
            bytes += static_cast<std::int64_t>(append_frame(outbound, payload));
            if (!outbound.write_in_flight()) outbound.start_write();
        }
        outbound.finish_write();
        while (!outbound.empty()) {
            outbound.start_write();
            outbound.finish_write();
        }
    }
    state.SetItemsProcessed(state.iterations() * frames_per_flush);
    state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Outbound_AppendBehindWrite)->ArgName("payload")->Arg(16)->Arg(1024);

}  // namespace
