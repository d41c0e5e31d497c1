// Tests of the sans-I/O HTTP request parser: fields, limits, errors, and that splitting the input
// at any byte (or into random chunks) gives the same requests as feeding it whole.
#include "engine/monitor/http_parser.h"

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include <string>
#include <vector>

#include "engine/monitor/http_server.h"

using herald::monitor::http_date;
using herald::monitor::http_headers_max;
using herald::monitor::http_query_params_max;
using herald::monitor::http_request_size_max;
using herald::monitor::HttpMethod;
using herald::monitor::HttpRequest;
using herald::monitor::HttpRequestParser;
using herald::monitor::ParseState;
using herald::monitor::percent_decode;

namespace {

// What one request parse produced, comparable across different splits.
struct Parsed {
    bool ok = false;
    int error_status = 0;
    std::string method;
    std::string target;
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    int version_minor = 0;
    bool keep_alive = false;
    bool operator==(const Parsed&) const = default;
};

Parsed snapshot(const HttpRequestParser& parser) {
    Parsed parsed;
    if (parser.state() == ParseState::error) {
        parsed.error_status = parser.error_status();
        return parsed;
    }
    const HttpRequest& request = parser.request();
    parsed.ok = true;
    parsed.method = request.method;
    parsed.target = request.target;
    parsed.path = request.path;
    parsed.query = request.query;
    parsed.headers = request.headers;
    parsed.version_minor = request.version_minor;
    parsed.keep_alive = request.keep_alive;
    return parsed;
}

// Feeds the chunks in order; collects every request (and a final error) like a connection would.
std::vector<Parsed> parse_chunks(const std::vector<std::string>& chunks) {
    std::vector<Parsed> results;
    HttpRequestParser parser;
    for (const std::string& chunk : chunks) {
        std::string_view rest = chunk;
        while (!rest.empty()) {
            const HttpRequestParser::Outcome outcome = parser.feed(rest);
            REQUIRE(outcome.consumed <= rest.size());
            rest.remove_prefix(outcome.consumed);
            if (outcome.state == ParseState::need_more) {
                REQUIRE(rest.empty());
                continue;
            }
            results.push_back(snapshot(parser));
            if (outcome.state == ParseState::error) return results;
            parser.reset();
        }
    }
    return results;
}

std::vector<Parsed> parse_whole(const std::string& input) { return parse_chunks({input}); }

Parsed parse_one(const std::string& input) {
    const std::vector<Parsed> results = parse_whole(input);
    REQUIRE(results.size() == 1);
    return results.front();
}

const std::vector<std::string> sample_inputs = {
    "GET /varz HTTP/1.1\r\nHost: localhost:8222\r\n\r\n",
    "GET /connz?subs=1&limit=2 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n",
    "GET /varz HTTP/1.1\r\n\r\nHEAD /healthz?js-enabled-only=true HTTP/1.1\r\n\r\n",
    "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
    "POST /varz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /subsz HTTP/1.1\r\n\r\n",
    "\r\nGET /x%20y?a=b+c&d=%41 HTTP/1.1\nHost:  spaced  \n\n",
    "GET /varz HTTP/1.1\r\n Folded: header\r\n\r\n",
    "GET /varz HTTP/2.0\r\n\r\n",
};

}  // namespace

