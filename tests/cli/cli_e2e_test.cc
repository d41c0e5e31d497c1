// End-to-end tests of the `herald` binary against a real server process: the one named by
// HERALD_TEST_SERVER (ctest runs this binary once with herald-server, once with nats-server).
// Each test starts its own server; readiness is the "Subscribing on"/"Listening on" line a
// subscriber prints after its flush, and every wait on a child is bounded.
#include <signal.h>

#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_process.h"
#include "tests/support/server_process.h"

namespace {

using herald::test::CliProcess;
using herald::test::ServerProcess;

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

// Runs herald to completion and returns its exit status (REQUIREs that it exits in time).
int run(CliProcess& process) {
    const auto status = process.wait_exit();
    INFO(process.describe());
    REQUIRE(status.has_value());
    return *status;
}

}  // namespace

// Goal: the basic path — what `herald pub` sends, `herald sub` prints, headers and templates too.
// Method: a sub with --count 3; two templated pubs with a header, one body from stdin.
TEST_CASE("cli: a message published with herald pub is printed by herald sub", "[cli][e2e]") {
    ServerProcess server;
    CliProcess sub({"-s", server.url(), "sub", "orders.>", "--count", "3"});
    REQUIRE(sub.wait_for_stderr("Subscribing on \"orders.>\""));

    CliProcess pub({"-s",
                    server.url(),
                    "pub",
                    "orders.new",
                    "order {{Count}}",
                    "--count",
                    "2",
                    "-H",
                    "Trace:abc"});
    CHECK(run(pub) == 0);
    CliProcess stdin_pub({"pub", "orders.old", "--server", server.url(), "--reply", "answers"},
                         std::string("from stdin"));
    CHECK(run(stdin_pub) == 0);

    INFO(sub.describe());
    REQUIRE(run(sub) == 0);
    const std::string& out = sub.out();
    CHECK(out.find("[#1] Received on \"orders.new\"\nTrace: abc\n\norder 1\n")
          != std::string::npos);
    CHECK(out.find("[#2] Received on \"orders.new\"\nTrace: abc\n\norder 2\n")
          != std::string::npos);
    CHECK(out.find("[#3] Received on \"orders.old\" with reply \"answers\"\nfrom stdin\n")
          != std::string::npos);
}

// Goal: --raw prints bodies only, and SIGINT ends a subscriber with status 0.
TEST_CASE("cli: herald sub --raw prints bodies and exits 0 on SIGINT", "[cli][e2e]") {
    ServerProcess server;
    CliProcess sub({"-s", server.url(), "sub", "raw.test", "--raw"});
    REQUIRE(sub.wait_for_stderr("Subscribing on"));
    CliProcess pub({"-s", server.url(), "pub", "raw.test", "line {{Count}}", "--count", "3"});
    CHECK(run(pub) == 0);
    REQUIRE(sub.wait_for_stdout("line 3\n"));
    sub.send_signal(SIGINT);
    CHECK(run(sub) == 0);
    CHECK(sub.out() == "line 1\nline 2\nline 3\n");
}

// Goal: request/reply through two herald processes, with the template {{Request}} and --echo.
TEST_CASE("cli: herald req is answered by herald reply", "[cli][e2e]") {
    ServerProcess server;
    SECTION("a fixed, templated answer") {
        CliProcess reply({"-s",
                          server.url(),
                          "reply",
                          "svc.time",
                          "answer {{Count}} to {{Request}}",
                          "--count",
                          "1"});
        REQUIRE(reply.wait_for_stderr("Listening on \"svc.time\""));
        CliProcess req({"-s", server.url(), "req", "svc.time", "hello"});
        CHECK(run(req) == 0);
        CHECK(req.out() == "answer 1 to hello\n");
        CHECK(req.err().find("Received with rtt") != std::string::npos);
        CHECK(run(reply) == 0);
        CHECK(reply.out().find("hello") != std::string::npos);
    }
    SECTION("an echo keeps the body and headers") {
        CliProcess reply({"-s", server.url(), "reply", "svc.echo", "--echo", "--count", "1"});
        REQUIRE(reply.wait_for_stderr("Listening on"));
        CliProcess req({"-s", server.url(), "req", "svc.echo", "ping", "-H", "Trace:xyz"});
        CHECK(run(req) == 0);
        CHECK(req.out() == "Trace: xyz\n\nping\n");
        CHECK(run(reply) == 0);
    }
}

