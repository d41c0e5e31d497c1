// Headers, URL parsing, the server pool and NUIDs: the client's pure pieces, without I/O.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "engine/client/errc.h"
#include "engine/client/headers.h"
#include "engine/client/nuid.h"
#include "engine/client/server_pool.h"

using herald::client::Errc;
using herald::client::Headers;
using herald::client::Nuid;
using herald::client::parse_server_url;
using herald::client::ServerPool;

TEST_CASE("headers: encode and decode round trip, status and description included", "[client][headers]") {
    Headers headers;
    headers.set_status("100", "Idle Heartbeat");
    headers.add("Nats-Last-Consumer", "5");
    headers.add("K", "v1");
    headers.add("K", "v2");
    std::string block;
    headers.encode(block);
    REQUIRE(block == "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 5\r\nK: v1\r\nK: v2\r\n\r\n");
    REQUIRE(block.size() == headers.encoded_size());
    auto decoded = Headers::decode(block);
    REQUIRE(decoded);
    REQUIRE(*decoded == headers);
    headers.set("K", "only");
    REQUIRE(headers.values("K") == std::vector<std::string_view>{"only"});
    REQUIRE(headers.erase("K") == 1);
    REQUIRE(!headers.get("K"));
}

TEST_CASE("headers: the no-responders block and an empty block decode", "[client][headers]") {
    auto status = Headers::decode("NATS/1.0 503\r\n\r\n");
    REQUIRE(status);
    REQUIRE(status->status() == "503");
    REQUIRE(status->description().empty());
    REQUIRE(status->fields().empty());
    auto empty = Headers::decode("NATS/1.0\r\n\r\n");
    REQUIRE(empty);
    REQUIRE(empty->empty());
    std::string block;
    Headers{}.encode(block);
    REQUIRE(block == "NATS/1.0\r\n\r\n");
    auto lenient = Headers::decode("NATS/1.0\nKey:   spaced  \n\n");
    REQUIRE(lenient);
    REQUIRE(lenient->get("Key") == "spaced");
    REQUIRE(Headers::decode("HTTP/1.1\r\n\r\n").error() == Errc::protocol_error);
    REQUIRE(Headers::decode("NATS/1.0\r\nno colon\r\n\r\n").error() == Errc::protocol_error);
}

TEST_CASE("server url: schemes, credentials, default port and IPv6", "[client][url]") {
    auto plain = parse_server_url("nats://127.0.0.1:4333");
    REQUIRE(plain);
    REQUIRE(plain->address() == "127.0.0.1:4333");
    auto bare = parse_server_url("localhost");
    REQUIRE(bare);
    REQUIRE(bare->address() == "localhost:4222");
    auto user = parse_server_url("nats://u:p@h:1");
    REQUIRE(user);
    REQUIRE(user->user == "u");
    REQUIRE(user->password == "p");
    auto token = parse_server_url("nats://tok@h");
    REQUIRE(token);
    REQUIRE(token->token == "tok");
    auto v6 = parse_server_url("nats://[::1]:4222");
    REQUIRE(v6);
    REQUIRE(v6->address() == "[::1]:4222");
    REQUIRE(!parse_server_url("tls://h:1"));
    REQUIRE(!parse_server_url("nats://h:notaport"));
    REQUIRE(!parse_server_url("nats://h:0"));
    REQUIRE(!parse_server_url(""));
}

TEST_CASE("server pool: comma lists, duplicates, discovery and dropping after max attempts",
          "[client][pool]") {
    ServerPool pool;
    REQUIRE(pool.add_configured({"nats://a:1,nats://b:2", "a:1"}));
    REQUIRE(pool.size() == 2);
    REQUIRE(!pool.add_discovered("b:2"));
    REQUIRE(pool.add_discovered("c:3"));
    REQUIRE(pool.entries().back().discovered);
    REQUIRE(pool.current().url.address() == "a:1");
    pool.current().failures = 2;
    REQUIRE(pool.rotate(2));  // a:1 failed twice with max 2: dropped
    REQUIRE(pool.size() == 2);
    REQUIRE(pool.current().url.address() == "b:2");
    REQUIRE(pool.rotate(-1));
    REQUIRE(pool.entries().back().url.address() == "b:2");
}

TEST_CASE("nuid: 22 base62 characters, unique, repeatable from the seed", "[client][nuid]") {
    herald::io::SplitMix64 random_a(7);
    herald::io::SplitMix64 random_b(7);
    Nuid a(random_a);
    Nuid b(random_b);
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        const std::string id = a.next();
        REQUIRE(id.size() == Nuid::size);
        REQUIRE(id == b.next());
        REQUIRE(seen.insert(id).second);
    }
}
