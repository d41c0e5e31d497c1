// End-to-end tests of HttpServer over the simulated Env (sim::SimWorld): a client node speaks raw
// HTTP/1.1 to the server node through simulated streams, in simulated time.
#include "engine/monitor/http_server.h"

#include <catch2/catch.hpp>

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/node.h"

using herald::Duration;
using herald::Result;
using herald::Status;
using herald::io::Stream;
using herald::monitor::http_connections_max;
using herald::monitor::http_idle_timeout;
using herald::monitor::http_request_size_max;
using herald::monitor::HttpRequest;
using herald::monitor::HttpResponse;
using herald::monitor::HttpServer;
using herald::sim::SimNode;
using herald::sim::SimWorld;

namespace {

constexpr std::uint64_t steps_max = 1'000'000;

struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // Names lower-cased.
    std::string body;
};

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Parses as many whole responses as `text` holds. `head_only[i]` marks responses to HEAD, which
// have a Content-Length but no body.
std::vector<Response> parse_responses(std::string_view text, const std::vector<bool>& head_only) {
    std::vector<Response> responses;
    while (!text.empty()) {
        const std::size_t end = text.find("\r\n\r\n");
        if (end == std::string_view::npos) break;
        Response response;
        std::string_view head = text.substr(0, end);
        const std::size_t line_end = head.find("\r\n");
        const std::string_view status_line = head.substr(0, line_end);
        REQUIRE(status_line.substr(0, 9) == "HTTP/1.1 ");
        std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
        head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
        while (!head.empty()) {
            const std::size_t next = head.find("\r\n");
            const std::string_view line = head.substr(0, next);
            const std::size_t colon = line.find(':');
            REQUIRE(colon != std::string_view::npos);
            response.headers[lower(std::string(line.substr(0, colon)))] =
                std::string(line.substr(colon + 2));
            head = next == std::string_view::npos ? std::string_view() : head.substr(next + 2);
        }
        const std::size_t length = std::stoul(response.headers.at("content-length"));
        const bool head_request =
            responses.size() < head_only.size() && head_only[responses.size()];
        const std::size_t body_size = head_request ? 0 : length;
        if (text.size() < end + 4 + body_size) break;
        response.body = std::string(text.substr(end + 4, body_size));
        text.remove_prefix(end + 4 + body_size);
        responses.push_back(std::move(response));
    }
    return responses;
}

// A raw HTTP client on its own node: connects, writes text, collects everything it reads.
class RawClient {
public:
    RawClient(SimNode& node, std::uint16_t port) {
        node.env().network.connect("10.0.0.1:" + std::to_string(port),
                                   [this](Result<std::unique_ptr<Stream>> connected) {
                                       REQUIRE(connected);
                                       stream_ = std::move(*connected);
                                       read();
                                       flush();
                                   });
    }
    ~RawClient() {
        if (stream_) stream_->close();
    }

    void write(std::string text) {
        pending_.push_back(std::move(text));
        flush();
    }
    const std::string& received() const { return received_; }
    bool eof() const { return eof_; }
    bool connected() const { return stream_ != nullptr; }

private:
    void read() {
        stream_->read_some(buffer_, [this](Result<std::size_t> read_result) {
            REQUIRE(read_result);
            if (*read_result == 0) {
                eof_ = true;
                return;
            }
            received_.append(reinterpret_cast<const char*>(buffer_.data()), *read_result);
            read();
        });
    }
    void flush() {
        if (!stream_ || writing_ || pending_.empty()) return;
        in_flight_ = std::move(pending_.front());
        pending_.erase(pending_.begin());
        writing_ = true;
        sources_[0] = std::as_bytes(std::span<const char>(in_flight_));
        stream_->write_all(sources_, [this](Status status) {
            REQUIRE(status);
            writing_ = false;
            flush();
        });
    }

    std::unique_ptr<Stream> stream_;
    std::vector<std::byte> buffer_ = std::vector<std::byte>(1024);
    std::string received_;
    std::vector<std::string> pending_;
    std::string in_flight_;
    std::span<const std::byte> sources_[1];
    bool writing_ = false;
    bool eof_ = false;
};

// A server node with an HttpServer that has /varz, /connz (echoes its query) and /healthz.
struct Fixture {
    explicit Fixture(std::uint64_t seed = 1)
        : world(seed), server_node(world.add_node()), client_node(world.add_node()) {
        server = std::make_unique<HttpServer>(server_node.env(), herald::base::Logger());
        server->route("/varz", [](const HttpRequest&) {
            return HttpResponse::json(R"({"server_id":"NTEST","connections":0})");
        });
        server->route("/connz", [](const HttpRequest& request) {
            std::string body = "{";
            for (const auto& [key, value] : request.query) {
                if (body.size() > 1) body += ",";
                body += "\"" + key + "\":\"" + value + "\"";
            }
            return HttpResponse::json(body + "}");
        });
        server->route("/healthz", [](const HttpRequest&) {
            return HttpResponse::json(R"({"status":"unavailable","error":"test"})", 503);
        });
        REQUIRE(server->listen("0.0.0.0", 0));
        REQUIRE(server->port() != 0);
    }

