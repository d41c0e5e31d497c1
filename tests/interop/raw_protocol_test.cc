// Wire-level interop tests over a plain TCP socket: exact bytes of INFO, PONG, MSG/HMSG, +OK and
// -ERR as nats-server 2.9.10 sends them (see /work/shared/reference/core-protocol.md, whose
// captured samples these tests repeat). Each test starts its own server process.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "tests/interop/raw_client.h"
#include "tests/support/server_process.h"

namespace {

using herald::interop::RawClient;
using herald::test::ServerOptions;
using herald::test::ServerProcess;

// The INFO line's JSON object (the line is `INFO {json} \r\n`; 2.9.10 adds a space before CRLF).
nlohmann::json info_json(const std::string& line) {
    REQUIRE(line.rfind("INFO ", 0) == 0);
    const auto json = nlohmann::json::parse(line.substr(5), nullptr, false);
    REQUIRE_FALSE(json.is_discarded());
    return json;
}

// Reads until the server closes; returns everything it sent on the way.
std::string rest_until_closed(RawClient& client) {
    std::string rest;
    CHECK(client.wait_closed(RawClient::read_timeout, &rest));
    return rest;
}

// GET /varz from the monitoring port, parsed.
nlohmann::json varz(int monitoring_port) {
    RawClient http(monitoring_port);
    http.send("GET /varz HTTP/1.0\r\n\r\n");
    std::string response;
    http.wait_closed(RawClient::read_timeout, &response);
    const auto body = response.find("\r\n\r\n");
    REQUIRE(body != std::string::npos);
    const auto json = nlohmann::json::parse(response.substr(body + 4), nullptr, false);
    REQUIRE_FALSE(json.is_discarded());
    return json;
}

}  // namespace

TEST_CASE("interop: INFO is the first line and advertises server_id, version, max_payload and headers",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    const auto line = client.read_line();
    REQUIRE(line.has_value());
    CHECK(line->size() >= 2);
    CHECK(line->substr(line->size() - 2) == "\r\n");
    const auto info = info_json(*line);

    REQUIRE(info.contains("server_id"));
    CHECK(info["server_id"].is_string());
    CHECK_FALSE(info["server_id"].get<std::string>().empty());
    REQUIRE(info.contains("version"));
    // Clients gate features on the version; a compatible server advertises 2.9.x or later.
    std::smatch version;
    const auto version_text = info["version"].get<std::string>();
    REQUIRE(std::regex_search(version_text, version, std::regex(R"(^(\d+)\.(\d+)\.(\d+))")));
    const int major = std::stoi(version[1]);
    const int minor = std::stoi(version[2]);
    CHECK((major > 2 || (major == 2 && minor >= 9)));
    CHECK(info["proto"] == 1);
    CHECK(info["max_payload"] == 1024 * 1024);
    CHECK(info["headers"] == true);
    CHECK(info["port"] == server.port());
    CHECK_FALSE(info.contains("auth_required"));
}

TEST_CASE("interop: INFO says auth_required when users are configured", "[interop][raw]") {
    ServerProcess server({.config = "authorization { user: a, password: b }\n"});
    RawClient client(server.port());
    const auto line = client.read_line();
    REQUIRE(line.has_value());
    CHECK(info_json(*line)["auth_required"] == true);
}

TEST_CASE("interop: PING is answered with PONG before and after CONNECT", "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    REQUIRE(client.read_line().has_value());  // INFO
    client.send("PING\r\n");
    CHECK(client.read_line() == "PONG\r\n");
    client.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\nPING\r\n");
    CHECK(client.read_line() == "PONG\r\n");
    CHECK(client.read_line() == "PONG\r\n");
}

// Goal: the parser leniencies clients rely on (core-protocol.md §4.2, captured): any verb case,
// runs of spaces and tabs between arguments, and control lines ending in a bare "\n".
TEST_CASE("interop: verbs are case-insensitive and arguments may be separated by tabs and spaces",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake();
    client.send("sub\tlower  1\r\nSuB MiXeD 2\r\npub lower 2\r\nhi\r\nPuB\tMiXeD \t 3\r\nabc\r\n"
                "pub lower 2\nlf\r\nping\r\n");
    CHECK(client.read_line() == "MSG lower 1 2\r\n");
    CHECK(client.read_line() == "hi\r\n");
    CHECK(client.read_line() == "MSG MiXeD 2 3\r\n");
    CHECK(client.read_line() == "abc\r\n");
    CHECK(client.read_line() == "MSG lower 1 2\r\n");
    CHECK(client.read_line() == "lf\r\n");
    CHECK(client.read_line() == "PONG\r\n");
}

