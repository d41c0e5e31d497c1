// The server on the simulated Env: one herald node and several raw-protocol clients in one
// thread, with no real socket, thread or sleep. Time only moves when the world steps, so ping
// intervals and timeouts are checked exactly.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "engine/server/server.h"
#include "sim/node.h"
#include "sim/world.h"
#include "tests/support/raw_client.h"

using herald::Duration;
using herald::config::Options;
using herald::testing::RawClient;

namespace {

constexpr std::uint64_t steps_max = 200'000;

// One world, one server node, and helpers to make clients and wait on conditions.
struct Fixture {
    explicit Fixture(Options options = {}, std::uint64_t seed = 1) : world(seed) {
        options.host = "0.0.0.0";
        options.port = 4222;
        node = &world.add_node();
        client_node = &world.add_node();
        server = std::make_unique<herald::server::Server>(node->env(), options, herald::base::Logger());
        REQUIRE(server->start());
        address = node->host() + ":4222";
    }
    ~Fixture() {
        clients.clear();
        server.reset();
    }

    // A client that has connected and sent CONNECT (+ PING, answered).
    RawClient& connect(std::string_view connect_json = R"({"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1})") {
        clients.push_back(std::make_unique<RawClient>(client_node->env(), address));
        RawClient& client = *clients.back();
        REQUIRE(wait([&] { return !client.info().empty(); }));
        client.send("CONNECT " + std::string(connect_json) + "\r\nPING\r\n");
        REQUIRE(wait([&] { return client.pongs() == 1 || client.eof(); }));
        return client;
    }
    // Sends PING and waits for its PONG: everything sent before has been processed.
    bool flush(RawClient& client) {
        const auto before = client.pongs();
        client.send("PING\r\n");
        return wait([&] { return client.pongs() > before || client.eof(); }) && !client.eof();
    }
    bool wait(const std::function<bool()>& done) { return world.run_until(done, steps_max); }

    herald::sim::SimWorld world;
    herald::sim::SimNode* node = nullptr;
    herald::sim::SimNode* client_node = nullptr;
    std::unique_ptr<herald::server::Server> server;
    std::string address;
    std::vector<std::unique_ptr<RawClient>> clients;
};

}  // namespace

