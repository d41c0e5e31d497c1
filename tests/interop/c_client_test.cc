// Interop tests through the official NATS C client (nats.c 3.x): each test starts its own server
// process (tests/support/server_process.h) and checks one client-visible behaviour of core NATS.
// The same binary runs against nats-server (reference) and herald-server (HERALD_TEST_SERVER).
#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "tests/interop/nats_support.h"
#include "tests/support/server_process.h"

namespace {

using herald::interop::Connection;
using herald::interop::Events;
using herald::interop::Message;
using herald::interop::Options;
using herald::interop::Subscription;
using herald::interop::wait_ms;
using herald::test::ServerOptions;
using herald::test::ServerProcess;
namespace interop = herald::interop;

// Users for the permission and auth tests. `restricted` may publish and subscribe only below
// `allowed.` (plus inboxes); `alice` and `bob` live in separate accounts.
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

constexpr const char* accounts_config = R"(
accounts {
  A: { users: [ {user: alice, password: alice_pw} ] }
  B: { users: [ {user: bob, password: bob_pw} ] }
}
no_auth_user: alice
)";

constexpr int small_max_payload = 1024;

Options options_with_user(const ServerProcess& server, const char* user, const char* password) {
    Options options = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetUserInfo(options.get(), user, password));
    return options;
}

// natsErrHandler recording the connection's last error text (e.g. a permissions violation).
void record_async_error(natsConnection* connection, natsSubscription*, natsStatus status,
                        void* closure) {
    const char* text = nullptr;
    natsConnection_GetLastError(connection, &text);
    static_cast<Events*>(closure)->add(interop::status_text(status) + ": " +
                                       (text != nullptr ? text : ""));
}

// natsMsgHandler that answers each request with "reply to <payload>".
void respond(natsConnection* connection, natsSubscription*, natsMsg* request, void*) {
    const std::string answer = "reply to " + interop::data_of(request);
    if (natsMsg_GetReply(request) != nullptr) {
        natsConnection_Publish(connection, natsMsg_GetReply(request), answer.data(),
                               static_cast<int>(answer.size()));
    }
    natsMsg_Destroy(request);
}

}  // namespace

TEST_CASE("interop: a client connects and learns the server's id and max_payload", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());

    CHECK(natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED);
    CHECK(natsConnection_GetMaxPayload(connection.get()) == 1024 * 1024);
    char server_id[256] = {};
    REQUIRE_OK(natsConnection_GetConnectedServerId(connection.get(), server_id, sizeof server_id));
    CHECK(std::string(server_id).size() > 0);
    char url[256] = {};
    REQUIRE_OK(natsConnection_GetConnectedUrl(connection.get(), url, sizeof url));
    CHECK(std::string(url) == server.url());
}

// Goal: plain delivery between two connections, in publish order, with subject and payload intact.
// Method: 100 publishes, then flush publisher and subscriber so everything has arrived.
TEST_CASE("interop: a published message reaches a subscriber on another connection in order",
          "[interop]") {
    ServerProcess server;
    const Connection subscriber = interop::connect(server.url());
    const Connection publisher = interop::connect(server.url());
    const Subscription subscription = interop::subscribe_sync(subscriber, "greet.joe");
    interop::flush(subscriber);

    constexpr int count = 100;
    for (int i = 0; i < count; ++i) interop::publish(publisher, "greet.joe", "hello " + std::to_string(i));
    interop::publish(publisher, "greet.other", "not for joe");
    interop::flush(publisher);
    interop::flush(subscriber);

    REQUIRE(interop::pending_count(subscription) == count);
    for (int i = 0; i < count; ++i) {
        const Message message = interop::next_message(subscription);
        CHECK(std::string(natsMsg_GetSubject(message.get())) == "greet.joe");
        CHECK(interop::data_of(message) == "hello " + std::to_string(i));
    }
}

