// Tests of the simulated network: two nodes exchange bytes with latency inside one thread, and
// the trace hash is a function of the seed.
#include "sim/network.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/errc.h"
#include "sim/node.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::base::Errc;
using herald::io::Stream;
using herald::sim::SimNode;
using herald::sim::SimWorld;
using herald::sim::SimWorldOptions;

namespace {

constexpr std::uint64_t steps_max = 100000;

std::span<const std::byte> bytes_of(const std::string& text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// Reads everything until end of stream, in small reads to exercise partial reads.
struct Drain {
    Stream* stream = nullptr;
    std::string received;
    std::vector<std::byte> buffer = std::vector<std::byte>(5);
    std::size_t reads = 0;
    bool eof = false;

    void start() {
        stream->read_some(buffer, [this](Result<std::size_t> read) {
            REQUIRE(read);
            ++reads;
            if (*read == 0) {
                eof = true;
                return;
            }
            received.append(reinterpret_cast<const char*>(buffer.data()), *read);
            start();
        });
    }
};

struct PingPong {
    std::string server_received;
    std::string client_received;
    std::uint64_t trace_hash = 0;
    std::uint64_t finished_ns = 0;
};

// Node 1 connects to node 0, sends three messages (one vectored write each), closes; node 0
// echoes each chunk it reads with a prefix and closes when it sees end of stream.
PingPong run_ping_pong(std::uint64_t seed) {
    SimWorld world(seed);
    SimNode& server_node = world.add_node();
    SimNode& client_node = world.add_node();

    std::unique_ptr<Stream> server;
    Drain server_drain;
    auto listener = server_node.env().network.listen(
        "0.0.0.0:4222", [&](Result<std::unique_ptr<Stream>> accepted) {
            REQUIRE(accepted);
            server = std::move(*accepted);
            REQUIRE(server->peer_address().rfind("10.0.0.2:", 0) == 0);
            server_drain.stream = server.get();
            server_drain.start();
        });
    REQUIRE(listener);
    REQUIRE((*listener)->local_address() == "10.0.0.1:4222");

    std::unique_ptr<Stream> client;
    Drain client_drain;
    const std::vector<std::string> messages = {"PUB a 5\r\nhello\r\n", "PING\r\n", "SUB b 1\r\n"};
    std::size_t total_size = 0;
    for (const auto& message : messages) total_size += message.size();
    std::size_t sent = 0;
    std::function<void()> send_next = [&] {
        if (sent == messages.size()) return;
        // Two parts per message; they stay alive in the callback until the write completes.
        auto head = std::make_shared<std::string>(messages[sent].substr(0, 3));
        auto tail = std::make_shared<std::string>(messages[sent].substr(3));
        const std::span<const std::byte> parts[] = {bytes_of(*head), bytes_of(*tail)};
        client->write_all(parts, [&, head, tail](Status status) {
            REQUIRE(status);
            ++sent;
            client_node.env().loop.schedule(Duration::milliseconds(1), send_next);
        });
    };
    client_node.env().network.connect("10.0.0.1:4222", [&](Result<std::unique_ptr<Stream>> connected) {
        REQUIRE(connected);
        client = std::move(*connected);
        REQUIRE(client->peer_address() == "10.0.0.1:4222");
        client_drain.stream = client.get();
        client_drain.start();
        send_next();
    });

    REQUIRE(world.run_until([&] { return server_drain.received.size() == total_size; }, steps_max));
    // Answer, then close: the client reads the answer, then end of stream, then closes too.
    const std::string answer = "+OK " + std::to_string(server_drain.received.size());
    const std::span<const std::byte> answer_parts[] = {bytes_of(answer)};
    bool answered = false;
    server->write_all(answer_parts, [&](Status status) {
        REQUIRE(status);
        answered = true;
        server->close();
    });
    REQUIRE(world.run_until([&] { return client_drain.eof && answered; }, steps_max));
    REQUIRE_FALSE(server_drain.eof);  // The server closed first: no callback after close.
    client->close();
    world.run_for(Duration::seconds(1));
    REQUIRE(server_drain.reads > messages.size());  // Five-byte reads: partial reads happened.
    return {server_drain.received, client_drain.received, world.trace_hash(), world.now().ns};
}

}  // namespace

// Goal: bytes cross the simulated network in order, with latency, in one thread.
// Method: a scripted exchange between two nodes, then compare what each side read.
TEST_CASE("sim network: two nodes exchange bytes with latency", "[sim][network]") {
    const PingPong result = run_ping_pong(42);
    REQUIRE(result.server_received == "PUB a 5\r\nhello\r\nPING\r\nSUB b 1\r\n");
    REQUIRE(result.client_received == "+OK 31");
    // Three 1 ms pauses plus at least 100 µs per hop for connect and data.
    REQUIRE(result.finished_ns >= 3'000'000 + 4 * 100'000);
}

// Goal: the trace hash is a function of the seed. Method: run the same exchange three times.
TEST_CASE("sim network: same seed same trace hash, different seed different hash",
          "[sim][network][determinism]") {
    const PingPong first = run_ping_pong(1234);
    const PingPong again = run_ping_pong(1234);
    const PingPong other = run_ping_pong(1235);
    REQUIRE(first.trace_hash == again.trace_hash);
    REQUIRE(first.finished_ns == again.finished_ns);
    REQUIRE(first.trace_hash != other.trace_hash);
    REQUIRE(other.server_received == first.server_received);
}

// Goal: connecting where nothing listens is refused after a round trip; a taken port is in use.
TEST_CASE("sim network: connect to a non-listening address is refused", "[sim][network]") {
    SimWorld world(5, SimWorldOptions{.network = {.link = {.latency_min = Duration::milliseconds(2),
                                                  .latency_jitter = Duration{}}}});
    SimNode& a = world.add_node();
    SimNode& b = world.add_node();
    std::optional<std::error_code> outcome;
    a.env().network.connect("10.0.0.2:4222", [&](Result<std::unique_ptr<Stream>> connected) {
        REQUIRE_FALSE(connected);
        outcome = connected.error();
    });
    REQUIRE(world.run_until([&] { return outcome.has_value(); }, steps_max));
    REQUIRE(*outcome == Errc::connection_refused);
    REQUIRE(world.now().ns == 4'000'000);  // There and back.

    auto first = b.env().network.listen("0.0.0.0:0", [](Result<std::unique_ptr<Stream>>) {});
    REQUIRE(first);
    REQUIRE((*first)->local_port() != 0);
    auto second = b.env().network.listen(
        "10.0.0.2:" + std::to_string((*first)->local_port()), [](Result<std::unique_ptr<Stream>>) {});
    REQUIRE_FALSE(second);
    REQUIRE(second.error() == Errc::address_in_use);
}

// Goal: after close() no callback of the stream runs, and the peer reads end of stream.
TEST_CASE("sim network: close silences the stream and the peer reads eof", "[sim][network]") {
    SimWorld world(6);
    SimNode& a = world.add_node();
    std::unique_ptr<Stream> server;
    Drain server_drain;
    auto listener = a.env().network.listen("127.0.0.1:7000", [&](Result<std::unique_ptr<Stream>> s) {
        server = std::move(*s);
        server_drain.stream = server.get();
        server_drain.start();
    });
    REQUIRE(listener);
    std::unique_ptr<Stream> client;
    std::vector<std::byte> buffer(8);
    bool client_read_called = false;
    a.env().network.connect("localhost:7000", [&](Result<std::unique_ptr<Stream>> c) {
        client = std::move(*c);
        client->read_some(buffer, [&](Result<std::size_t>) { client_read_called = true; });
        client->close();
    });
    REQUIRE(world.run_until([&] { return server_drain.eof; }, steps_max));
    world.run_for(Duration::seconds(1));
    REQUIRE_FALSE(client_read_called);
}