TEST_CASE("server: INFO advertises a 2.9 version, headers and max_payload", "[server][sim]") {
    Fixture f;
    RawClient& c = f.connect();
    REQUIRE(c.info().find(R"("version":"2.9.10")") != std::string::npos);
    REQUIRE(c.info().find(R"("headers":true)") != std::string::npos);
    REQUIRE(c.info().find(R"("max_payload":1048576)") != std::string::npos);
    REQUIRE(c.info().find(R"("server_id":"N)") != std::string::npos);
}

TEST_CASE("server: a message reaches every matching subscription, wildcards included", "[server][sim]") {
    Fixture f;
    RawClient& sub = f.connect();
    RawClient& pub = f.connect();
    sub.send("SUB foo.bar 1\r\nSUB foo.* 2\r\nSUB foo.> 3\r\nSUB > 4\r\nSUB bar 5\r\n");
    REQUIRE(f.flush(sub));
    pub.send("PUB foo.bar reply 5\r\nhello\r\n");
    REQUIRE(f.wait([&] { return sub.messages().size() == 4; }));
    REQUIRE(f.flush(pub));
    REQUIRE(f.flush(sub));
    REQUIRE(sub.messages().size() == 4);
    for (const auto& message : sub.messages()) {
        REQUIRE(message.subject == "foo.bar");
        REQUIRE(message.reply == "reply");
        REQUIRE(message.payload == "hello");
    }
}

TEST_CASE("server: a queue group gets each message once, spread over its members", "[server][sim]") {
    Fixture f;
    RawClient& a = f.connect();
    RawClient& b = f.connect();
    RawClient& plain = f.connect();
    a.send("SUB work grp 1\r\n");
    b.send("SUB work grp 1\r\n");
    plain.send("SUB work 9\r\n");
    REQUIRE(f.flush(a));
    REQUIRE(f.flush(b));
    REQUIRE(f.flush(plain));
    RawClient& pub = f.connect();
    constexpr int count = 200;
    for (int i = 0; i < count; ++i) pub.send("PUB work 1\r\nx\r\n");
    REQUIRE(f.wait([&] { return plain.messages().size() == count; }));
    REQUIRE(f.wait([&] { return a.messages().size() + b.messages().size() == count; }));
    REQUIRE(f.flush(a));
    REQUIRE(f.flush(b));
    REQUIRE(a.messages().size() + b.messages().size() == count);
    REQUIRE(a.messages().size() > count / 4);
    REQUIRE(b.messages().size() > count / 4);
}

TEST_CASE("server: request/reply through a muxed inbox, and no-responders when nobody listens",
          "[server][sim]") {
    Fixture f;
    RawClient& service = f.connect();
    RawClient& requester = f.connect();
    service.send("SUB svc 1\r\n");
    REQUIRE(f.flush(service));
    requester.send("SUB _INBOX.abc.* 7\r\nPUB svc _INBOX.abc.1 4\r\nping\r\n");
    REQUIRE(f.wait([&] { return service.messages().size() == 1; }));
    service.send("PUB " + service.messages()[0].reply + " 4\r\npong\r\n");
    REQUIRE(f.wait([&] { return requester.messages().size() == 1; }));
    REQUIRE(requester.messages()[0].subject == "_INBOX.abc.1");
    REQUIRE(requester.messages()[0].payload == "pong");

    requester.send("PUB nobody _INBOX.abc.2 2\r\nhi\r\n");
    REQUIRE(f.wait([&] { return requester.messages().size() == 2; }));
    const auto& status = requester.messages()[1];
    REQUIRE(status.subject == "_INBOX.abc.2");
    REQUIRE(status.sid == "7");
    REQUIRE(status.headers == "NATS/1.0 503\r\n\r\n");
    REQUIRE(status.payload.empty());
}

TEST_CASE("server: headers pass through HPUB/HMSG and are stripped for clients without headers",
          "[server][sim]") {
    Fixture f;
    RawClient& modern = f.connect();
    RawClient& legacy = f.connect(R"({"verbose":false,"headers":false})");
    modern.send("SUB h 1\r\n");
    legacy.send("SUB h 1\r\n");
    REQUIRE(f.flush(modern));
    REQUIRE(f.flush(legacy));
    RawClient& pub = f.connect();
    pub.send("HPUB h 22 27\r\nNATS/1.0\r\nFoo: Bar\r\n\r\nhello\r\n");
    REQUIRE(f.wait([&] { return modern.messages().size() == 1 && legacy.messages().size() == 1; }));
    REQUIRE(modern.messages()[0].headers == "NATS/1.0\r\nFoo: Bar\r\n\r\n");
    REQUIRE(modern.messages()[0].payload == "hello");
    REQUIRE(legacy.messages()[0].headers.empty());
    REQUIRE(legacy.messages()[0].payload == "hello");
}

TEST_CASE("server: UNSUB with max removes the subscription after that many messages", "[server][sim]") {
    Fixture f;
    RawClient& c = f.connect();
    c.send("SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n");
    REQUIRE(f.flush(c));
    REQUIRE(c.messages().size() == 2);
    REQUIRE(f.server->broker().subscription_count() == 0);
}

TEST_CASE("server: echo false keeps a client's own messages from it", "[server][sim]") {
    Fixture f;
    RawClient& c = f.connect(R"({"verbose":false,"echo":false})");
    RawClient& other = f.connect();
    c.send("SUB foo 1\r\nPUB foo 2\r\nme\r\n");
    REQUIRE(f.flush(c));
    other.send("PUB foo 3\r\nyou\r\n");
    REQUIRE(f.wait([&] { return c.messages().size() == 1; }));
    REQUIRE(c.messages()[0].payload == "you");
}

TEST_CASE("server: verbose answers +OK, pedantic flags a wildcard publish subject", "[server][sim]") {
    Fixture f;
    RawClient& c = f.connect(R"({"verbose":true,"pedantic":true})");
    REQUIRE(c.oks() == 1);
    c.send("SUB foo 1\r\nPUB foo.* 0\r\n\r\n");
    REQUIRE(f.flush(c));
    REQUIRE(c.oks() == 3);
    REQUIRE(c.errors() == std::vector<std::string>{"Invalid Publish Subject"});
}

TEST_CASE("server: protocol errors answer nats-server's -ERR and close", "[server][sim]") {
    Options options;
    options.max_payload = 16;
    Fixture f(options);
    RawClient& big = f.connect();
    big.send("PUB foo 17\r\n");
    REQUIRE(f.wait([&] { return big.eof(); }));
    REQUIRE(big.errors() == std::vector<std::string>{"Maximum Payload Violation"});
    RawClient& garbage = f.connect();
    garbage.send("HELLO\r\n");
    REQUIRE(f.wait([&] { return garbage.eof(); }));
    REQUIRE(garbage.errors() == std::vector<std::string>{"Unknown Protocol Operation"});
    RawClient& invalid = f.connect();
    invalid.send("SUB foo..bar 1\r\n");
    REQUIRE(f.flush(invalid));
    REQUIRE(invalid.errors() == std::vector<std::string>{"Invalid Subject"});
}

TEST_CASE("server: a client that stops answering PINGs is closed as stale after ping_max",
          "[server][sim]") {
    Options options;
    options.ping_interval = Duration::seconds(10);
    options.ping_max = 2;
    Fixture f(options);
    RawClient& quiet = f.connect();
    quiet.set_auto_pong(false);
    const auto start = f.world.now();
    REQUIRE(f.wait([&] { return quiet.eof(); }));
    REQUIRE(quiet.errors() == std::vector<std::string>{"Stale Connection"});
    REQUIRE(quiet.pings() == 2);
    const auto elapsed = f.world.now().since(start);
    // First ping after 2-2.4 s, then 10 s, then 10 s to detect: about 22 s.
    REQUIRE(elapsed >= Duration::seconds(22));
    REQUIRE(elapsed <= Duration::seconds(23));
    RawClient& healthy = f.connect();
    f.world.run_for(Duration::seconds(60));
    REQUIRE_FALSE(healthy.eof());
}

TEST_CASE("server: the same seed gives the same trace, another seed another", "[server][sim]") {
    auto run = [](std::uint64_t seed) {
        Fixture f({}, seed);
        RawClient& a = f.connect();
        RawClient& b = f.connect();
        a.send("SUB q g 1\r\n");
        b.send("SUB q g 1\r\n");
        REQUIRE(f.flush(a));
        REQUIRE(f.flush(b));
        for (int i = 0; i < 50; ++i) a.send("PUB q 1\r\nx\r\n");
        REQUIRE(f.wait([&] { return a.messages().size() + b.messages().size() == 50; }));
        return std::pair{f.world.trace_hash(), a.messages().size()};
    };
    REQUIRE(run(7) == run(7));
    REQUIRE(run(7).first != run(8).first);
}

TEST_CASE("server: without CONNECT an auth-required server times the client out after auth_timeout",
          "[server][sim]") {
    Options options;
    options.username = "a";
    options.password = "b";
    options.auth_timeout = Duration::seconds(2);
    Fixture f(options);
    f.clients.push_back(std::make_unique<RawClient>(f.client_node->env(), f.address));
    RawClient& silent = *f.clients.back();
    REQUIRE(f.wait([&] { return !silent.info().empty(); }));
    REQUIRE(silent.info().find(R"("auth_required":true)") != std::string::npos);
    const auto start = f.world.now();
    REQUIRE(f.wait([&] { return silent.eof(); }));
    REQUIRE(silent.errors() == std::vector<std::string>{"Authentication Timeout"});
    // The timer starts at accept, one network latency (well under 1 ms) before INFO arrived.
    const auto elapsed = f.world.now().since(start);
    REQUIRE(elapsed >= Duration::milliseconds(1999));
    REQUIRE(elapsed < Duration::milliseconds(2001));
}

TEST_CASE("server: with auth required, an operation before CONNECT is an authorization violation",
          "[server][sim]") {
    Options options;
    options.token = "secret";
    Fixture f(options);
    f.clients.push_back(std::make_unique<RawClient>(f.client_node->env(), f.address));
    RawClient& eager = *f.clients.back();
    REQUIRE(f.wait([&] { return !eager.info().empty(); }));
    eager.send("SUB foo 1\r\n");
    REQUIRE(f.wait([&] { return eager.eof(); }));
    REQUIRE(eager.errors() == std::vector<std::string>{"Authorization Violation"});
    RawClient& good = f.connect(R"({"verbose":false,"auth_token":"secret"})");
    REQUIRE_FALSE(good.eof());
    REQUIRE(good.errors().empty());
}

TEST_CASE("server: past max_connections a client gets INFO, then the -ERR, then the close",
          "[server][sim]") {
    Options options;
    options.max_connections = 2;
    Fixture f(options);
    RawClient& first = f.connect();
    RawClient& second = f.connect();
    f.clients.push_back(std::make_unique<RawClient>(f.client_node->env(), f.address));
    RawClient& third = *f.clients.back();
    REQUIRE(f.wait([&] { return third.eof(); }));
    REQUIRE_FALSE(third.info().empty());
    REQUIRE(third.errors() == std::vector<std::string>{"maximum connections exceeded"});
    REQUIRE(f.flush(first));
    REQUIRE(f.flush(second));
}

TEST_CASE("server: accounts are isolated subject spaces", "[server][sim]") {
    Options options;
    herald::config::AccountConfig a;
    a.name = "A";
    a.users.push_back({"alice", "pa", std::nullopt, "A"});
    herald::config::AccountConfig b;
    b.name = "B";
    b.users.push_back({"bob", "pb", std::nullopt, "B"});
    options.accounts = {a, b};
    Fixture f(options);
    RawClient& alice = f.connect(R"({"verbose":false,"user":"alice","pass":"pa"})");
    RawClient& bob = f.connect(R"({"verbose":false,"user":"bob","pass":"pb"})");
    alice.send("SUB news 1\r\n");
    bob.send("SUB news 1\r\n");
    REQUIRE(f.flush(alice));
    REQUIRE(f.flush(bob));
    bob.send("PUB news 3\r\nbob\r\n");
    REQUIRE(f.wait([&] { return bob.messages().size() == 1; }));
    REQUIRE(f.flush(alice));
    REQUIRE(alice.messages().empty());
}

TEST_CASE("server: max_subscriptions refuses one more SUB and keeps the connection", "[server][sim]") {
    Options options;
    options.max_subscriptions = 2;
    Fixture f(options);
    RawClient& c = f.connect();
    c.send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n");
    REQUIRE(f.flush(c));
    REQUIRE(c.errors() == std::vector<std::string>{"maximum subscriptions exceeded"});
    REQUIRE(f.server->broker().subscription_count() == 2);
}

TEST_CASE("server: shutdown flushes what is queued before closing clients", "[server][sim]") {
    Fixture f;
    RawClient& sub = f.connect();
    RawClient& pub = f.connect();
    sub.send("SUB x 1\r\n");
    REQUIRE(f.flush(sub));
    for (int i = 0; i < 100; ++i) pub.send("PUB x 2\r\nhi\r\n");
    REQUIRE(f.flush(pub));
    bool done = false;
    f.server->shutdown([&] { done = true; });
    REQUIRE(f.wait([&] { return done && sub.eof(); }));
    REQUIRE(sub.messages().size() == 100);
}

// Goal: a closed connection leaves no timer behind that could fire on a destroyed client.
// Method: a client receives data (arming the write deadline), closes; once the server has
// dropped it, nothing of it may remain in the world's event queue.
TEST_CASE("server: a closed client leaves no pending timers", "[server][sim]") {
    Fixture f;
    RawClient& c = f.connect();
    c.send("SUB x 1\r\nPUB x 2\r\nhi\r\n");
    REQUIRE(f.wait([&] { return c.messages().size() == 1; }));
    c.close();
    REQUIRE(f.wait([&] { return f.server->broker().connection_count() == 0; }));
    REQUIRE(f.wait([&] { return f.world.idle(); }));
    REQUIRE(f.world.now() < herald::Instant{} + Duration::seconds(5));
}

// Goal: services inside the server (JetStream's API later) can answer client requests.
// Method: an internal subscription replies through publish_internal, with headers, and a queue
// group mixing an internal and a client member still delivers each message once.
TEST_CASE("server: an internal subscription answers client requests", "[server][sim]") {
    Fixture f;
    herald::core::Broker& broker = f.server->broker();
    int handled = 0;
    auto id = broker.subscribe_internal(
        "$G", "svc.>", "",
        [&](const herald::protocol::MessageArgs& message, std::string_view payload) {
            ++handled;
            REQUIRE(broker
                        .publish_internal("$G", message.reply, "", "NATS/1.0\r\nX: 1\r\n\r\n",
                                          "re:" + std::string(payload))
                        .has_value());
        });
    REQUIRE(id.has_value());
    RawClient& c = f.connect();
    c.send("SUB _INBOX.me.* 1\r\nPUB svc.echo _INBOX.me.1 2\r\nhi\r\n");
    REQUIRE(f.wait([&] { return c.messages().size() == 1; }));
    REQUIRE(handled == 1);
    REQUIRE(c.messages()[0].headers == "NATS/1.0\r\nX: 1\r\n\r\n");
    REQUIRE(c.messages()[0].payload == "re:hi");
    broker.unsubscribe_internal(*id);
    c.send("PUB svc.echo _INBOX.me.2 2\r\nhi\r\n");
    // Nobody listens any more: the requester gets the no-responders status instead.
    REQUIRE(f.wait([&] { return c.messages().size() == 2; }));
    REQUIRE(c.messages()[1].headers == "NATS/1.0 503\r\n\r\n");
    REQUIRE(handled == 1);
    REQUIRE(broker.subscription_count() == 1);
}