// Goal: '*' matches exactly one token, '>' one or more trailing tokens, literals only themselves.
// Method: publish four subjects on the subscribing connection; after a flush all matches are in.
TEST_CASE("interop: a published message reaches every matching wildcard subscriber", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());
    const Subscription star = interop::subscribe_sync(connection, "orders.*");
    const Subscription tail = interop::subscribe_sync(connection, "orders.>");
    const Subscription literal = interop::subscribe_sync(connection, "orders.new");
    const Subscription middle = interop::subscribe_sync(connection, "orders.*.eu");

    for (const char* subject : {"orders.new", "orders.old", "orders.new.eu", "orders", "other.new"}) {
        interop::publish(connection, subject, subject);
    }
    interop::flush(connection);

    auto received = [](const Subscription& subscription) {
        std::set<std::string> subjects;
        while (interop::pending_count(subscription) > 0) {
            subjects.insert(interop::data_of(interop::next_message(subscription)));
        }
        return subjects;
    };
    CHECK(received(star) == std::set<std::string>{"orders.new", "orders.old"});
    CHECK(received(tail) == std::set<std::string>{"orders.new", "orders.old", "orders.new.eu"});
    CHECK(received(literal) == std::set<std::string>{"orders.new"});
    CHECK(received(middle) == std::set<std::string>{"orders.new.eu"});
}

// Goal: a queue group receives each message once in total; a plain subscriber gets a copy of all.
// Method: three members and one plain subscriber on one connection, N publishes from another.
TEST_CASE("interop: a queue group gets each message exactly once while a plain subscriber gets all",
          "[interop]") {
    ServerProcess server;
    const Connection subscriber = interop::connect(server.url());
    const Connection publisher = interop::connect(server.url());
    std::vector<Subscription> members;
    for (int i = 0; i < 3; ++i) members.push_back(interop::queue_subscribe_sync(subscriber, "jobs", "workers"));
    const Subscription plain = interop::subscribe_sync(subscriber, "jobs");
    interop::flush(subscriber);

    constexpr int count = 90;
    for (int i = 0; i < count; ++i) interop::publish(publisher, "jobs", std::to_string(i));
    interop::flush(publisher);
    interop::flush(subscriber);

    std::map<std::string, int> deliveries;
    for (const auto& member : members) {
        while (interop::pending_count(member) > 0) ++deliveries[interop::data_of(interop::next_message(member))];
    }
    CHECK(deliveries.size() == count);
    CHECK(std::all_of(deliveries.begin(), deliveries.end(), [](const auto& entry) { return entry.second == 1; }));
    CHECK(interop::pending_count(plain) == count);
}

TEST_CASE("interop: a request gets the responder's reply", "[interop]") {
    ServerProcess server;
    const Connection responder = interop::connect(server.url());
    const Connection requester = interop::connect(server.url());
    natsSubscription* raw = nullptr;
    REQUIRE_OK(natsConnection_Subscribe(&raw, responder.get(), "service.echo", respond, nullptr));
    const Subscription service(raw);
    interop::flush(responder);

    for (int i = 0; i < 3; ++i) {
        natsMsg* reply = nullptr;
        const std::string request = "ping " + std::to_string(i);
        REQUIRE_OK(natsConnection_RequestString(&reply, requester.get(), "service.echo", request.c_str(), wait_ms));
        const Message answer(reply);
        CHECK(interop::data_of(answer) == "reply to " + request);
    }
}

// Goal: the server answers a request nobody listens to with a 503 status, which nats.c turns into
// NATS_NO_RESPONDERS at once instead of waiting for the timeout.
TEST_CASE("interop: a request with no subscribers fails fast with no responders", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());
    natsMsg* reply = nullptr;
    const auto started = std::chrono::steady_clock::now();
    const natsStatus status = natsConnection_RequestString(&reply, connection.get(), "nobody.home", "anyone?", 10 * wait_ms);
    const Message answer(reply);
    CHECK(interop::status_text(status) == interop::status_text(NATS_NO_RESPONDERS));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(wait_ms));
}