    std::unique_ptr<RawClient> client() {
        auto raw = std::make_unique<RawClient>(client_node, server->port());
        REQUIRE(world.run_until([&] { return raw->connected(); }, steps_max));
        return raw;
    }

    std::vector<Response> exchange(RawClient& raw, const std::string& text, std::size_t count,
                                   const std::vector<bool>& head_only = {}) {
        const std::size_t before = parse_responses(raw.received(), head_only).size();
        raw.write(text);
        REQUIRE(world.run_until(
            [&] { return parse_responses(raw.received(), head_only).size() >= before + count; },
            steps_max));
        return parse_responses(raw.received(), head_only);
    }

    SimWorld world;
    SimNode& server_node;
    SimNode& client_node;
    std::unique_ptr<HttpServer> server;
};

}  // namespace

// Goal: a plain GET returns the handler's JSON with the standard headers. Method: one request on
// a fresh connection; the date comes from the simulated clock (2024-01-01).
TEST_CASE("http server: GET returns JSON with Content-Type, Content-Length and Date",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    const auto responses = fixture.exchange(*raw, "GET /varz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    REQUIRE(responses.size() == 1);
    REQUIRE(responses[0].status == 200);
    REQUIRE(responses[0].headers.at("content-type") == "application/json");
    REQUIRE(responses[0].body == R"({"server_id":"NTEST","connections":0})");
    REQUIRE(responses[0].headers.at("content-length") == std::to_string(responses[0].body.size()));
    REQUIRE(responses[0].headers.at("date").rfind("Mon, 01 Jan 2024 00:00:0", 0) == 0);
    REQUIRE_FALSE(responses[0].headers.contains("connection"));
    REQUIRE(fixture.server->request_counts().at("/varz") == 1);
    REQUIRE_FALSE(raw->eof());
}

TEST_CASE("http server: query parameters reach the handler", "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    const auto responses =
        fixture.exchange(*raw, "GET /connz?subs=1&limit=2 HTTP/1.1\r\n\r\n", 1);
    REQUIRE(responses[0].status == 200);
    REQUIRE(responses[0].body == R"({"subs":"1","limit":"2"})");
}

// Goal: keep-alive and pipelining. Method: two requests one after the other, then three in one
// write; the answers come back in order on the same connection.
TEST_CASE("http server: keep-alive and pipelined requests are answered in order",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    fixture.exchange(*raw, "GET /varz HTTP/1.1\r\n\r\n", 1);
    auto responses = fixture.exchange(*raw, "GET /connz?a=1 HTTP/1.1\r\n\r\n", 1);
    REQUIRE(responses.size() == 2);
    REQUIRE(responses[1].body == R"({"a":"1"})");
    responses = fixture.exchange(
        *raw,
        "GET /connz?n=1 HTTP/1.1\r\n\r\nGET /connz?n=2 HTTP/1.1\r\n\r\nGET /connz?n=3 HTTP/1.1\r\n\r\n",
        3);
    REQUIRE(responses.size() == 5);
    REQUIRE(responses[2].body == R"({"n":"1"})");
    REQUIRE(responses[3].body == R"({"n":"2"})");
    REQUIRE(responses[4].body == R"({"n":"3"})");
    REQUIRE(fixture.server->stats().connections_accepted == 1);
    REQUIRE(fixture.server->request_counts().at("/connz") == 4);
}

TEST_CASE("http server: a request written one byte at a time is answered",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    const std::string request = "GET /connz?subs=detail HTTP/1.1\r\nHost: h\r\n\r\n";
    for (char c : request) raw->write(std::string(1, c));
    REQUIRE(fixture.world.run_until([&] { return !parse_responses(raw->received(), {}).empty(); },
                                    steps_max));
    REQUIRE(parse_responses(raw->received(), {})[0].body == R"({"subs":"detail"})");
}

TEST_CASE("http server: unknown path is 404, other methods 405, HEAD has no body",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    auto responses = fixture.exchange(*raw, "GET /nope HTTP/1.1\r\n\r\n", 1);
    REQUIRE(responses[0].status == 404);
    REQUIRE(responses[0].headers.at("content-type") == "application/json");
    REQUIRE(responses[0].body == R"({"error":"Not Found: /nope","status":404})");
    responses = fixture.exchange(*raw, "GET /a%22b%5C HTTP/1.1\r\n\r\n", 1);
    REQUIRE(responses[1].body == R"({"error":"Not Found: /a\"b\\","status":404})");
    responses = fixture.exchange(*raw, "POST /varz HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 1);
    REQUIRE(responses[2].status == 405);
    REQUIRE(responses[2].headers.at("allow") == "GET, HEAD");
    responses = fixture.exchange(*raw, "HEAD /varz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
                                 2, {false, false, false, true, false});
    REQUIRE(responses[3].status == 200);
    REQUIRE(responses[3].body.empty());
    REQUIRE(responses[3].headers.at("content-length") ==
            std::to_string(std::string(R"({"server_id":"NTEST","connections":0})").size()));
    REQUIRE(responses[4].status == 503);
    REQUIRE(responses[4].body == R"({"status":"unavailable","error":"test"})");
    REQUIRE_FALSE(raw->eof());
}

TEST_CASE("http server: an oversized request gets 431 and the connection is closed",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    raw->write("GET /varz HTTP/1.1\r\nX-Big: " + std::string(http_request_size_max, 'b') +
               "\r\n\r\n");
    REQUIRE(fixture.world.run_until([&] { return raw->eof(); }, steps_max));
    const auto responses = parse_responses(raw->received(), {});
    REQUIRE(responses.size() == 1);
    REQUIRE(responses[0].status == 431);
    REQUIRE(responses[0].headers.at("connection") == "close");
    REQUIRE(fixture.server->stats().bad_requests == 1);
}

TEST_CASE("http server: a malformed request gets 400 and the connection is closed",
          "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    raw->write("GARBAGE\r\n\r\nGET /varz HTTP/1.1\r\n\r\n");
    REQUIRE(fixture.world.run_until([&] { return raw->eof(); }, steps_max));
    const auto responses = parse_responses(raw->received(), {});
    REQUIRE(responses.size() == 1);
    REQUIRE(responses[0].status == 400);
}

TEST_CASE("http server: Connection: close and HTTP/1.0 close after the response",
          "[monitor][http_server]") {
    Fixture fixture;
    auto first = fixture.client();
    first->write("GET /varz HTTP/1.1\r\nConnection: close\r\n\r\nGET /varz HTTP/1.1\r\n\r\n");
    REQUIRE(fixture.world.run_until([&] { return first->eof(); }, steps_max));
    auto responses = parse_responses(first->received(), {});
    REQUIRE(responses.size() == 1);  // The pipelined second request is not answered.
    REQUIRE(responses[0].headers.at("connection") == "close");

    auto second = fixture.client();
    second->write("GET /varz HTTP/1.0\r\n\r\n");
    REQUIRE(fixture.world.run_until([&] { return second->eof(); }, steps_max));
    REQUIRE(parse_responses(second->received(), {}).at(0).status == 200);

    auto third = fixture.client();
    responses = fixture.exchange(*third, "GET /varz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1);
    REQUIRE(responses[0].headers.at("connection") == "keep-alive");
    fixture.world.run_for(Duration::seconds(1));
    REQUIRE_FALSE(third->eof());
    fixture.world.run_for(Duration::seconds(1));
    REQUIRE(fixture.server->connection_count() == 1);
}

// Goal: the idle bound holds for idle keep-alive connections and for half-sent requests.
// Method: advance simulated time to just before and just after http_idle_timeout.
TEST_CASE("http server: connections without progress close after the idle timeout",
          "[monitor][http_server]") {
    Fixture fixture;
    auto idle = fixture.client();
    fixture.exchange(*idle, "GET /varz HTTP/1.1\r\n\r\n", 1);
    auto partial = fixture.client();
    partial->write("GET /varz HTTP/1.1\r\nHost:");
    const Duration almost{http_idle_timeout.ns - Duration::milliseconds(100).ns};
    fixture.world.run_for(almost);
    REQUIRE_FALSE(idle->eof());
    REQUIRE_FALSE(partial->eof());
    fixture.world.run_for(Duration::seconds(1));
    REQUIRE(idle->eof());
    REQUIRE(partial->eof());
    REQUIRE(parse_responses(partial->received(), {}).empty());
    fixture.world.run_for(Duration::seconds(1));
    REQUIRE(fixture.server->connection_count() == 0);
}

TEST_CASE("http server: connections beyond the bound are closed on accept",
          "[monitor][http_server]") {
    Fixture fixture;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (std::size_t index = 0; index < http_connections_max; ++index) {
        clients.push_back(fixture.client());
    }
    REQUIRE(fixture.world.run_until(
        [&] { return fixture.server->connection_count() == http_connections_max; }, steps_max));
    auto extra = fixture.client();
    REQUIRE(fixture.world.run_until([&] { return extra->eof(); }, steps_max));
    REQUIRE(fixture.server->stats().connections_rejected == 1);
    // The others still work.
    REQUIRE(fixture.exchange(*clients.back(), "GET /varz HTTP/1.1\r\n\r\n", 1)[0].status == 200);
}

TEST_CASE("http server: destroying the server closes its connections", "[monitor][http_server]") {
    Fixture fixture;
    auto raw = fixture.client();
    fixture.exchange(*raw, "GET /varz HTTP/1.1\r\n\r\n", 1);
    raw->write("GET /varz HTTP/1.1\r\n");  // A request in progress.
    fixture.world.run_for(Duration::milliseconds(10));
    fixture.server.reset();
    REQUIRE(fixture.world.run_until([&] { return raw->eof(); }, steps_max));
    fixture.world.run_for(http_idle_timeout + Duration::seconds(1));  // No timer fires.
}
