// Durability across a restart on the simulated disk: a file stream keeps its config, created
// time, messages and sequence; a memory stream and a deleted stream do not come back.
#include <catch2/catch.hpp>

#include <map>

#include "engine/base/assert.h"
#include "engine/jetstream/api_json.h"
#include "sim/faults.h"
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

TEST_CASE("jetstream restart: a client is served only once the file streams are recovered",
          "[jetstream][restart][sim]") {
    // herald-server used to greet clients while streams were still being read back, so a publish
    // sent at once got no responders (nats-server enables JetStream before it accepts clients).
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    for (int i = 0; i < 200; ++i) f.publish("orders.a", std::string(4000, 'x'));
    f.restart_server(false);  // connect() waits for the INFO only
    CHECK(f.server->jetstream_ready());
    CHECK(f.publish("orders.a", "x") == json{{"stream", "ORDERS"}, {"seq", 201}});
}

TEST_CASE("jetstream restart: after a power loss every acknowledged message is still there",
          "[jetstream][restart][sim]") {
    // Goal: PubAcks are sent only for durable messages. Method: pipeline publishes, cut the power
    // (unsynced writes lost) after some acks, restart, and load every acknowledged sequence.
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        JetStreamFixture f(seed);
        f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
        constexpr int count = 200;
        for (int i = 0; i < count; ++i) {
            const std::string payload = "payload-" + std::to_string(i);
            f.client->send("PUB orders.a _INBOX.t.p" + std::to_string(i) + " " + std::to_string(payload.size()) +
                           "\r\n" + payload + "\r\n");
        }
        const auto acks = [&] {
            std::map<int, std::uint64_t> out;  // publish index -> acknowledged seq
            for (const auto& message : f.client->messages()) {
                if (!message.subject.starts_with("_INBOX.t.p")) continue;
                const json ack = json::parse(message.payload, nullptr, false);
                if (!ack.is_object() || !ack.contains("seq") || ack.contains("error")) continue;
                out[std::stoi(message.subject.substr(10))] = ack["seq"].get<std::uint64_t>();
            }
            return out;
        };
        REQUIRE(f.wait([&] { return acks().size() >= 60; }));
        const std::map<int, std::uint64_t> acknowledged = acks();
        f.world.crash_node(f.node->index(), herald::sim::CrashOptions{.disk = herald::sim::DiskCrash::lose_unsynced,
                                                                      .peers = herald::sim::PeerView::reset});
        f.clients.clear();
        f.client = nullptr;
        f.server.reset();
        f.world.restart_node(f.node->index());
        f.start_server();
        f.client = &f.connect();
        INFO("seed " << seed << ", acknowledged " << acknowledged.size());
        const json state = f.request("$JS.API.STREAM.INFO.ORDERS")["state"];
        CHECK(state["last_seq"].get<std::uint64_t>() >= acknowledged.rbegin()->second);
        for (const auto& [index, seq] : acknowledged) {
            const json message =
                f.request("$JS.API.STREAM.MSG.GET.ORDERS", json{{"seq", seq}}.dump())["message"];
            CHECK(message["data"] == herald::jetstream::base64_encode("payload-" + std::to_string(index)));
        }
    }
}