// Goal: HPUB/HMSG carry header fields (including repeated keys) and the payload unchanged.
TEST_CASE("interop: message headers survive the round trip through the server", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());
    const Subscription subscription = interop::subscribe_sync(connection, "headers.test");

    natsMsg* raw = nullptr;
    REQUIRE_OK(natsMsg_Create(&raw, "headers.test", nullptr, "payload", 7));
    const Message sent(raw);
    REQUIRE_OK(natsMsgHeader_Set(sent.get(), "Trace-Id", "abc-123"));
    REQUIRE_OK(natsMsgHeader_Add(sent.get(), "Multi", "one"));
    REQUIRE_OK(natsMsgHeader_Add(sent.get(), "Multi", "two"));
    REQUIRE_OK(natsConnection_PublishMsg(connection.get(), sent.get()));

    natsMsg* empty_raw = nullptr;
    REQUIRE_OK(natsMsg_Create(&empty_raw, "headers.test", nullptr, nullptr, 0));
    const Message empty_payload(empty_raw);
    REQUIRE_OK(natsMsgHeader_Set(empty_payload.get(), "Only", "headers"));
    REQUIRE_OK(natsConnection_PublishMsg(connection.get(), empty_payload.get()));
    interop::publish(connection, "headers.test", "no headers");

    const Message received = interop::next_message(subscription);
    CHECK(interop::data_of(received) == "payload");
    const char* value = nullptr;
    REQUIRE_OK(natsMsgHeader_Get(received.get(), "Trace-Id", &value));
    CHECK(std::string(value) == "abc-123");
    const char** values = nullptr;
    int value_count = 0;
    REQUIRE_OK(natsMsgHeader_Values(received.get(), "Multi", &values, &value_count));
    REQUIRE(value_count == 2);
    CHECK(std::string(values[0]) == "one");
    CHECK(std::string(values[1]) == "two");
    std::free(static_cast<void*>(values));

    const Message only_headers = interop::next_message(subscription);
    CHECK(natsMsg_GetDataLength(only_headers.get()) == 0);
    REQUIRE_OK(natsMsgHeader_Get(only_headers.get(), "Only", &value));
    CHECK(std::string(value) == "headers");

    const Message plain = interop::next_message(subscription);
    CHECK(interop::data_of(plain) == "no headers");
    CHECK(natsMsgHeader_Get(plain.get(), "Trace-Id", &value) == NATS_NOT_FOUND);
}

TEST_CASE("interop: auto-unsubscribe stops delivery after the given count", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());
    const Subscription subscription = interop::subscribe_sync(connection, "limited");
    REQUIRE_OK(natsSubscription_AutoUnsubscribe(subscription.get(), 2));
    interop::flush(connection);

    for (int i = 0; i < 3; ++i) interop::publish(connection, "limited", std::to_string(i));
    interop::flush(connection);

    CHECK(interop::data_of(interop::next_message(subscription)) == "0");
    CHECK(interop::data_of(interop::next_message(subscription)) == "1");
    // The subscription is finished: no third message, whether the server or nats.c dropped it
    // (the server-side limit is checked byte for byte in raw_protocol_test.cc).
    CHECK_FALSE(natsSubscription_IsValid(subscription.get()));
    natsMsg* third = nullptr;
    CHECK(natsSubscription_NextMsg(&third, subscription.get(), 0) != NATS_OK);
    natsMsg_Destroy(third);
}

// Goal: a flush is a barrier: when it returns, everything sent before it was processed.
// Method: 1000 publishes to our own subscription, one flush, then all 1000 are already here.
TEST_CASE("interop: flush returns after the server processed everything sent before it", "[interop]") {
    ServerProcess server;
    const Connection connection = interop::connect(server.url());
    const Subscription subscription = interop::subscribe_sync(connection, "burst");
    constexpr int count = 1000;
    const std::string payload(100, 'x');
    for (int i = 0; i < count; ++i) interop::publish(connection, "burst", payload);
    REQUIRE_OK(natsConnection_FlushTimeout(connection.get(), wait_ms));
    CHECK(interop::pending_count(subscription) == count);
}

// Goal: draining a subscription still delivers what the server sent before the UNSUB.
// Method: publisher flushes N messages first, then the async subscription drains; the callback
// must have seen all N when the drain completes.
TEST_CASE("interop: draining a subscription delivers every message published before the drain",
          "[interop]") {
    ServerProcess server;
    const Connection subscriber = interop::connect(server.url());
    const Connection publisher = interop::connect(server.url());
    Events received;
    natsSubscription* raw = nullptr;
    REQUIRE_OK(natsConnection_Subscribe(&raw, subscriber.get(), "drain.sub", interop::record_message, &received));
    const Subscription subscription(raw);
    interop::flush(subscriber);

    constexpr std::size_t count = 200;
    for (std::size_t i = 0; i < count; ++i) interop::publish(publisher, "drain.sub", std::to_string(i));
    interop::flush(publisher);
    REQUIRE_OK(natsSubscription_Drain(subscription.get()));
    REQUIRE_OK(natsSubscription_WaitForDrainCompletion(subscription.get(), wait_ms));

    CHECK(received.count() == count);
    CHECK_OK(natsSubscription_DrainCompletionStatus(subscription.get()));
    // After the drain the server no longer delivers to it.
    interop::publish(publisher, "drain.sub", "late");
    interop::flush(publisher);
    interop::flush(subscriber);
    CHECK(received.count() == count);
}

