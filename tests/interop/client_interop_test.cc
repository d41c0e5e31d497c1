// Interop of Herald's own client library (engine/client) on the real Env (AsioEnv) against a real
// server process: the same binary runs against nats-server (reference) and herald-server
// (HERALD_TEST_SERVER), so each client feature is known to work against the real thing. Every
// wait runs the loop with AsioEnv::run_until on a predicate, bounded by a loop timer; no sleeps.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/client/client.h"
#include "engine/io/asio/asio_env.h"
#include "tests/support/server_process.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::client::Connection;
using herald::client::Errc;
using herald::client::Headers;
using herald::client::Message;
using herald::client::Options;
using herald::client::State;
using herald::test::ServerOptions;
using herald::test::ServerProcess;

namespace {

constexpr Duration wait_bound = Duration::seconds(10);
constexpr std::size_t handlers_max = 50'000'000;

// One AsioEnv for the test's connections, and the helpers to wait on it.
struct Fixture {
    explicit Fixture(ServerOptions server_options = {}) : server(std::move(server_options)) {}
    ~Fixture() { clients.clear(); }

    herald::io::Env& env() { return asio.env(); }

    // Runs the loop until `done()` or `bound` of loop time passed.
    bool wait(const std::function<bool()>& done, Duration bound = wait_bound) {
        bool expired = false;
        const auto timer = env().loop.schedule(bound, [&expired] { expired = true; });
        asio.run_until([&] { return expired || done(); }, handlers_max);
        env().loop.cancel(timer);
        return done();
    }

    Options options() const {
        Options o;
        o.servers = {server.url()};
        return o;
    }

    Connection& make(Options o) {
        clients.push_back(std::make_unique<Connection>(env(), std::move(o)));
        return *clients.back();
    }

    Status try_connect(Connection& connection) {
        bool done = false;
        Status result = Errc::timeout;
        connection.connect([&](Status status) {
            done = true;
            result = status;
        });
        if (!wait([&] { return done; })) return Errc::timeout;
        return result;
    }

    Connection& connect(Options o) {
        Connection& connection = make(std::move(o));
        const Status status = try_connect(connection);
        INFO((status.has_value() ? std::string("ok") : status.error().message()));
        REQUIRE(status);
        return connection;
    }
    Connection& connect() { return connect(options()); }

    Status flush(Connection& connection) {
        bool done = false;
        Status result = Errc::timeout;
        connection.flush([&](Status status) {
            done = true;
            result = status;
        });
        if (!wait([&] { return done; })) return Errc::timeout;
        return result;
    }

    Result<Message> request(Connection& connection, std::string_view subject, std::string_view payload,
                            Duration timeout = Duration::seconds(2)) {
        bool done = false;
        Result<Message> result = Errc::timeout;
        connection.request(subject, payload, timeout, [&](Result<Message> reply) {
            done = true;
            result = std::move(reply);
        });
        REQUIRE(wait([&] { return done; }));
        return result;
    }

    ServerProcess server;
    herald::io::AsioEnv asio;  // destroyed before the server process stops
    std::vector<std::unique_ptr<Connection>> clients;
};

struct Inbox {
    std::vector<Message> messages;
    herald::client::MessageHandler handler() {
        return [this](const Message& message) { messages.push_back(message); };
    }
};

constexpr const char* permissions_config = R"(
authorization {
  users = [
    {user: restricted, password: pw, permissions: {
      publish: {allow: ["allowed.>", "_INBOX.>"]}
      subscribe: {allow: ["allowed.>", "_INBOX.>"]}
    }}
  ]
}
)";

}  // namespace

TEST_CASE("client interop: connects and reads INFO", "[interop][client]") {
    Fixture f;
    Connection& c = f.connect();
    REQUIRE(c.connected());
    REQUIRE(c.server_info().max_payload == 1024 * 1024);
    REQUIRE(c.server_info().headers);
    REQUIRE(!c.server_info().server_id.empty());
    REQUIRE("nats://" + c.connected_address() == f.server.url());
}

TEST_CASE("client interop: publish reaches wildcard and literal subscriptions in order",
          "[interop][client]") {
    Fixture f;
    Connection& sub = f.connect();
    Connection& pub = f.connect();
    Inbox literal, star, tail;
    REQUIRE(sub.subscribe("orders.new", literal.handler()));
    REQUIRE(sub.subscribe("orders.*", star.handler()));
    REQUIRE(sub.subscribe("orders.>", tail.handler()));
    REQUIRE(f.flush(sub));
    constexpr std::size_t count = 1000;
    for (std::size_t i = 0; i < count; ++i) REQUIRE(pub.publish("orders.new", std::to_string(i)));
    REQUIRE(pub.publish("orders.new.eu", "deep"));
    REQUIRE(pub.publish("other", "no"));
    REQUIRE(f.flush(pub));
    REQUIRE(f.wait([&] { return tail.messages.size() == count + 1; }));
    REQUIRE(f.flush(sub));
    REQUIRE(literal.messages.size() == count);
    REQUIRE(star.messages.size() == count);
    for (std::size_t i = 0; i < count; ++i) REQUIRE(literal.messages[i].payload == std::to_string(i));
    REQUIRE(tail.messages.back().subject == "orders.new.eu");
}

