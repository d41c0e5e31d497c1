// Test helpers for the simulated network: a reader that collects everything a stream yields, a
// writer that sends strings one write at a time, and a connected pair of streams between nodes.
#pragma once

#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "sim/network.h"
#include "sim/node.h"

namespace herald::sim::testing {

inline constexpr std::uint64_t steps_max = 1'000'000;

// Reads until end of stream or an error; `received` holds every byte in order.
struct Reader {
    io::Stream* stream = nullptr;
    std::string received;
    std::optional<std::error_code> error;
    bool eof = false;
    std::size_t reads = 0;
    std::vector<std::byte> buffer = std::vector<std::byte>(64);

    void start() {
        stream->read_some(buffer, [this](Result<std::size_t> read) {
            ++reads;
            if (!read) {
                error = read.error();
                return;
            }
            if (*read == 0) {
                eof = true;
                return;
            }
            received.append(reinterpret_cast<const char*>(buffer.data()), *read);
            start();
        });
    }
    bool done() const { return eof || error.has_value(); }
};

// Sends strings in order, one write_all at a time; `results` has one Status per write.
struct Writer {
    io::Stream* stream = nullptr;
    std::deque<std::string> queue;
    bool writing = false;
    std::vector<Status> results;

    void send(std::string text) {
        queue.push_back(std::move(text));
        next();
    }
    void next() {
        if (writing || queue.empty()) return;
        writing = true;
        auto text = std::make_shared<std::string>(std::move(queue.front()));
        queue.pop_front();
        const std::span<const std::byte> parts[] = {
            std::as_bytes(std::span<const char>(text->data(), text->size()))};
        stream->write_all(parts, [this, text](Status status) {
            results.push_back(status);
            writing = false;
            next();
        });
    }
    bool idle() const { return !writing && queue.empty(); }
};

// A connection from `client_node` to a listener on `server_node`, with a Reader and a Writer
// on each side, established by running the world.
struct StreamPair {
    std::unique_ptr<io::Listener> listener;
    std::unique_ptr<io::Stream> server;
    std::unique_ptr<io::Stream> client;
    Reader server_reader;
    Reader client_reader;
    Writer server_writer;
    Writer client_writer;

    StreamPair(SimWorld& world, NodeIndex server_node, NodeIndex client_node,
               std::uint16_t port = 4222) {
        auto listening = world.node(server_node).env().network.listen(
            "0.0.0.0:" + std::to_string(port), [this](Result<std::unique_ptr<io::Stream>> accepted) {
                REQUIRE(accepted);
                server = std::move(*accepted);
                server_reader.stream = server.get();
                server_writer.stream = server.get();
                server_reader.start();
            });
        REQUIRE(listening);
        listener = std::move(*listening);
        world.node(client_node).env().network.connect(
            world.node(server_node).host() + ":" + std::to_string(port),
            [this](Result<std::unique_ptr<io::Stream>> connected) {
                REQUIRE(connected);
                client = std::move(*connected);
                client_reader.stream = client.get();
                client_writer.stream = client.get();
                client_reader.start();
            });
        REQUIRE(world.run_until([&] { return server && client; }, steps_max));
    }
};

// Connects and returns the outcome once known.
inline std::optional<Result<std::unique_ptr<io::Stream>>> try_connect(SimWorld& world, NodeIndex from,
                                                                       const std::string& address) {
    std::optional<Result<std::unique_ptr<io::Stream>>> outcome;
    world.node(from).env().network.connect(
        address, [&](Result<std::unique_ptr<io::Stream>> connected) { outcome = std::move(connected); });
    REQUIRE(world.run_until([&] { return outcome.has_value(); }, steps_max));
    return outcome;
}

}  // namespace herald::sim::testing
