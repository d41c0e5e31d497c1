// Tests of the real Env (AsioEnv) over loopback TCP on an ephemeral port and in a temporary
// directory. No sleeps: each test runs the loop until its goal holds or a handler bound is hit.
#include "engine/io/asio/asio_env.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/errc.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::base::Errc;
using herald::io::AsioEnv;
using herald::io::Stream;

namespace {

constexpr std::size_t handlers_max = 100000;

std::span<const std::byte> bytes_of(const std::string& text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::string text_of(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Echoes every byte back until the peer closes. Lives on the loop.
struct EchoSession {
    std::unique_ptr<Stream> stream;
    std::vector<std::byte> buffer = std::vector<std::byte>(4096);
    std::size_t echoed_bytes = 0;
    bool finished = false;

    void start() {
        stream->read_some(buffer, [this](Result<std::size_t> read) {
            if (!read || *read == 0) {
                finished = true;
                stream->close();
                return;
            }
            const std::span<const std::byte> chunk(buffer.data(), *read);
            const std::span<const std::byte> chunks[] = {chunk};
            stream->write_all(chunks, [this, count = *read](Status written) {
                REQUIRE(written);
                echoed_bytes += count;
                start();
            });
        });
    }
};

// Reads until `expected` bytes arrived, then closes.
struct Reader {
    Stream* stream = nullptr;
    std::size_t expected = 0;
    std::vector<std::byte> received;
    std::vector<std::byte> buffer = std::vector<std::byte>(1000);
    bool done = false;

    void start() {
        stream->read_some(buffer, [this](Result<std::size_t> read) {
            REQUIRE(read);
            REQUIRE(*read > 0);
            received.insert(received.end(), buffer.begin(),
                            buffer.begin() + static_cast<std::ptrdiff_t>(*read));
            if (received.size() >= expected) {
                done = true;
                return;
            }
            start();
        });
    }
};

// Runs the loop until `done()` holds. A handler bound and a generous watchdog timer keep a broken
// test from hanging; the watchdog is a safety net only, no assertion depends on real time.
bool run_bounded(AsioEnv& asio, const std::function<bool()>& done) {
    bool timed_out = false;
    auto& loop = asio.env().loop;
    const auto watchdog = loop.schedule(Duration::seconds(30), [&] { timed_out = true; });
    const bool reached = asio.run_until([&] { return done() || timed_out; }, handlers_max);
    loop.cancel(watchdog);
    return reached && !timed_out;
}

struct TempDir {
    TempDir() {
        std::string pattern = "/tmp/herald_io_test_XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code error;
        std::filesystem::remove_all(path, error);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path;
};

}  // namespace

// Goal: a client's vectored write comes back through an echo server on loopback.
// Method: listen on 127.0.0.1:0, connect to the reported port, write two buffers, read the echo.
TEST_CASE("asio: echo over loopback tcp on an ephemeral port", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    std::optional<EchoSession> session;
    auto listener = env.network.listen("127.0.0.1:0", [&](Result<std::unique_ptr<Stream>> accepted) {
        REQUIRE(accepted);
        session.emplace();
        session->stream = std::move(*accepted);
        session->start();
    });
    REQUIRE(listener);
    REQUIRE((*listener)->local_port() != 0);
    REQUIRE((*listener)->local_address() ==
            "127.0.0.1:" + std::to_string((*listener)->local_port()));

    const std::string hello = "hello, ";
    const std::string world = "world";
    std::unique_ptr<Stream> client;
    Reader reader;
    bool written = false;
    bool connect_returned = false;
    env.network.connect("127.0.0.1:" + std::to_string((*listener)->local_port()),
                        [&](Result<std::unique_ptr<Stream>> connected) {
                            REQUIRE(connect_returned);  // Never inline.
                            REQUIRE(connected);
                            client = std::move(*connected);
                            const std::span<const std::byte> parts[] = {bytes_of(hello),
                                                                        bytes_of(world)};
                            client->write_all(parts, [&](Status status) {
                                REQUIRE(status);
                                written = true;
                            });
                            reader.stream = client.get();
                            reader.expected = hello.size() + world.size();
                            reader.start();
                        });
    connect_returned = true;
    REQUIRE(run_bounded(asio, [&] { return reader.done && written; }));
    REQUIRE(text_of(reader.received) == "hello, world");
    REQUIRE(client->peer_address() == (*listener)->local_address());

    client->close();  // The server sees end of stream and finishes.
    REQUIRE(run_bounded(asio, [&] { return session && session->finished; }));
    REQUIRE(session->echoed_bytes == 12);
}

// Goal: write_all sends many buffers in order in one call (the outbound flush path).
// Method: 1000 buffers of 61 distinct bytes each; the server reads until it has all of them.
TEST_CASE("asio: a vectored write of many buffers arrives whole and in order", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    constexpr std::size_t buffers_count = 1000;
    constexpr std::size_t buffer_size = 61;
    std::vector<std::vector<std::byte>> storage(buffers_count);
    std::vector<std::span<const std::byte>> parts;
    std::vector<std::byte> expected;
    for (std::size_t i = 0; i < buffers_count; ++i) {
        for (std::size_t j = 0; j < buffer_size; ++j) {
            storage[i].push_back(static_cast<std::byte>((i * 7 + j) & 0xffU));
        }
        parts.emplace_back(storage[i]);
        expected.insert(expected.end(), storage[i].begin(), storage[i].end());
    }

    std::unique_ptr<Stream> server;
    Reader reader;
    reader.expected = expected.size();
    auto listener = env.network.listen("127.0.0.1:0", [&](Result<std::unique_ptr<Stream>> accepted) {
        REQUIRE(accepted);
        server = std::move(*accepted);
        reader.stream = server.get();
        reader.start();
    });
    REQUIRE(listener);
    std::unique_ptr<Stream> client;
    bool written = false;
    env.network.connect((*listener)->local_address(), [&](Result<std::unique_ptr<Stream>> connected) {
        REQUIRE(connected);
        client = std::move(*connected);
        client->write_all(parts, [&](Status status) {
            REQUIRE(status);
            written = true;
        });
    });
    REQUIRE(run_bounded(asio, [&] { return reader.done && written; }));
    REQUIRE(reader.received == expected);
}

// Goal: connecting where nobody listens fails with connection_refused, on the loop.
// Method: take an ephemeral port, stop listening on it, then connect to it.
TEST_CASE("asio: connect to a closed port is refused", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    std::string address;
    {
        auto listener = env.network.listen("127.0.0.1:0", [](Result<std::unique_ptr<Stream>>) {});
        REQUIRE(listener);
        address = (*listener)->local_address();
    }
    std::optional<std::error_code> outcome;
    env.network.connect(address, [&](Result<std::unique_ptr<Stream>> connected) {
        REQUIRE_FALSE(connected);
        outcome = connected.error();
    });
    REQUIRE_FALSE(outcome);
    REQUIRE(run_bounded(asio, [&] { return outcome.has_value(); }));
    REQUIRE(*outcome == Errc::connection_refused);
}

// Goal: after close() no callback of the stream runs, though asio completes the read (aborted).
// Method: start a read nobody will answer, close, and run the loop until it is idle.
TEST_CASE("asio: close cancels a pending read without a callback", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    std::unique_ptr<Stream> server;
    auto listener = env.network.listen("127.0.0.1:0", [&](Result<std::unique_ptr<Stream>> accepted) {
        REQUIRE(accepted);
        server = std::move(*accepted);
    });
    REQUIRE(listener);
    std::unique_ptr<Stream> client;
    std::vector<std::byte> buffer(16);
    bool read_called = false;
    env.network.connect((*listener)->local_address(), [&](Result<std::unique_ptr<Stream>> connected) {
        REQUIRE(connected);
        client = std::move(*connected);
        client->read_some(buffer, [&](Result<std::size_t>) { read_called = true; });
        client->close();
    });
    REQUIRE(run_bounded(asio, [&] { return client != nullptr && server != nullptr; }));
    listener->reset();
    server.reset();
    asio.run_until([] { return false; }, handlers_max);  // Until no work is left.
    REQUIRE_FALSE(read_called);
}

// Goal: timers fire in due order, cancel works, cancel of unknown or fired ids is a no-op, and
// post never runs inline. Method: three timers scheduled out of order plus one cancelled.
TEST_CASE("asio: timers fire in order and cancel is a no-op when fired or unknown", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    std::vector<int> fired;
    const auto start = env.clock.monotonic();
    env.loop.schedule(Duration::milliseconds(3), [&] { fired.push_back(3); });
    const auto first = env.loop.schedule(Duration::milliseconds(1), [&] { fired.push_back(1); });
    env.loop.schedule(Duration::milliseconds(2), [&] { fired.push_back(2); });
    const auto cancelled = env.loop.schedule(Duration::milliseconds(1), [&] { fired.push_back(9); });
    env.loop.cancel(cancelled);
    env.loop.cancel(cancelled);
    env.loop.cancel(123456);
    bool posted = false;
    env.loop.post([&] { posted = true; });
    REQUIRE_FALSE(posted);

    asio.run_until([] { return false; }, handlers_max);  // Until no work is left.
    REQUIRE(posted);
    REQUIRE(fired == std::vector<int>{1, 2, 3});
    env.loop.cancel(first);  // Already fired.
    REQUIRE(env.clock.monotonic().since(start) >= Duration::milliseconds(3));
    REQUIRE(env.clock.realtime_ns() > 0);
}

// Goal: a write, sync and read of a real file round-trip, callbacks arrive in issue order, and the
// directory helpers work. Method: a mkdtemp directory under /tmp.
TEST_CASE("asio: file write, sync and read round trip in a temp dir", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    TempDir dir;
    auto& fs = env.file_system;
    REQUIRE(fs.make_directories(dir.path + "/a/b"));
    const std::string path = dir.path + "/a/b/data.log";
    REQUIRE(fs.open(path, false).error() == Errc::not_found);
    auto opened = fs.open(path, true);
    REQUIRE(opened);
    auto file = std::move(*opened);
    REQUIRE(file->size() == 0);

    const std::string first = "first record|";
    const std::string second = "second record";
    std::vector<std::string> order;
    file->write_at(0, bytes_of(first), [&](Status s) { REQUIRE(s); order.push_back("w1"); });
    file->write_at(file->size(), bytes_of(second), [&](Status s) { REQUIRE(s); order.push_back("w2"); });
    file->sync([&](Status s) { REQUIRE(s); order.push_back("sync"); });
    std::vector<std::byte> target(64);
    std::optional<std::size_t> read_count;
    file->read_at(0, target, [&](Result<std::size_t> r) {
        REQUIRE(r);
        read_count = *r;
        order.push_back("read");
    });
    bool dir_synced = false;
    fs.sync_directory(dir.path + "/a/b", [&](Status s) { REQUIRE(s); dir_synced = true; });
    REQUIRE(order.empty());
    REQUIRE(run_bounded(asio, [&] { return order.size() == 4 && dir_synced; }));
    REQUIRE(order == std::vector<std::string>{"w1", "w2", "sync", "read"});
    REQUIRE(*read_count == first.size() + second.size());
    REQUIRE(text_of(std::span(target.data(), *read_count)) == first + second);
    REQUIRE(file->size() == first.size() + second.size());

    bool truncated = false;
    file->truncate(5, [&](Status s) { REQUIRE(s); truncated = true; });
    REQUIRE(run_bounded(asio, [&] { return truncated; }));
    file.reset();
    auto reopened = fs.open(path, false);
    REQUIRE(reopened);
    REQUIRE((*reopened)->size() == 5);
    reopened->reset();

    REQUIRE(fs.rename(path, dir.path + "/a/b/renamed.log"));
    auto names = fs.list(dir.path + "/a/b");
    REQUIRE(names);
    REQUIRE(*names == std::vector<std::string>{"renamed.log"});
    REQUIRE(fs.remove(dir.path + "/a/b/renamed.log"));
    REQUIRE(fs.remove(dir.path + "/a/b/renamed.log").error() == Errc::not_found);
}

// Goal: a write issued while an earlier operation of the file is still queued on the file threads
// (so it cannot run inline on the loop) keeps issue order with it and with a later read.
TEST_CASE("asio: a write behind a queued sync keeps issue order", "[io][asio]") {
    AsioEnv asio;
    auto& env = asio.env();
    TempDir dir;
    auto opened = env.file_system.open(dir.path + "/f", true);
    REQUIRE(opened);
    auto file = std::move(*opened);
    std::vector<std::string> order;
    const std::string first = "aaaa";
    const std::string second = "bb";
    file->write_at(0, bytes_of(first), [&](Status s) { REQUIRE(s); order.push_back("w1"); });
    file->sync([&](Status s) { REQUIRE(s); order.push_back("sync"); });
    file->write_at(1, bytes_of(second), [&](Status s) { REQUIRE(s); order.push_back("w2"); });
    std::vector<std::byte> target(8);
    std::optional<std::size_t> read_count;
    file->read_at(0, target, [&](Result<std::size_t> r) {
        REQUIRE(r);
        read_count = *r;
        order.push_back("read");
    });
    REQUIRE(order.empty());  // Completions are never called inline, even of an inline write.
    REQUIRE(run_bounded(asio, [&] { return order.size() == 4; }));
    REQUIRE(order == std::vector<std::string>{"w1", "sync", "w2", "read"});
    REQUIRE(text_of(std::span(target.data(), *read_count)) == "abba");
}

// Goal: with busy polling on, run() still serves timers and posted work and stop() ends it.
// Method: a timer posts from the loop; an external post stops it; run() must return.
TEST_CASE("asio: run with busy polling serves timers and ends on stop", "[io][asio]") {
    AsioEnv asio;
    asio.set_busy_poll(Duration::microseconds(200));
    int fired = 0;
    auto& loop = asio.env().loop;
    loop.schedule(Duration::milliseconds(1), [&] {
        fired += 1;
        loop.schedule(Duration::milliseconds(1), [&] {
            fired += 1;
            asio.post_external([&] { asio.stop(); });
        });
    });
    asio.run();
    REQUIRE(fired == 2);
}

// Goal: stop() and post_external() are usable from another context to end run().
// Method: post_external a task that calls stop(); run() must return.
TEST_CASE("asio: post_external then stop ends run", "[io][asio]") {
    AsioEnv asio;
    bool ran = false;
    asio.post_external([&] {
        ran = true;
        asio.stop();
    });
    asio.run();
    REQUIRE(ran);
}