TEST_CASE("client interop: a queue group shares the messages", "[interop][client]") {
    Fixture f;
    Connection& a = f.connect();
    Connection& b = f.connect();
    Connection& pub = f.connect();
    Inbox in_a, in_b;
    REQUIRE(a.queue_subscribe("work", "grp", in_a.handler()));
    REQUIRE(b.queue_subscribe("work", "grp", in_b.handler()));
    REQUIRE(f.flush(a));
    REQUIRE(f.flush(b));
    constexpr std::size_t count = 400;
    for (std::size_t i = 0; i < count; ++i) REQUIRE(pub.publish("work", "x"));
    REQUIRE(f.wait([&] { return in_a.messages.size() + in_b.messages.size() == count; }));
    REQUIRE(f.flush(a));
    REQUIRE(f.flush(b));
    REQUIRE(in_a.messages.size() + in_b.messages.size() == count);
    REQUIRE(in_a.messages.size() > count / 5);
    REQUIRE(in_b.messages.size() > count / 5);
}

TEST_CASE("client interop: request/reply, no responders and timeout", "[interop][client]") {
    Fixture f;
    Connection& service = f.connect();
    Connection& requester = f.connect();
    REQUIRE(service.subscribe("svc", [&](const Message& m) { REQUIRE(service.publish(m.reply, "re:" + m.payload)); }));
    REQUIRE(f.flush(service));
    for (int i = 0; i < 5; ++i) {
        auto reply = f.request(requester, "svc", std::to_string(i));
        REQUIRE(reply);
        REQUIRE(reply->payload == "re:" + std::to_string(i));
    }
    const auto nobody = f.request(requester, "nobody.home", "x");
    REQUIRE(!nobody);
    REQUIRE(nobody.error() == Errc::no_responders);
    REQUIRE(service.subscribe("silent", [](const Message&) {}));
    REQUIRE(f.flush(service));
    const auto silent = f.request(requester, "silent", "x", Duration::milliseconds(100));
    REQUIRE(!silent);
    REQUIRE(silent.error() == Errc::timeout);
    REQUIRE(requester.connected());
}

TEST_CASE("client interop: headers round trip through HPUB/HMSG", "[interop][client]") {
    Fixture f;
    Connection& sub = f.connect();
    Connection& pub = f.connect();
    Inbox inbox;
    REQUIRE(sub.subscribe("h", inbox.handler()));
    REQUIRE(f.flush(sub));
    Headers headers;
    headers.add("Trace-Id", "abc");
    headers.add("X-Multi", "1");
    headers.add("X-Multi", "2");
    REQUIRE(pub.publish("h", "reply.to", headers, "body"));
    REQUIRE(f.wait([&] { return inbox.messages.size() == 1; }));
    REQUIRE(inbox.messages[0].headers == headers);
    REQUIRE(inbox.messages[0].reply == "reply.to");
    REQUIRE(inbox.messages[0].payload == "body");
}

TEST_CASE("client interop: unsubscribe and auto-unsubscribe", "[interop][client]") {
    Fixture f;
    Connection& sub = f.connect();
    Connection& pub = f.connect();
    Inbox gone, limited;
    auto gone_sub = sub.subscribe("u", gone.handler());
    auto limited_sub = sub.subscribe("u", limited.handler());
    REQUIRE(gone_sub);
    REQUIRE(limited_sub);
    REQUIRE(limited_sub->auto_unsubscribe(3));
    REQUIRE(gone_sub->unsubscribe());
    REQUIRE(f.flush(sub));
    for (int i = 0; i < 10; ++i) REQUIRE(pub.publish("u", "x"));
    REQUIRE(f.flush(pub));
    REQUIRE(f.flush(sub));
    REQUIRE(gone.messages.empty());
    REQUIRE(limited.messages.size() == 3);
    REQUIRE(!limited_sub->valid());
}

TEST_CASE("client interop: drain delivers in-flight messages and closes", "[interop][client]") {
    Fixture f;
    Connection& pub = f.connect();
    Connection& drained = f.connect();
    Inbox inbox;
    REQUIRE(drained.subscribe("jobs", inbox.handler()));
    REQUIRE(f.flush(drained));
    for (int i = 0; i < 100; ++i) REQUIRE(pub.publish("jobs", "x"));
    REQUIRE(f.flush(pub));
    bool done = false;
    drained.drain([&](Status status) {
        REQUIRE(status);
        done = true;
    });
    REQUIRE(f.wait([&] { return done; }));
    REQUIRE(drained.closed());
    REQUIRE(inbox.messages.size() == 100);
}