// Goal: a request nobody listens to fails fast with the no-responders message and status 1.
TEST_CASE("cli: herald req without responders says so and exits 1", "[cli][e2e]") {
    ServerProcess server;
    CliProcess req({"-s", server.url(), "--timeout", "10s", "req", "nobody.home", "hi"});
    CHECK(run(req) == 1);
    CHECK(req.err().find("no responders available for request") != std::string::npos);
}

// Goal: a queue group splits the messages between two `herald sub --queue` processes.
// Method: 200 messages; each body appears exactly once over both, each member gets some.
TEST_CASE("cli: two herald sub --queue processes share the messages", "[cli][e2e]") {
    ServerProcess server;
    CliProcess first({"-s", server.url(), "sub", "work", "--queue", "workers", "--raw"});
    CliProcess second({"-s", server.url(), "sub", "work", "--queue", "workers", "--raw"});
    REQUIRE(first.wait_for_stderr("in group \"workers\""));
    REQUIRE(second.wait_for_stderr("in group \"workers\""));
    constexpr int messages = 200;
    CliProcess pub(
        {"-s", server.url(), "pub", "work", "job {{Count}}", "--count", std::to_string(messages)});
    CHECK(run(pub) == 0);
    // Both members together have every message once they print `messages` lines in total.
    auto total = [&] {
        return count_of(first.out(), "\n") + count_of(second.out(), "\n");
    };
    for (int round = 0; round < 400 && total() < messages; ++round) {
        first.wait_for([](const std::string&, const std::string&) { return false; },
                       std::chrono::milliseconds(25));
        second.wait_for([](const std::string&, const std::string&) { return false; },
                        std::chrono::milliseconds(25));
    }
    first.send_signal(SIGINT);
    second.send_signal(SIGINT);
    CHECK(run(first) == 0);
    CHECK(run(second) == 0);
    const auto first_lines = lines_of(first.out());
    const auto second_lines = lines_of(second.out());
    INFO(first.describe() << "\n" << second.describe());
    CHECK(!first_lines.empty());
    CHECK(!second_lines.empty());
    std::multiset<std::string> all(first_lines.begin(), first_lines.end());
    all.insert(second_lines.begin(), second_lines.end());
    REQUIRE(all.size() == messages);
    for (int i = 1; i <= messages; ++i)
        CHECK(all.count("job " + std::to_string(i)) == 1);
}

// Goal: bench runs and its --json figures are consistent with themselves.
TEST_CASE("cli: herald bench --json reports sane figures", "[cli][e2e][bench]") {
    ServerProcess server;
    SECTION("throughput, 2 publishers and 1 subscriber") {
        CliProcess bench({"-s",
                          server.url(),
                          "bench",
                          "bench.test",
                          "--pub",
                          "2",
                          "--sub",
                          "1",
                          "--msgs",
                          "20000",
                          "--size",
                          "16",
                          "--json"});
        REQUIRE(run(bench) == 0);
        const auto report = nlohmann::json::parse(bench.out(), nullptr, false);
        INFO(bench.describe());
        REQUIRE(report.is_object());
        CHECK(report["ok"] == true);
        CHECK(report["mode"] == "pubsub");
        CHECK(report["published"] == 20000);
        CHECK(report["received"] == 20000);
        CHECK(report["pub_clients"].size() == 2);
        const double pub_rate = report["pub_msgs_per_s"];
        const double recv_rate = report["recv_msgs_per_s"];
        CHECK(pub_rate > 1000);
        CHECK(recv_rate > 1000);
        CHECK(pub_rate < 1e9);
        CHECK(report["pub_mb_per_s"].get<double>() == Approx(pub_rate * 16 / 1e6));
        const double elapsed_s = report["receive_elapsed_s"];
        CHECK(recv_rate == Approx(20000 / elapsed_s));
    }
    SECTION("request latency") {
        CliProcess bench({"-s",
                          server.url(),
                          "bench",
                          "bench.req",
                          "--request",
                          "--msgs",
                          "300",
                          "--size",
                          "16",
                          "--json"});
        REQUIRE(run(bench) == 0);
        const auto report = nlohmann::json::parse(bench.out(), nullptr, false);
        INFO(bench.describe());
        REQUIRE(report.is_object());
        CHECK(report["ok"] == true);
        CHECK(report["requests"] == 300);
        const auto& latency = report["latency_us"];
        CHECK(latency["p50"].get<double>() > 0);
        CHECK(latency["p50"].get<double>() <= latency["p99"].get<double>());
        CHECK(latency["p99"].get<double>() <= latency["max"].get<double>());
        CHECK(latency["max"].get<double>() < 10e6);
    }
    SECTION("a plain summary when stdout is not a terminal") {
        CliProcess bench(
            {"-s", server.url(), "bench", "bench.plain", "--msgs", "1000", "--size", "8"});
        REQUIRE(run(bench) == 0);
        CHECK(bench.out().find("Pub stats: ") != std::string::npos);
        CHECK(bench.out().find('\r') == std::string::npos);  // no progress bar
    }
}

