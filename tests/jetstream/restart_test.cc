// Durability across a restart on the simulated disk: a file stream keeps its config, created
// time, messages and sequence; a memory stream and a deleted stream do not come back.
#include <catch2/catch.hpp>

#include "engine/base/assert.h"
#include "tests/jetstream/jetstream_fixture.h"

using herald::testing::header_block;
using herald::testing::JetStreamFixture;
using nlohmann::json;

TEST_CASE("jetstream restart: a file stream survives a server restart on the same node",
          "[jetstream][restart][sim]") {
    JetStreamFixture f;
    const json created = f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}, {"max_msgs", 100}});
    f.create_stream(json{{"name", "MEM"}, {"storage", "memory"}});
    f.create_stream(json{{"name", "GONE"}});
    f.publish("orders.a", "one");
    f.publish("orders.b", "two", header_block({"Nats-Msg-Id: m2"}));
    f.publish("MEM", "x");
    f.request("$JS.API.STREAM.DELETE.GONE");
    const json before = f.request("$JS.API.STREAM.INFO.ORDERS");

    f.restart_server();

    const json after = f.request("$JS.API.STREAM.INFO.ORDERS");
    CHECK(after["config"] == before["config"]);
    CHECK(after["created"] == created["created"]);
    CHECK(after["state"] == before["state"]);
    const json message = f.request("$JS.API.STREAM.MSG.GET.ORDERS", R"({"seq":2})")["message"];
    CHECK(message["subject"] == "orders.b");
    CHECK(message["data"] == "dHdv");
    // The Nats-Msg-Id window and the last msg id are rebuilt from the stored messages.
    CHECK(f.publish_raw("orders.b", "two", header_block({"Nats-Msg-Id: m2"})).payload ==
          R"({"stream":"ORDERS", "seq":2,"duplicate": true})");
    CHECK(f.publish("orders.a", "three", header_block({"Nats-Expected-Last-Msg-Id: m2"})) ==
          json{{"stream", "ORDERS"}, {"seq", 3}});
    CHECK(f.request("$JS.API.STREAM.NAMES")["streams"] == json{"ORDERS"});
    CHECK(f.request("$JS.API.STREAM.INFO.MEM")["error"]["err_code"] == 10059);
}

TEST_CASE("jetstream restart: requests sent while streams recover are answered once they are back",
          "[jetstream][restart][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    for (int i = 0; i < 20; ++i) f.publish("orders.a", std::string(1000, 'x'));
    f.restart_server(false);
    MAYBE(f.server->jetstream_ready());  // Usually still recovering: the disk is slower than the LAN.
    const json info = f.request("$JS.API.STREAM.INFO.ORDERS");
    CHECK(f.server->jetstream_ready());
    CHECK(info["state"]["messages"] == 20);
    CHECK(f.publish("orders.a", "x") == json{{"stream", "ORDERS"}, {"seq", 21}});
}