TEST_CASE("client interop: permission violations are async errors; a bad password fails",
          "[interop][client]") {
    Fixture f(ServerOptions{permissions_config});
    std::vector<std::pair<std::error_code, std::string>> errors;
    Options o = f.options();
    o.user = "restricted";
    o.password = "pw";
    o.on_error = [&](std::error_code error, std::string_view text) { errors.emplace_back(error, text); };
    Connection& c = f.connect(o);
    REQUIRE(c.publish("denied.x", "no"));
    REQUIRE(f.wait([&] { return errors.size() == 1; }));
    REQUIRE(errors[0].first == Errc::permission_violation);
    REQUIRE(errors[0].second == R"(Permissions Violation for Publish to "denied.x")");
    REQUIRE(c.subscribe("denied.>", [](const Message&) {}));
    REQUIRE(f.wait([&] { return errors.size() == 2; }));
    REQUIRE(errors[1].first == Errc::permission_violation);
    REQUIRE(f.flush(c));
    REQUIRE(c.connected());
    // Request/reply through the allowed inbox still works.
    REQUIRE(c.subscribe("allowed.svc", [&](const Message& m) { REQUIRE(c.publish(m.reply, "ok")); }));
    auto reply = f.request(c, "allowed.svc", "x");
    REQUIRE(reply);

    o.password = "wrong";
    o.on_error = nullptr;
    Connection& bad = f.make(o);
    REQUIRE(f.try_connect(bad).error() == Errc::authorization_violation);
    REQUIRE(bad.closed());
}

TEST_CASE("client interop: the max_payload from INFO is enforced locally", "[interop][client]") {
    Fixture f(ServerOptions{"max_payload: 1024\n"});
    Connection& c = f.connect();
    REQUIRE(c.server_info().max_payload == 1024);
    REQUIRE(c.publish("big", std::string(1025, 'x')).error() == Errc::max_payload);
    REQUIRE(c.publish("fits", std::string(1024, 'x')));
    REQUIRE(f.flush(c));
}

TEST_CASE("client interop: reconnects after a restart, resubscribes, sends buffered publishes",
          "[interop][client]") {
    Fixture f;
    int disconnects = 0;
    int reconnects = 0;
    Options o = f.options();
    o.reconnect_wait = Duration::milliseconds(20);
    o.reconnect_jitter = Duration::milliseconds(5);
    o.max_reconnect_attempts = -1;
    o.on_disconnected = [&](std::error_code) { ++disconnects; };
    o.on_reconnected = [&] { ++reconnects; };
    Connection& c = f.connect(o);
    Inbox inbox;
    REQUIRE(c.subscribe("survives", inbox.handler()));
    REQUIRE(f.flush(c));

    f.server.restart();
    REQUIRE(f.wait([&] { return disconnects == 1; }));
    // Buffered while reconnecting; sent after the resubscribe on the same connection.
    for (int i = 0; i < 10; ++i) REQUIRE(c.publish("survives", std::to_string(i)));
    REQUIRE(f.wait([&] { return reconnects == 1; }));
    REQUIRE(f.wait([&] { return inbox.messages.size() == 10; }));
    for (int i = 0; i < 10; ++i) REQUIRE(inbox.messages[static_cast<std::size_t>(i)].payload == std::to_string(i));

    Connection& other = f.connect();
    REQUIRE(other.publish("survives", "after"));
    REQUIRE(f.wait([&] { return inbox.messages.size() == 11; }));
}

TEST_CASE("client interop: connect to a closed port fails and names the error", "[interop][client]") {
    Fixture f;
    Options o;
    o.servers = {"nats://127.0.0.1:1"};
    Connection& c = f.make(o);
    const Status status = f.try_connect(c);
    REQUIRE(!status);
    REQUIRE(c.closed());
}

// Hidden: the rate at which 16-byte publishes go through loopback TCP into the server, flush
// included (the server's absorption rate bounds it). For reports, not for CI.
TEST_CASE("client interop: publish rate of 16-byte messages into the server", "[interop][client][.bench]") {
    Fixture f;
    Connection& c = f.connect();
    const std::string payload(16, 'x');
    constexpr std::size_t total = 5'000'000;
    constexpr std::size_t batch = 1000;
    const auto start = std::chrono::steady_clock::now();
    std::size_t sent = 0;
    while (sent < total) {
        for (std::size_t i = 0; i < batch && sent < total; ++i) {
            if (c.publish("bench", payload)) {
                ++sent;
            } else {
                break;  // outbound_full: let the loop write
            }
        }
        // Keep writes in flight but let the loop drain when a lot is buffered (run_until would
        // block on the idle read if asked for more handlers than are ready).
        f.asio.run_until([&] { return c.buffered_bytes() < 256 * 1024; }, handlers_max);
    }
    REQUIRE(f.flush(c));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("publish 16 B into %s over loopback: %.1f M msgs/s\n", ServerProcess::server_binary().c_str(),
                static_cast<double>(total) / seconds / 1e6);
}