TEST_CASE("interop: an unknown protocol operation gets -ERR and the connection is closed",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake();
    client.send("FOO BAR\r\n");
    CHECK(client.read_line() == "-ERR 'Unknown Protocol Operation'\r\n");
    CHECK(rest_until_closed(client).empty());
}

TEST_CASE("interop: a control line longer than 4096 bytes gets -ERR and the connection is closed",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake();
    client.send("SUB " + std::string(5000, 'a') + " 1\r\n");
    CHECK(client.read_line() == "-ERR 'maximum control line exceeded'\r\n");
    CHECK(rest_until_closed(client).empty());
}

// Goal: verbose mode acknowledges CONNECT, SUB, PUB and UNSUB with +OK; the +OK for a PUB comes
// before the MSG it causes (captured from 2.9.10).
TEST_CASE("interop: verbose mode acknowledges each operation with +OK", "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    REQUIRE(client.read_line().has_value());  // INFO
    client.send("CONNECT {\"verbose\":true}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\nPING\r\n");
    CHECK(client.read_line() == "+OK\r\n");  // CONNECT
    CHECK(client.read_line() == "+OK\r\n");  // SUB
    CHECK(client.read_line() == "+OK\r\n");  // PUB
    CHECK(client.read_line() == "MSG foo 1 2\r\n");
    CHECK(client.read_line() == "hi\r\n");
    CHECK(client.read_line() == "+OK\r\n");  // UNSUB
    CHECK(client.read_line() == "PONG\r\n");
}

// Goal: the server itself enforces max_payload (nats.c would refuse locally before sending).
// Method: max_payload 1024; a PUB of exactly 1024 bytes is delivered, 1025 gets -ERR and a close.
TEST_CASE("interop: the server refuses a PUB one byte over max_payload and closes the connection",
          "[interop][raw]") {
    ServerProcess server({.config = "max_payload: 1024\n"});
    RawClient client(server.port());
    const auto info = info_json(client.handshake());
    CHECK(info["max_payload"] == 1024);

    client.send("SUB big 1\r\nPUB big 1024\r\n" + std::string(1024, 'a') + "\r\nPING\r\n");
    CHECK(client.read_line() == "MSG big 1 1024\r\n");
    CHECK(client.read_bytes(1026) == std::string(1024, 'a') + "\r\n");
    CHECK(client.read_line() == "PONG\r\n");

    client.send("PUB big 1025\r\n" + std::string(1025, 'b') + "\r\n");
    CHECK(client.read_line() == "-ERR 'Maximum Payload Violation'\r\n");
    CHECK(rest_until_closed(client).empty());
}

TEST_CASE("interop: the server counts header bytes against max_payload for HPUB", "[interop][raw]") {
    ServerProcess server({.config = "max_payload: 1024\n"});
    RawClient client(server.port());
    client.handshake(R"({"verbose":false,"pedantic":false,"headers":true})");
    // 12 header bytes ("NATS/1.0\r\n\r\n") + 1013 payload bytes = 1025 total.
    client.send("HPUB big 12 1025\r\nNATS/1.0\r\n\r\n" + std::string(1013, 'c') + "\r\n");
    CHECK(client.read_line() == "-ERR 'Maximum Payload Violation'\r\n");
    CHECK(rest_until_closed(client).empty());
}

// Goal: UNSUB <sid> <max> is enforced by the server (nats.c also counts locally, which would hide
// a server that ignores it). Captured: SUB, UNSUB 1 2, three PUBs -> two MSGs.
TEST_CASE("interop: UNSUB with a maximum stops server-side delivery after that many messages",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake();
    client.send("SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPING\r\n");
    CHECK(client.read_line() == "MSG foo 1 1\r\n");
    CHECK(client.read_line() == "a\r\n");
    CHECK(client.read_line() == "MSG foo 1 1\r\n");
    CHECK(client.read_line() == "b\r\n");
    CHECK(client.read_line() == "PONG\r\n");
}

