// The publish rate to a null sink, hidden from the default run ([.bench]): the issue requires the
// client to publish 16-byte messages at least twice as fast as nats-server absorbs them, so that
// benchmarks measure the server. The sink is a Stream that completes every write at once and
// answers the handshake; the loop is a plain task queue; the time is the wall clock.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "engine/client/client.h"
#include "sim/node.h"
#include "sim/world.h"

namespace {

using herald::Result;
using herald::Status;

class QueueLoop final : public herald::io::Loop {
public:
    void post(std::function<void()> task) override { tasks_.push_back(std::move(task)); }
    herald::io::TimerId schedule(herald::Duration, std::function<void()>) override { return ++timers_; }
    void cancel(herald::io::TimerId) override {}
    void run() {
        while (!tasks_.empty()) {
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            task();
        }
    }

private:
    std::deque<std::function<void()>> tasks_;
    herald::io::TimerId timers_ = 0;
};

// Sends INFO, answers the first PING with PONG, then swallows everything.
class NullStream final : public herald::io::Stream {
public:
    explicit NullStream(QueueLoop& loop) : loop_(loop) {}
    void read_some(std::span<std::byte> target, std::function<void(Result<std::size_t>)> on_read) override {
        std::string_view reply;
        if (!info_sent_) {
            reply = R"(INFO {"server_id":"NULL","version":"2.9.10","headers":true,"max_payload":1048576})" "\r\n";
            info_sent_ = true;
        } else if (ping_seen_ && !pong_sent_) {
            reply = "PONG\r\n";
            pong_sent_ = true;
        } else {
            pending_target_ = target;
            pending_read_ = std::move(on_read);
            return;
        }
        std::memcpy(target.data(), reply.data(), reply.size());
        loop_.post([on_read = std::move(on_read), n = reply.size()] { on_read(n); });
    }
    void write_all(std::span<const std::span<const std::byte>> sources,
                   std::function<void(Status)> on_written) override {
        for (const auto& source : sources) {
            bytes += source.size();
            if (!ping_seen_) {
                const std::string_view text(reinterpret_cast<const char*>(source.data()), source.size());
                ping_seen_ = text.find("PING\r\n") != std::string_view::npos;
            }
        }
        ++writes;
        if (ping_seen_ && !pong_sent_ && pending_read_) {
            auto on_read = std::move(pending_read_);
            pending_read_ = nullptr;
            read_some(pending_target_, std::move(on_read));
        }
        loop_.post([on_written = std::move(on_written)] { on_written(herald::ok()); });
    }
    void close() override { pending_read_ = nullptr; }
    std::string peer_address() const override { return "null:4222"; }

    std::uint64_t bytes = 0;
    std::uint64_t writes = 0;

private:
    QueueLoop& loop_;
    bool info_sent_ = false;
    bool ping_seen_ = false;
    bool pong_sent_ = false;
    std::span<std::byte> pending_target_;
    std::function<void(Result<std::size_t>)> pending_read_;
};

class NullNetwork final : public herald::io::Network {
public:
    explicit NullNetwork(QueueLoop& loop) : loop_(loop) {}
    Result<std::unique_ptr<herald::io::Listener>> listen(
        const std::string&, std::function<void(Result<std::unique_ptr<herald::io::Stream>>)>) override {
        return herald::client::Errc::invalid_argument;
    }
    void connect(const std::string&,
                 std::function<void(Result<std::unique_ptr<herald::io::Stream>>)> on_connect) override {
        auto stream = std::make_unique<NullStream>(loop_);
        last = stream.get();
        auto holder = std::make_shared<std::unique_ptr<herald::io::Stream>>(std::move(stream));
        loop_.post([holder, on_connect = std::move(on_connect)] { on_connect(std::move(*holder)); });
    }
    NullStream* last = nullptr;

private:
    QueueLoop& loop_;
};

}  // namespace

TEST_CASE("client: publish rate of 16-byte messages to a null sink", "[client][.bench]") {
    herald::sim::SimWorld world(1);
    herald::sim::SimNode& node = world.add_node();
    QueueLoop loop;
    NullNetwork network(loop);
    herald::io::SplitMix64 random(1);
    herald::io::Env env{node.clock(), loop, network, node.file_system(), random};
    herald::client::Options options;
    options.servers = {"null:4222"};
    herald::client::Connection connection(env, options);
    bool connected = false;
    connection.connect([&](Status status) { connected = status.has_value(); });
    loop.run();
    REQUIRE(connected);

    const std::string payload(16, 'x');
    constexpr std::uint64_t batch = 1000;      // publishes per loop turn
    constexpr std::uint64_t total = 50'000'000;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t sent = 0; sent < total; sent += batch) {
        for (std::uint64_t i = 0; i < batch; ++i) {
            if (!connection.publish("bench.subject", payload)) FAIL("publish failed");
        }
        loop.run();
    }
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(total) / elapsed;
    std::printf("publish 16 B to a null sink: %.1f M msgs/s (%.1f ns/msg, %.0f MB/s on the wire, %llu writes)\n",
                rate / 1e6, elapsed * 1e9 / static_cast<double>(total),
                static_cast<double>(network.last->bytes) / elapsed / 1e6,
                static_cast<unsigned long long>(network.last->writes));
    REQUIRE(connection.stats().out_msgs == total);
    REQUIRE(connection.buffered_bytes() == 0);
}