TEST_CASE("interop: draining a connection delivers pending messages and then closes it", "[interop]") {
    ServerProcess server;
    Events received;
    Events closed;
    Options options = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetClosedCB(options.get(), interop::record_connection_event, &closed));
    const Connection subscriber = interop::connect(options);
    const Connection publisher = interop::connect(server.url());
    natsSubscription* raw = nullptr;
    REQUIRE_OK(natsConnection_Subscribe(&raw, subscriber.get(), "drain.conn", interop::record_message, &received));
    const Subscription subscription(raw);
    interop::flush(subscriber);

    constexpr std::size_t count = 200;
    for (std::size_t i = 0; i < count; ++i) interop::publish(publisher, "drain.conn", std::to_string(i));
    interop::flush(publisher);
    REQUIRE_OK(natsConnection_DrainTimeout(subscriber.get(), wait_ms));

    REQUIRE(closed.wait_for_count(1));
    CHECK(received.count() == count);
    CHECK(natsConnection_IsClosed(subscriber.get()));
}

// Goal: permission violations are reported through the async error callback with nats-server's
// exact text, and neither drop the connection nor leak the message.
TEST_CASE("interop: a permission violation is reported asynchronously and the connection stays usable",
          "[interop]") {
    ServerProcess server({.config = permissions_config});
    Events errors;
    Options options = options_with_user(server, "restricted", "pw");
    REQUIRE_OK(natsOptions_SetErrorHandler(options.get(), record_async_error, &errors));
    const Connection connection = interop::connect(options);
    const Connection observer = interop::connect(options);
    const Subscription allowed = interop::subscribe_sync(connection, "allowed.x");

    interop::publish(connection, "forbidden.x", "nope");
    interop::flush(connection);
    REQUIRE(errors.wait_for_count(1));
    CHECK(errors.snapshot()[0] ==
          interop::status_text(NATS_NOT_PERMITTED) + ": Permissions Violation for Publish to \"forbidden.x\"");

    const Subscription denied = interop::subscribe_sync(connection, "forbidden.y");
    interop::flush(connection);
    REQUIRE(errors.wait_for_count(2));
    CHECK(errors.snapshot()[1] ==
          interop::status_text(NATS_NOT_PERMITTED) + ": Permissions Violation for Subscription to \"forbidden.y\"");

    CHECK(natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED);
    interop::publish(observer, "allowed.x", "still works");
    interop::flush(observer);
    CHECK(interop::data_of(interop::next_message(allowed)) == "still works");
    interop::flush(connection);
    CHECK(interop::pending_count(denied) == 0);
}

TEST_CASE("interop: user/password authentication refuses a wrong or missing password", "[interop]") {
    ServerProcess server({.config = permissions_config});
    Connection connection;
    CHECK_OK(interop::try_connect(options_with_user(server, "restricted", "pw"), connection));

    Connection refused;
    CHECK(interop::status_text(interop::try_connect(options_with_user(server, "restricted", "wrong"), refused)) ==
          interop::status_text(NATS_CONNECTION_AUTH_FAILED));
    CHECK(interop::status_text(interop::try_connect(interop::make_options(server.url()), refused)) ==
          interop::status_text(NATS_CONNECTION_AUTH_FAILED));
    CHECK(natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED);
}

TEST_CASE("interop: token authentication accepts only the configured token", "[interop]") {
    ServerProcess server({.config = "authorization { token: \"s3cr3t\" }\n"});
    Options good = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetToken(good.get(), "s3cr3t"));
    Connection connection;
    CHECK_OK(interop::try_connect(good, connection));

    Options bad = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetToken(bad.get(), "guess"));
    Connection refused;
    CHECK(interop::status_text(interop::try_connect(bad, refused)) == interop::status_text(NATS_CONNECTION_AUTH_FAILED));
    CHECK(interop::status_text(interop::try_connect(interop::make_options(server.url()), refused)) ==
          interop::status_text(NATS_CONNECTION_AUTH_FAILED));
}

// Goal: no_auth_user puts credential-less clients into that user's account, and accounts isolate
// subjects. Method: an anonymous subscriber sees alice's publish (account A) but not bob's (B).
TEST_CASE("interop: no_auth_user binds clients without credentials to that user's account", "[interop]") {
    ServerProcess server({.config = accounts_config});
    const Connection anonymous = interop::connect(server.url());
    const Connection alice = interop::connect(options_with_user(server, "alice", "alice_pw"));
    const Connection bob = interop::connect(options_with_user(server, "bob", "bob_pw"));
    const Subscription subscription = interop::subscribe_sync(anonymous, "news");
    interop::flush(anonymous);

    interop::publish(bob, "news", "from bob");
    interop::publish(alice, "news", "from alice");
    interop::flush(bob);
    interop::flush(alice);
    interop::flush(anonymous);

    REQUIRE(interop::pending_count(subscription) == 1);
    CHECK(interop::data_of(interop::next_message(subscription)) == "from alice");

    Connection refused;
    CHECK(interop::status_text(interop::try_connect(options_with_user(server, "alice", "wrong"), refused)) ==
          interop::status_text(NATS_CONNECTION_AUTH_FAILED));
}

