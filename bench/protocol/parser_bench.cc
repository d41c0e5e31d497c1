// Parser and encoder micro-benchmarks: PUB and HPUB streams parsed from 64 KiB reads (as the
// server reads), the same stream cut into small reads (the split-frame copy path), and MSG line
// encoding. Items are frames; allocs/op shows that the normal path allocates nothing.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/support/alloc_counter.h"
#include "engine/protocol/encoder.h"
#include "engine/protocol/parser.h"

namespace {

using herald::protocol::MessageArgs;
using herald::protocol::ParseError;
using herald::protocol::Parser;
using herald::protocol::ParserLimits;
using herald::protocol::Role;

struct CountingHandler {
    std::size_t frames = 0;
    std::size_t bytes = 0;
    void on_connect(std::string_view) {}
    void on_pub(const MessageArgs& args, std::string_view payload) {
        ++frames;
        bytes += payload.size() + args.subject.size();
    }
    void on_sub(std::string_view, std::string_view, std::string_view) {}
    void on_unsub(std::string_view, std::optional<std::uint64_t>) {}
    void on_ping() {}
    void on_pong() {}
    void on_parse_error(ParseError) { std::abort(); }
    bool parse_stopped() const { return false; }
};

constexpr std::size_t frames_per_stream = 4096;

std::string pub_stream(std::size_t payload_size, bool headers) {
    std::string stream;
    const std::string payload(payload_size, 'x');
    for (std::size_t i = 0; i < frames_per_stream; ++i) {
        if (headers) {
            herald::protocol::append_hpub(stream, "orders.eu.created", "_INBOX.abc.1",
                                          "NATS/1.0\r\nNats-Msg-Id: 42\r\n\r\n", payload);
        } else {
            herald::protocol::append_pub(stream, "orders.eu.created", "", payload);
        }
    }
    return stream;
}

void run_parser(benchmark::State& state, const std::string& stream, std::size_t read_size) {
    Parser parser(Role::server, ParserLimits{});
    CountingHandler handler;
    herald::bench::AllocationCounter allocations(state, frames_per_stream);
    for (auto _ : state) {
        for (std::size_t offset = 0; offset < stream.size(); offset += read_size) {
            const std::size_t length = std::min(read_size, stream.size() - offset);
            parser.feed(std::span<const char>(stream.data() + offset, length), handler);
        }
    }
    benchmark::DoNotOptimize(handler.bytes);
    state.SetItemsProcessed(static_cast<std::int64_t>(handler.frames));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}

void BM_Parser_Pub(benchmark::State& state) {
    const std::string stream = pub_stream(static_cast<std::size_t>(state.range(0)), false);
    run_parser(state, stream, 64 * 1024);
}
BENCHMARK(BM_Parser_Pub)->ArgName("payload")->Arg(16)->Arg(128)->Arg(1024);

void BM_Parser_Hpub(benchmark::State& state) {
    const std::string stream = pub_stream(static_cast<std::size_t>(state.range(0)), true);
    run_parser(state, stream, 64 * 1024);
}
BENCHMARK(BM_Parser_Hpub)->ArgName("payload")->Arg(16)->Arg(128);

// Reads of 7 bytes: nearly every frame is split, so the line and payload copies are measured.
void BM_Parser_SplitFrames(benchmark::State& state) {
    const std::string stream = pub_stream(static_cast<std::size_t>(state.range(0)), false);
    run_parser(state, stream, 7);
}
BENCHMARK(BM_Parser_SplitFrames)->ArgName("payload")->Arg(16)->Arg(128);

void BM_Encoder_MsgLine(benchmark::State& state) {
    std::string out;
    out.reserve(1 << 20);
    herald::bench::AllocationCounter allocations(state);
    for (auto _ : state) {
        if (out.size() > (1 << 19)) out.clear();
        herald::protocol::append_msg_line(out, "orders.eu.created", "17", "_INBOX.abc.1", 128);
    }
    benchmark::DoNotOptimize(out.data());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encoder_MsgLine);

}  // namespace