TEST_CASE("http parser: a GET with query parameters", "[monitor][http_parser]") {
    const Parsed parsed =
        parse_one("GET /connz?subs=1&limit=2&sort=bytes_to HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(parsed.ok);
    REQUIRE(parsed.method == "GET");
    REQUIRE(parsed.path == "/connz");
    REQUIRE(parsed.target == "/connz?subs=1&limit=2&sort=bytes_to");
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    REQUIRE(parsed.query == Pairs{{"subs", "1"}, {"limit", "2"}, {"sort", "bytes_to"}});
    REQUIRE(parsed.headers == Pairs{{"host", "x"}});
    REQUIRE(parsed.version_minor == 1);
    REQUIRE(parsed.keep_alive);
}

TEST_CASE("http parser: request accessors find query values and headers",
          "[monitor][http_parser]") {
    HttpRequestParser parser;
    const std::string input = "HEAD /subsz?subs&test=foo.bar HTTP/1.1\r\nX-Thing: 1\r\n\r\n";
    REQUIRE(parser.feed(input).state == ParseState::complete);
    const HttpRequest& request = parser.request();
    REQUIRE(request.method_kind == HttpMethod::head);
    REQUIRE(request.has_query("subs"));
    REQUIRE(request.query_value("subs") == std::optional<std::string_view>(""));
    REQUIRE(request.query_value("test") == std::optional<std::string_view>("foo.bar"));
    REQUIRE_FALSE(request.has_query("limit"));
    REQUIRE(request.header("x-thing") == std::optional<std::string_view>("1"));
    REQUIRE_FALSE(request.header("host"));
}

TEST_CASE("http parser: percent decoding of path and query, bad query pairs dropped",
          "[monitor][http_parser]") {
    const Parsed parsed = parse_one("GET /a%2Fb?x=1+2&bad=%zz&y=%41%62 HTTP/1.1\r\n\r\n");
    REQUIRE(parsed.ok);
    REQUIRE(parsed.path == "/a/b");
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    REQUIRE(parsed.query == Pairs{{"x", "1 2"}, {"y", "Ab"}});
    REQUIRE(parse_one("GET /a%2 HTTP/1.1\r\n\r\n").error_status == 400);
    REQUIRE(percent_decode("%", false) == std::nullopt);
    REQUIRE(percent_decode("a+b", false) == std::optional<std::string>("a+b"));
    REQUIRE(percent_decode("a+b", true) == std::optional<std::string>("a b"));
}

TEST_CASE("http parser: absolute-form targets keep only path and query", "[monitor][http_parser]") {
    const Parsed parsed = parse_one("GET http://127.0.0.1:8222/varz?x=1 HTTP/1.1\r\n\r\n");
    REQUIRE(parsed.ok);
    REQUIRE(parsed.path == "/varz");
    REQUIRE(parsed.query.size() == 1);
    REQUIRE(parse_one("GET http://host HTTP/1.1\r\n\r\n").path == "/");
    REQUIRE(parse_one("GET varz HTTP/1.1\r\n\r\n").error_status == 400);
}

TEST_CASE("http parser: keep-alive follows the version and the Connection header",
          "[monitor][http_parser]") {
    REQUIRE(parse_one("GET / HTTP/1.1\r\n\r\n").keep_alive);
    REQUIRE_FALSE(parse_one("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
    REQUIRE_FALSE(parse_one("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
    REQUIRE_FALSE(parse_one("GET / HTTP/1.0\r\n\r\n").keep_alive);
    REQUIRE(parse_one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
}

TEST_CASE("http parser: malformed requests are 400, other versions 505",
          "[monitor][http_parser]") {
    REQUIRE(parse_one("GET /varz\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET  /varz HTTP/1.1\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("G(T /varz HTTP/1.1\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET /varz HTTX/1.1\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET /varz HTTP/2.0\r\n\r\n").error_status == 505);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nNoColon\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").error_status == 400);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .error_status == 400);
    REQUIRE(parse_one("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").error_status == 400);
}

TEST_CASE("http parser: a body is skipped, up to its bound", "[monitor][http_parser]") {
    const std::vector<Parsed> results =
        parse_whole("GET /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /b HTTP/1.1\r\n\r\n");
    REQUIRE(results.size() == 2);
    REQUIRE(results[0].path == "/a");
    REQUIRE(results[1].path == "/b");
    const std::string too_big = "GET / HTTP/1.1\r\nContent-Length: " +
                                std::to_string(herald::monitor::http_body_size_max + 1) +
                                "\r\n\r\n";
    REQUIRE(parse_one(too_big).error_status == 413);
}

// Goal: the size bound is exact. Method: pad a header so that the request is exactly at the
// bound, then one byte over it.
TEST_CASE("http parser: request size bound is exact, 431 beyond", "[monitor][http_parser]") {
    const std::string head = "GET / HTTP/1.1\r\nX-Pad: ";
    const std::string tail = "\r\n\r\n";
    const std::string at_limit =
        head + std::string(http_request_size_max - head.size() - tail.size(), 'p') + tail;
    REQUIRE(at_limit.size() == http_request_size_max);
    REQUIRE(parse_one(at_limit).ok);
    const std::string over = head + std::string(http_request_size_max, 'p') + tail;
    REQUIRE(parse_one(over).error_status == 431);
    // No newline at all: the bound still holds without waiting for the end of the line.
    HttpRequestParser parser;
    const std::string endless(http_request_size_max + 1, 'G');
    REQUIRE(parser.feed(endless).state == ParseState::error);
    REQUIRE(parser.error_status() == 431);
    // Too many headers.
    std::string many = "GET / HTTP/1.1\r\n";
    for (std::size_t index = 0; index <= http_headers_max; ++index) many += "A: b\r\n";
    many += "\r\n";
    REQUIRE(many.size() < http_request_size_max);
    REQUIRE(parse_one(many).error_status == 431);
    std::string params = "GET /?";
    for (std::size_t index = 0; index <= http_query_params_max; ++index) params += "a=1&";
    params += " HTTP/1.1\r\n\r\n";
    REQUIRE(parse_one(params).error_status == 400);
}

// Goal: a split anywhere gives the same requests (the bugs live on split buffers). Method: for
// each sample, split at every byte into two chunks, and also feed one byte at a time.
TEST_CASE("http parser: splitting the input at every byte gives the same requests",
          "[monitor][http_parser]") {
    for (const std::string& input : sample_inputs) {
        const std::vector<Parsed> whole = parse_whole(input);
        REQUIRE_FALSE(whole.empty());
        for (std::size_t split = 0; split <= input.size(); ++split) {
            INFO("input " << input << " split at " << split);
            REQUIRE(parse_chunks({input.substr(0, split), input.substr(split)}) == whole);
        }
        std::vector<std::string> bytes;
        for (char c : input) bytes.emplace_back(1, c);
        REQUIRE(parse_chunks(bytes) == whole);
    }
}

// Goal: the same with generated requests and random chunkings. Method: rapidcheck builds a
// pipelined list of GETs with random paths, query pairs and headers, then random chunk sizes.
TEST_CASE("http parser: random requests in random chunks parse like the whole input",
          "[monitor][http_parser][property]") {
    rc::prop("chunked == whole", [] {
        const auto token = rc::gen::container<std::string>(
            *rc::gen::inRange<std::size_t>(1, 8), rc::gen::elementOf(std::string("abcXYZ019-_.")));
        const std::size_t request_count = *rc::gen::inRange<std::size_t>(1, 4);
        std::string input;
        std::vector<std::string> paths;
        for (std::size_t index = 0; index < request_count; ++index) {
            const std::string path = "/" + *token;
            paths.push_back(path);
            input += "GET " + path;
            const std::size_t params = *rc::gen::inRange<std::size_t>(0, 4);
            for (std::size_t param = 0; param < params; ++param) {
                input += (param == 0 ? "?" : "&") + *token + "=" + *token;
            }
            input += " HTTP/1.1\r\n";
            const std::size_t headers = *rc::gen::inRange<std::size_t>(0, 4);
            for (std::size_t header = 0; header < headers; ++header) {
                input += *token + ": " + *token + "\r\n";
            }
            input += "\r\n";
        }
        std::vector<std::string> chunks;
        std::size_t position = 0;
        while (position < input.size()) {
            const std::size_t size = *rc::gen::inRange<std::size_t>(1, 20);
            chunks.push_back(input.substr(position, size));
            position += size;
        }
        const std::vector<Parsed> whole = parse_whole(input);
        RC_ASSERT(whole.size() == request_count);
        for (std::size_t index = 0; index < request_count; ++index) {
            RC_ASSERT(whole[index].ok);
            RC_ASSERT(whole[index].path == paths[index]);
        }
        RC_ASSERT(parse_chunks(chunks) == whole);
    });
}

TEST_CASE("http date: IMF-fixdate of Unix times", "[monitor][http_server]") {
    constexpr std::int64_t second_ns = 1'000'000'000;
    REQUIRE(http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    REQUIRE(http_date(784'111'777 * second_ns) == "Sun, 06 Nov 1994 08:49:37 GMT");
    REQUIRE(http_date(1'709'164'800 * second_ns + 999) == "Thu, 29 Feb 2024 00:00:00 GMT");
    REQUIRE(http_date(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
}