// Goal: the configured max_payload reaches the client through INFO; a payload of exactly that
// size is delivered, one byte more is refused (by nats.c locally; the server-side refusal is
// covered in raw_protocol_test.cc).
TEST_CASE("interop: a payload of exactly max_payload is delivered and one byte more is refused",
          "[interop]") {
    ServerProcess server({.config = "max_payload: " + std::to_string(small_max_payload) + "\n"});
    const Connection connection = interop::connect(server.url());
    REQUIRE(natsConnection_GetMaxPayload(connection.get()) == small_max_payload);
    const Subscription subscription = interop::subscribe_sync(connection, "big");

    const std::string exact(small_max_payload, 'a');
    interop::publish(connection, "big", exact);
    const std::string too_big(small_max_payload + 1, 'b');
    CHECK(interop::status_text(natsConnection_Publish(connection.get(), "big", too_big.data(),
                                                      static_cast<int>(too_big.size()))) ==
          interop::status_text(NATS_MAX_PAYLOAD));
    interop::flush(connection);

    CHECK(interop::data_of(interop::next_message(subscription)) == exact);
    CHECK(interop::pending_count(subscription) == 0);
    CHECK(natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED);
}

TEST_CASE("interop: a connection with echo off does not receive its own messages", "[interop]") {
    ServerProcess server;
    Options options = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetNoEcho(options.get(), true));
    const Connection quiet = interop::connect(options);
    const Connection other = interop::connect(server.url());
    const Subscription own = interop::subscribe_sync(quiet, "echo.test");
    const Subscription others = interop::subscribe_sync(other, "echo.test");
    interop::flush(quiet);
    interop::flush(other);

    interop::publish(quiet, "echo.test", "from quiet");
    interop::flush(quiet);
    interop::flush(other);

    CHECK(interop::pending_count(own) == 0);
    CHECK(interop::data_of(interop::next_message(others)) == "from quiet");
}

// Goal: after the server restarts on the same port the client reconnects by itself, resends its
// subscriptions, and receives again. Method: the reconnected callback signals a condition; then a
// fresh connection publishes and the old subscription must get it.
TEST_CASE("interop: a client reconnects after a server restart and its subscription resumes",
          "[interop]") {
    ServerProcess server;
    Events disconnected;
    Events reconnected;
    Events closed;
    Options options = interop::make_options(server.url());
    REQUIRE_OK(natsOptions_SetClosedCB(options.get(), interop::record_connection_event, &closed));
    REQUIRE_OK(natsOptions_SetAllowReconnect(options.get(), true));
    REQUIRE_OK(natsOptions_SetMaxReconnect(options.get(), 500));
    REQUIRE_OK(natsOptions_SetReconnectWait(options.get(), 20));
    REQUIRE_OK(natsOptions_SetReconnectJitter(options.get(), 0, 0));
    REQUIRE_OK(natsOptions_SetDisconnectedCB(options.get(), interop::record_connection_event, &disconnected));
    REQUIRE_OK(natsOptions_SetReconnectedCB(options.get(), interop::record_connection_event, &reconnected));
    const Connection connection = interop::connect(options);
    const Subscription subscription = interop::subscribe_sync(connection, "survives.restart");
    interop::flush(connection);

    server.restart();

    REQUIRE(disconnected.wait_for_count(1, 2 * wait_ms));
    REQUIRE(reconnected.wait_for_count(1, 2 * wait_ms));
    CHECK(natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED);
    interop::flush(connection);  // The resent SUB has been processed by the new server.

    const Connection publisher = interop::connect(server.url());
    interop::publish(publisher, "survives.restart", "after restart");
    interop::flush(publisher);
    CHECK(interop::data_of(interop::next_message(subscription)) == "after restart");
    // nats.c runs the disconnected and closed callbacks of a close on its own thread, later:
    // wait for them before the Events they write to go out of scope (a heap corruption seen in CI).
    natsConnection_Close(connection.get());
    REQUIRE(closed.wait_for_count(1, 2 * wait_ms));
}