// Goal: HPUB is delivered as HMSG with the header block byte for byte, to a plain subscriber and a
// queue subscriber alike (captured sample from core-protocol.md §4.1).
TEST_CASE("interop: HPUB is delivered as HMSG with identical header bytes", "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake(R"({"verbose":false,"pedantic":false,"headers":true})");
    client.send("SUB foo 1\r\nSUB foo grp 2\r\n"
                "HPUB foo rep 22 27\r\nNATS/1.0\r\nFoo: Bar\r\n\r\nhello\r\nPING\r\n");
    const std::string block = "NATS/1.0\r\nFoo: Bar\r\n\r\nhello\r\n";
    std::set<std::string> deliveries;
    for (int i = 0; i < 2; ++i) {
        const auto control = client.read_line();
        REQUIRE(control.has_value());
        deliveries.insert(*control);
        CHECK(client.read_bytes(block.size()) == block);
    }
    CHECK(deliveries == std::set<std::string>{"HMSG foo 1 rep 22 27\r\n", "HMSG foo 2 rep 22 27\r\n"});
    CHECK(client.read_line() == "PONG\r\n");
}

// Goal: the exact no-responders status message (core-protocol.md §5.1, captured).
TEST_CASE("interop: a request to nobody gets a 503 status message on the reply subscription",
          "[interop][raw]") {
    ServerProcess server;
    RawClient client(server.port());
    client.handshake(R"({"verbose":false,"pedantic":false,"headers":true,"no_responders":true})");
    client.send("SUB _INBOX.x 1\r\nPUB nobody _INBOX.x 1\r\nx\r\nPING\r\n");
    CHECK(client.read_line() == "HMSG _INBOX.x 1 16 16\r\n");
    CHECK(client.read_bytes(18) == "NATS/1.0 503\r\n\r\n\r\n");
    CHECK(client.read_line() == "PONG\r\n");
}