// Goal: `server info` shows the server's own INFO; `server ping` measures round trips.
TEST_CASE("cli: herald server info and server ping", "[cli][e2e]") {
    ServerProcess server;
    CliProcess info({"-s", server.url(), "server", "info"});
    REQUIRE(run(info) == 0);
    const auto json = nlohmann::json::parse(info.out(), nullptr, false);
    INFO(info.describe());
    REQUIRE(json.is_object());
    CHECK(json["port"] == server.port());
    CHECK(json.contains("server_id"));
    CHECK(info.out().find("\n  \"") != std::string::npos);  // indented

    CliProcess ping({"-s", server.url(), "server", "ping", "--count", "3"});
    REQUIRE(run(ping) == 0);
    CHECK(count_of(ping.out(), "pong ") == 3);
    CHECK(ping.out().find("--- 3 pings: min/avg/max = ") != std::string::npos);
}

// Goal: bad command lines are usage errors (status 2) that say what is wrong.
TEST_CASE("cli: a bad flag or value is a usage error with status 2", "[cli][e2e]") {
    ServerProcess server;
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"-s", server.url(), "pub", "x", "y", "--cout", "3"}, "unknown flag --cout"},
        {{"-s", server.url(), "pub", "x", "y", "--count", "many"}, "bad value for --count: 'many'"},
        {{"-s", server.url(), "--timeout", "5", "req", "x", "y"}, "bad value for --timeout: '5'"},
        {{"-s", server.url(), "bench", "x", "--size", "big"}, "bad value for --size: 'big'"},
        {{"-s", server.url(), "pub", "x", "{{Cont}}"}, "unknown template action {{Cont}}"},
        {{"-s", server.url(), "sub"}, "missing argument"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
    };
    for (const Case& test : cases) {
        CliProcess herald(test.args);
        INFO(herald.describe());
        CHECK(run(herald) == 2);
        CHECK(herald.err().find(test.message) != std::string::npos);
    }
    CliProcess help({"pub", "--help"});
    CHECK(run(help) == 0);
    CHECK(help.out().find("--count N") != std::string::npos);
    CHECK(help.out().find("Examples:") != std::string::npos);
}

// Goal: a refused connection names the URL and the reason, with status 1.
// Method: start a server, note its URL, stop it, so nothing listens on that port any more.
TEST_CASE("cli: a refused connection says which URL and why", "[cli][e2e]") {
    ServerProcess server;
    const std::string url = server.url();
    server.stop();
    for (const auto& args : std::vector<std::vector<std::string>>{{"-s", url, "pub", "x", "y"},
                                                                  {"-s", url, "sub", "x"},
                                                                  {"-s", url, "server", "info"}}) {
        CliProcess herald(args);
        INFO(herald.describe());
        CHECK(run(herald) == 1);
        CHECK(herald.err().find("nats: connection refused: " + url) != std::string::npos);
    }
}