TEST_CASE("interop: a denied publish gets -ERR with the subject and the connection stays open",
          "[interop][raw]") {
    ServerProcess server({.config = R"(
authorization {
  users = [ {user: u, password: p, permissions: {publish: "ok.>", subscribe: "ok.>"}} ]
}
)"});
    RawClient client(server.port());
    client.handshake(R"({"verbose":false,"pedantic":false,"user":"u","pass":"p"})");
    client.send("PUB no.way 1\r\nx\r\nPING\r\n");
    CHECK(client.read_line() == "-ERR 'Permissions Violation for Publish to \"no.way\"'\r\n");
    CHECK(client.read_line() == "PONG\r\n");
    client.send("SUB nope 1\r\nPING\r\n");
    CHECK(client.read_line() == "-ERR 'Permissions Violation for Subscription to \"nope\"'\r\n");
    CHECK(client.read_line() == "PONG\r\n");
    client.send("SUB ok.1 1\r\nPUB ok.1 2\r\nhi\r\nPING\r\n");
    CHECK(client.read_line() == "MSG ok.1 1 2\r\n");
    CHECK(client.read_line() == "hi\r\n");
    CHECK(client.read_line() == "PONG\r\n");
}

TEST_CASE("interop: a wrong password gets -ERR 'Authorization Violation' and the connection is closed",
          "[interop][raw]") {
    ServerProcess server({.config = "authorization { user: a, password: b }\n"});
    RawClient client(server.port());
    REQUIRE(client.read_line().has_value());  // INFO
    client.send("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"wrong\"}\r\nPING\r\n");
    CHECK(client.read_line() == "-ERR 'Authorization Violation'\r\n");
    CHECK(rest_until_closed(client).empty());
}

// Goal: a subscriber that stops reading is cut off once its pending bytes pass max_pending, with
// no -ERR (nats-server 2.9), while the publisher keeps working. Method: the subscriber never
// reads while 64 MiB are published; then it drains what reached it and must see the close.
TEST_CASE("interop: a subscriber that does not read is closed as a slow consumer at max_pending",
          "[interop][raw]") {
    ServerProcess server({.config = "max_payload: 4096\nmax_pending: 65536\n"});
    RawClient slow(server.port());
    slow.handshake();
    slow.send("SUB data 1\r\nPING\r\n");
    REQUIRE(slow.read_line() == "PONG\r\n");
    RawClient publisher(server.port());
    publisher.handshake();
    const std::string frame = "PUB data 4096\r\n" + std::string(4096, 'x') + "\r\n";
    std::string batch;
    for (int i = 0; i < 256; ++i) batch += frame;
    constexpr int batches = 64;  // 64 MiB in all: more than any socket buffers hold
    for (int i = 0; i < batches; ++i) publisher.send(batch);
    publisher.send("PING\r\n");
    REQUIRE(publisher.read_until("PONG\r\n").has_value());
    std::string received;
    REQUIRE(slow.wait_closed(std::chrono::milliseconds(10'000), &received));
    CHECK(received.size() < static_cast<std::size_t>(batches) * batch.size());
    CHECK(received.find("-ERR") == std::string::npos);
    // The publisher is unaffected.
    publisher.send("PING\r\n");
    CHECK(publisher.read_line() == "PONG\r\n");
}

// Goal: a subscriber whose socket stays full for longer than write_deadline is closed even
// though max_pending is far away. Method: as above with a 1 s write deadline and 256 MiB
// max_pending; the subscriber does not read until /varz counts the slow consumer (a bounded
// wait on that condition), then it must find its connection closed.
TEST_CASE("interop: a subscriber that blocks writes past write_deadline is closed",
          "[interop][raw]") {
    ServerProcess server({.config = "write_deadline: \"1s\"\nmax_pending: 268435456\n",
                          .args = {"-m", "-1"}});
    REQUIRE(server.monitoring_port() > 0);
    RawClient slow(server.port());
    slow.handshake();
    slow.send("SUB data 1\r\nPING\r\n");
    REQUIRE(slow.read_line() == "PONG\r\n");
    RawClient publisher(server.port());
    publisher.handshake();
    const std::string frame = "PUB data 4096\r\n" + std::string(4096, 'x') + "\r\n";
    std::string batch;
    for (int i = 0; i < 256; ++i) batch += frame;
    constexpr int batches = 32;  // 32 MiB: fills the socket buffers, stays below max_pending
    for (int i = 0; i < batches; ++i) publisher.send(batch);
    publisher.send("PING\r\n");
    REQUIRE(publisher.read_until("PONG\r\n").has_value());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (varz(server.monitoring_port())["slow_consumers"] == 0) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        // Poll the condition again after a short pause; the bound above ends the wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string received;
    REQUIRE(slow.wait_closed(std::chrono::milliseconds(15'000), &received));
    CHECK(received.size() < static_cast<std::size_t>(batches) * batch.size());
}

// Goal: a subscriber that keeps reading, only slower than a fast publisher, is not cut off as a
// slow consumer: the server stalls the publisher instead (nats-server's fast-producer stall).
// Method: max_pending is small (256 KiB) while 16 MiB are published as fast as possible to a
// subscriber that reads everything on its own thread; it must receive every message.
TEST_CASE("interop: a fast publisher is slowed down rather than a reading subscriber cut off",
          "[interop][raw]") {
    ServerProcess server({.config = "max_payload: 1024\nmax_pending: 262144\n"});
    RawClient subscriber(server.port());
    subscriber.handshake();
    subscriber.send("SUB data 1\r\nPING\r\n");
    REQUIRE(subscriber.read_line() == "PONG\r\n");
    constexpr std::size_t count = 16 * 1024;
    const std::string frame = "PUB data 1024\r\n" + std::string(1024, 'x') + "\r\n";
    const std::size_t delivered_size = std::string("MSG data 1 1024\r\n").size() + 1024 + 2;
    std::size_t received = 0;
    std::thread reader([&] {
        while (received < count * delivered_size) {
            const auto chunk = subscriber.read_bytes(delivered_size, std::chrono::milliseconds(10'000));
            if (!chunk) return;
            received += chunk->size();
        }
    });
    RawClient publisher(server.port());
    publisher.handshake();
    std::string batch;
    for (std::size_t i = 0; i < 256; ++i) batch += frame;
    for (std::size_t i = 0; i < count / 256; ++i) publisher.send(batch);
    publisher.send("PING\r\n");
    const auto pong = publisher.read_until("PONG\r\n", std::chrono::milliseconds(30'000));
    reader.join();
    CHECK(pong.has_value());
    CHECK(received == count * delivered_size);
    CHECK_FALSE(subscriber.eof());
}
