// Publishing into streams on a simulated node: PubAcks as nats-server writes them, Nats-Msg-Id
// dedup within duplicate_window, the expected-* headers, Nats-Rollup, size and discard-new limits,
// sealed streams and interest retention without consumers (jetstream-api.md §5), each with the
// exact PubAck JSON.
#include <catch2/catch.hpp>
#include <tuple>
#include <vector>

#include "engine/jetstream/api_json.h"
#include "tests/jetstream/jetstream_fixture.h"

using herald::Duration;
using herald::testing::error_of;
using herald::testing::header_block;
using herald::testing::JetStreamFixture;
using nlohmann::json;

namespace {

json pub_error(int code, int err_code, const std::string& description, const std::string& stream = "ORDERS") {
    return json{{"error", error_of(code, err_code, description)}, {"stream", stream}, {"seq", 0}};
}

json ack(std::uint64_t seq, const std::string& stream = "ORDERS") { return json{{"stream", stream}, {"seq", seq}}; }

json state_of(JetStreamFixture& f, const std::string& stream = "ORDERS") {
    return f.request("$JS.API.STREAM.INFO." + stream)["state"];
}

}  // namespace

TEST_CASE("jetstream publish: a stored message is acknowledged with nats-server's PubAck bytes",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    CHECK(f.publish_raw("orders.a", "hello").payload == R"({"stream":"ORDERS", "seq":1})");
    CHECK(f.publish_raw("orders.b", "").payload == R"({"stream":"ORDERS", "seq":2})");
    const json state = state_of(f);
    CHECK(state["messages"] == 2);
    CHECK(state["last_seq"] == 2);
    // No stream on the subject: the publisher's request gets no-responders.
    CHECK(f.publish_raw("other", "x").headers == "NATS/1.0 503\r\n\r\n");
}

TEST_CASE("jetstream publish: file streams are durable unless sync_interval makes them lazy, and STREAM.INFO says so",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "DURABLE"}, {"subjects", {"d.*"}}});
    const herald::jetstream::Stream* durable = f.server->jetstream()->find_stream("$G", "DURABLE");
    REQUIRE(durable != nullptr);
    CHECK(durable->store().durability().mode == herald::store::SyncMode::always);
    CHECK(durable->store().durability().group_commit);
    CHECK(f.request("$JS.API.STREAM.INFO.DURABLE")["durability"] == json{{"sync", "always"}, {"group_commit", true}});
    f.sync_interval = herald::Duration{50'000'000};
    f.restart_server();
    f.create_stream(json{{"name", "LAZY"}, {"subjects", {"l.*"}}});
    const herald::jetstream::Stream* lazy = f.server->jetstream()->find_stream("$G", "LAZY");
    REQUIRE(lazy != nullptr);
    CHECK(lazy->store().durability().mode == herald::store::SyncMode::interval);
    CHECK(lazy->store().durability().sync_interval.ns == 50'000'000);
    CHECK(f.request("$JS.API.STREAM.INFO.LAZY")["durability"] ==
          json{{"sync", "interval"}, {"sync_interval", 50'000'000}});
    // A stream made before keeps nothing of its mode on disk: the server's setting rules.
    CHECK(f.request("$JS.API.STREAM.INFO.DURABLE")["durability"] ==
          json{{"sync", "interval"}, {"sync_interval", 50'000'000}});
    // Memory streams are not affected.
    f.create_stream(json{{"name", "MEM"}, {"subjects", {"m.*"}}, {"storage", "memory"}});
    const herald::jetstream::Stream* memory = f.server->jetstream()->find_stream("$G", "MEM");
    REQUIRE(memory != nullptr);
    CHECK(memory->store().durability().mode == herald::store::SyncMode::memory);
    CHECK(f.request("$JS.API.STREAM.INFO.MEM")["durability"] == json{{"sync", "memory"}});
}

TEST_CASE("jetstream publish: a client's Nats-Request-Info header is not stored", "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    f.publish("orders.a", "x", header_block({"Nats-Request-Info: {}", "Keep: me"}));
    f.publish("orders.a", "y", header_block({"Nats-Request-Info: {}"}));
    const auto get = [&](int seq) {
        return f.request("$JS.API.STREAM.MSG.GET.ORDERS", json{{"seq", seq}}.dump())["message"];
    };
    CHECK(get(1)["hdrs"] == herald::jetstream::base64_encode("NATS/1.0\r\nKeep: me\r\n\r\n"));
    CHECK(!get(2).contains("hdrs"));
}

TEST_CASE("jetstream publish: Nats-Msg-Id is deduplicated within duplicate_window", "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}, {"duplicate_window", 1'000'000'000}});
    const std::string m1 = header_block({"Nats-Msg-Id: m1"});
    CHECK(f.publish("orders.a", "one", m1) == ack(1));
    CHECK(f.publish_raw("orders.a", "one", m1).payload == R"({"stream":"ORDERS", "seq":1,"duplicate": true})");
    CHECK(f.publish("orders.a", "two", header_block({"Nats-Msg-Id: m2"})) == ack(2));
    CHECK(state_of(f)["messages"] == 2);
    f.world.run_for(Duration::seconds(2));
    CHECK(f.publish("orders.a", "one", m1) == ack(3));  // The window has passed.
}

TEST_CASE("jetstream publish: expected stream, last sequence, last subject sequence and last msg id",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Stream: OTHER"})) ==
          pub_error(400, 10060, "expected stream does not match"));
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Stream: ORDERS"})) == ack(1));

    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Last-Sequence: 5"})) ==
          pub_error(400, 10071, "wrong last sequence: 1"));
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Last-Sequence: 1"})) == ack(2));

    CHECK(f.publish("orders.b", "x", header_block({"Nats-Expected-Last-Subject-Sequence: 0"})) == ack(3));
    CHECK(f.publish("orders.b", "x", header_block({"Nats-Expected-Last-Subject-Sequence: 0"})) ==
          pub_error(400, 10071, "wrong last sequence: 3"));
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Last-Subject-Sequence: 2"})) == ack(4));

    CHECK(f.publish("orders.a", "x", header_block({"Nats-Msg-Id: id5"})) == ack(5));
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Last-Msg-Id: nope"})) ==
          pub_error(400, 10070, "wrong last msg ID: id5"));
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Expected-Last-Msg-Id: id5", "Nats-Msg-Id: id6"})) == ack(6));
    // A failed check stores nothing.
    CHECK(state_of(f)["messages"] == 6);
}

TEST_CASE("jetstream publish: Nats-Rollup purges the subject or the stream, only when allowed",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    CHECK(f.publish("orders.a", "x", header_block({"Nats-Rollup: sub"})) ==
          pub_error(500, 10111, "rollup not permitted"));

    f.create_stream(json{{"name", "R"}, {"subjects", {"r.*"}}, {"allow_rollup_hdrs", true}});
    for (int i = 0; i < 3; ++i) f.publish("r.a", "a");
    f.publish("r.b", "b");
    CHECK(f.publish("r.a", "latest", header_block({"Nats-Rollup: sub"})) == ack(5, "R"));
    json state = state_of(f, "R");
    CHECK(state["messages"] == 2);  // r.b and the rollup.
    CHECK(f.request("$JS.API.STREAM.MSG.GET.R", R"({"seq":1})")["error"]["err_code"] == 10037);
    CHECK(f.publish("r.b", "all", header_block({"Nats-Rollup: all"})) == ack(6, "R"));
    state = state_of(f, "R");
    CHECK(state["messages"] == 1);
    CHECK(state["first_seq"] == 6);
    // Any other value: nats-server 2.9.10 drops the message without a reply.
    bool replied = true;
    f.publish_raw("r.b", "x", header_block({"Nats-Rollup: everything"}), &replied);
    CHECK(!replied);
    CHECK(state_of(f, "R")["last_seq"] == 6);
}

TEST_CASE("jetstream publish: max_msg_size and discard new limits answer with the store error",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "SMALL"}, {"max_msg_size", 4}});
    CHECK(f.publish("SMALL", "1234") == ack(1, "SMALL"));
    CHECK(f.publish("SMALL", "12345") == pub_error(400, 10054, "message size exceeds maximum allowed", "SMALL"));

    f.create_stream(json{{"name", "FULL"}, {"max_msgs", 2}, {"discard", "new"}});
    CHECK(f.publish("FULL", "a") == ack(1, "FULL"));
    CHECK(f.publish("FULL", "b") == ack(2, "FULL"));
    CHECK(f.publish("FULL", "c") == pub_error(503, 10077, "maximum messages exceeded", "FULL"));

    // How bytes are counted is the store's (nats-server checks state bytes plus the raw size);
    // either way a message far past max_bytes is refused with 503/10077 and the store's text.
    f.create_stream(json{{"name", "BYTES"}, {"max_bytes", 1000}, {"discard", "new"}});
    CHECK(f.publish("BYTES", "a") == ack(1, "BYTES"));
    const json refused = f.publish("BYTES", std::string(2000, 'x'));
    CHECK(refused["error"]["code"] == 503);
    CHECK(refused["error"]["err_code"] == 10077);
    CHECK(refused["seq"] == 0);

    f.create_stream(json{{"name", "PER"}, {"subjects", {"per.*"}}, {"max_msgs_per_subject", 1}, {"discard", "new"},
                         {"discard_new_per_subject", true}});
    CHECK(f.publish("per.a", "a") == ack(1, "PER"));
    CHECK(f.publish("per.a", "b") == pub_error(503, 10077, "maximum messages per subject exceeded", "PER"));
    CHECK(f.publish("per.b", "b") == ack(2, "PER"));
}

TEST_CASE("jetstream publish: discard old and max_msgs_per_subject drop the oldest", "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "OLD"}, {"subjects", {"old.*"}}, {"max_msgs", 3}});
    for (int i = 1; i <= 5; ++i) CHECK(f.publish("old.a", "x") == ack(static_cast<std::uint64_t>(i), "OLD"));
    json state = state_of(f, "OLD");
    CHECK(state["messages"] == 3);
    CHECK(state["first_seq"] == 3);

    f.create_stream(json{{"name", "KV"}, {"subjects", {"kv.*"}}, {"max_msgs_per_subject", 2}});
    for (int i = 0; i < 3; ++i) f.publish("kv.a", "a");
    f.publish("kv.b", "b");
    state = f.request("$JS.API.STREAM.INFO.KV", R"({"subjects_filter":">"})")["state"];
    CHECK(state["subjects"] == json{{"kv.a", 2}, {"kv.b", 1}});
    CHECK(state["first_seq"] == 2);
}

TEST_CASE("jetstream publish: a sealed stream refuses writes, deletes and purges", "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.*"}}});
    f.publish("orders.a", "x");
    json config = f.request("$JS.API.STREAM.INFO.ORDERS")["config"];
    config["sealed"] = true;
    const json updated = f.request("$JS.API.STREAM.UPDATE.ORDERS", config.dump());
    CHECK(updated["config"]["sealed"] == true);
    CHECK(updated["config"]["deny_delete"] == true);
    CHECK(updated["config"]["deny_purge"] == true);
    CHECK(updated["config"]["discard"] == "new");
    CHECK(f.publish("orders.a", "x") == pub_error(400, 10109, "invalid operation on sealed stream"));
    CHECK(f.request("$JS.API.STREAM.MSG.DELETE.ORDERS", R"({"seq":1})")["error"] ==
          error_of(400, 10109, "invalid operation on sealed stream"));
    CHECK(f.request("$JS.API.STREAM.PURGE.ORDERS")["error"]["err_code"] == 10109);
    config["sealed"] = false;
    CHECK(f.request("$JS.API.STREAM.UPDATE.ORDERS", config.dump())["error"] ==
          error_of(500, 10052, "stream configuration update can not unseal a sealed stream"));
    CHECK(state_of(f)["messages"] == 1);
}

TEST_CASE("jetstream publish: interest retention keeps nothing while no consumer exists",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "I"}, {"retention", "interest"}});
    CHECK(f.publish("I", "x") == ack(1, "I"));
    CHECK(f.publish("I", "y") == ack(2, "I"));
    const json state = state_of(f, "I");
    CHECK(state["messages"] == 0);
    CHECK(state["last_seq"] == 2);
}

TEST_CASE("jetstream publish: interest retention skips a message nobody wants, outside the limits",
          "[jetstream][publish][sim]") {
    // Goal: nats-server processJetStreamMsg with no interest: SkipMsg, then the PubAck with the
    // sequence; nothing is stored, so max_msgs neither pushes out the kept message (discard old)
    // nor refuses the publish (discard new). Method: max_msgs 1, a consumer on I.a only; publish
    // I.a then I.b; the stream keeps I.a and has used seq 2, also after a restart.
    const std::string discard = GENERATE("old", "new");
    INFO(discard);
    JetStreamFixture f;
    f.create_stream(json{{"name", "I"},
                         {"subjects", {"I.*"}},
                         {"retention", "interest"},
                         {"max_msgs", 1},
                         {"discard", discard}});
    const json consumer = f.request(
        "$JS.API.CONSUMER.DURABLE.CREATE.I.C",
        json{{"stream_name", "I"},
             {"config", {{"durable_name", "C"}, {"filter_subject", "I.a"}, {"ack_policy", "explicit"}}}}
            .dump());
    REQUIRE_FALSE(consumer.contains("error"));
    CHECK(f.publish("I.a", "x") == ack(1, "I"));
    CHECK(f.publish("I.b", "y") == ack(2, "I"));
    const std::string z1 = header_block({"Nats-Msg-Id: z1"});
    CHECK(f.publish("I.b", "z", z1) == ack(3, "I"));
    const json state = state_of(f, "I");
    CHECK(state["messages"] == 1);
    CHECK(state["first_seq"] == 1);
    CHECK(state["last_seq"] == 3);
    CHECK(state.value("num_deleted", 0) == 2);
    CHECK(f.request("$JS.API.STREAM.MSG.GET.I", R"({"seq":1})")["message"]["data"] == "eA==");
    // The skipped message's id is remembered (nats-server storeMsgIdLocked).
    CHECK(f.publish_raw("I.b", "z", z1).payload == R"({"stream":"I", "seq":3,"duplicate": true})");
    f.restart_server();
    CHECK(state_of(f, "I") == state);
}

TEST_CASE("jetstream publish: no_ack streams store without answering", "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "Q"}, {"no_ack", true}});
    bool replied = true;
    f.publish_raw("Q", "x", "", &replied);
    CHECK(!replied);
    CHECK(state_of(f, "Q")["messages"] == 1);
}

TEST_CASE("jetstream publish: a message the store failed to make durable is not republished",
          "[jetstream][publish][sim]") {
    // The copy used to go out as soon as the message was queued: with the fsync failing, the
    // publisher got an error while a subscriber had already seen the message.
    JetStreamFixture f;
    auto& watcher = f.connect();
    watcher.send("SUB copy.> 11\r\nPING\r\n");
    REQUIRE(f.wait([&] { return watcher.pongs() == 2; }));
    f.create_stream(json::parse(R"({"name":"RP","subjects":["orders.*"],"republish":{"src":"orders.*","dest":"copy.{{wildcard(1)}}"}})"));
    const auto copies = [&] {
        std::size_t n = 0;
        for (const auto& message : watcher.messages()) if (message.sid == "11") ++n;
        return n;
    };
    CHECK(f.publish("orders.a", "kept") == json{{"stream", "RP"}, {"seq", 1}});
    REQUIRE(f.wait([&] { return copies() == 1; }));
    f.node->file_system().fail_next_syncs(1);
    const auto failed = f.publish_raw("orders.a", "lost");
    INFO(failed.headers << "|" << failed.payload);
    CHECK(json::parse(failed.payload, nullptr, false)["error"]["err_code"] == 10077);
    f.node->file_system().clear_failing_syncs();
    watcher.send("PING\r\n");
    REQUIRE(f.wait([&] { return watcher.pongs() == 3; }));
    CHECK(copies() == 1);
}

TEST_CASE("jetstream publish: republish copies stored messages with Nats-* headers", "[jetstream][publish][sim]") {
    // Checked against nats-server 2.9.10: same headers, same order (copy before PubAck).
    JetStreamFixture f;
    auto& watcher = f.connect();
    watcher.send("SUB copy.> 11\r\nSUB hdr.> 12\r\nPING\r\n");
    REQUIRE(f.wait([&] { return watcher.pongs() == 2; }));
    const json created = f.create_stream(json::parse(
        R"({"name":"RP","subjects":["orders.*.*"],"republish":{"src":"orders.*.*","dest":"copy.{{wildcard(2)}}.$1"}})"));
    CHECK(created["config"]["republish"] == json{{"src", "orders.*.*"}, {"dest", "copy.{{wildcard(2)}}.$1"}});
    CHECK(f.publish("orders.a.b", "hi", header_block({"X: 1"})) == ack(1, "RP"));
    CHECK(f.publish("orders.a.b", "again") == ack(2, "RP"));
    // The watcher also hears the fixture's inboxes: keep what its two subscriptions got.
    const auto copies = [&] {
        std::vector<herald::testing::ReceivedMessage> out;
        for (const auto& message : watcher.messages()) {
            if (message.sid == "11" || message.sid == "12") out.push_back(message);
        }
        return out;
    };
    REQUIRE(f.wait([&] { return copies().size() == 2; }));
    CHECK(copies()[0].subject == "copy.b.a");
    CHECK(copies()[0].headers ==
          "NATS/1.0\r\nX: 1\r\nNats-Stream: RP\r\nNats-Subject: orders.a.b\r\nNats-Sequence: 1\r\nNats-Last-Sequence: 0\r\n\r\n");
    CHECK(copies()[0].payload == "hi");
    CHECK(copies()[1].headers ==
          "NATS/1.0\r\nNats-Stream: RP\r\nNats-Subject: orders.a.b\r\nNats-Sequence: 2\r\nNats-Last-Sequence: 1\r\n\r\n");

    const json headers_only = f.create_stream(
        json::parse(R"({"name":"H","subjects":["h.>"],"republish":{"dest":"hdr.>","headers_only":true}})"));
    CHECK(headers_only["config"]["republish"] == json{{"src", ">"}, {"dest", "hdr.>"}, {"headers_only", true}});
    f.publish("h.x.y", "body");
    REQUIRE(f.wait([&] { return copies().size() == 3; }));
    CHECK(copies()[2].subject == "hdr.h.x.y");
    CHECK(copies()[2].headers ==
          "NATS/1.0\r\nNats-Stream: H\r\nNats-Subject: h.x.y\r\nNats-Sequence: 1\r\nNats-Last-Sequence: 0\r\nNats-Msg-Size: 4\r\n\r\n");
    CHECK(copies()[2].payload.empty());

    CHECK(f.request("$JS.API.STREAM.UPDATE.H", R"({"name":"H","subjects":["h.>"],"republish":{"dest":"hdr2.>"}})")["error"] ==
          error_of(500, 10052, "stream configuration update can not change RePublish"));
}

TEST_CASE("jetstream publish: max_age expires messages and max_bytes with discard old drops the oldest",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "AGE"}, {"max_age", 1'000'000'000}});
    f.publish("AGE", "x");
    f.publish("AGE", "y");
    CHECK(state_of(f, "AGE")["messages"] == 2);
    f.world.run_for(Duration::seconds(3));
    json state = state_of(f, "AGE");
    CHECK(state["messages"] == 0);
    CHECK(state["last_seq"] == 2);
    CHECK(f.publish("AGE", "z") == ack(3, "AGE"));

    f.create_stream(json{{"name", "B"}, {"max_bytes", 300}});
    for (int i = 1; i <= 10; ++i) CHECK(f.publish("B", std::string(50, 'x')) == ack(static_cast<std::uint64_t>(i), "B"));
    state = state_of(f, "B");
    CHECK(state["bytes"].get<std::uint64_t>() <= 300);
    CHECK(state["last_seq"] == 10);
    CHECK(state["first_seq"].get<std::uint64_t>() > 1);
}

// Goal: with discard old, a message larger than max_bytes is acknowledged with its seq and then
// removed with everything else, as nats-server 2.9 does (processJetStreamMsg stores it; the
// store's enforceBytesLimit drops the oldest until bytes <= max_bytes, the new one last). Method:
// file and memory streams with max_bytes 100, two small messages, one of 200 bytes, one small;
// a consumer created before sees none of the dropped ones; the file stream across a restart.
TEST_CASE("jetstream publish: a message larger than max_bytes with discard old is acked and leaves the stream empty",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    for (const bool memory : {false, true}) {
        const std::string name = memory ? "BIGM" : "BIGF";
        INFO(name);
        f.create_stream(json{{"name", name}, {"storage", memory ? "memory" : "file"}, {"max_bytes", 100}});
        CHECK(f.request("$JS.API.CONSUMER.DURABLE.CREATE." + name + ".C",
                        json{{"stream_name", name}, {"config", {{"durable_name", "C"}, {"ack_policy", "explicit"}}}}
                            .dump())
                  .contains("error") == false);
        CHECK(f.publish(name, "a") == ack(1, name));
        CHECK(f.publish(name, "b") == ack(2, name));
        CHECK(f.publish_raw(name, std::string(200, 'x')).payload == R"({"stream":")" + name + R"(", "seq":3})");
        const auto check_state = [&] {
            const json state = state_of(f, name);
            CHECK(state["messages"] == 0);
            CHECK(state["bytes"] == 0);
            CHECK(state["first_seq"] == 4);
            CHECK(state["last_seq"] == 3);
            CHECK(state.value("num_deleted", 0) == 0);
        };
        check_state();
        CHECK(f.request("$JS.API.CONSUMER.INFO." + name + ".C")["num_pending"] == 0);
        if (!memory) {
            f.restart_server();
            check_state();
        }
        CHECK(f.publish(name, "d") == ack(4, name));
        const json state = state_of(f, name);
        CHECK(state["messages"] == 1);
        CHECK(state["first_seq"] == 4);
        CHECK(f.request("$JS.API.CONSUMER.INFO." + name + ".C")["num_pending"] == 1);
    }
}

// Goal: STREAM.INFO bytes, account storage/memory and max_bytes with discard new as nats-server
// 2.9.10 counts them (filestore fileStoreMsgSize, memstore memStoreMsgSize, storeRawMsg). Method:
// the numbers a real nats-server -js gave for the same publishes (raw client): per message with
// and without headers, and 5 publishes of 10 bytes under max_bytes 100 with discard new.
TEST_CASE("jetstream publish: bytes and max_bytes discard new count as nats-server",
          "[jetstream][publish][sim]") {
    JetStreamFixture f;
    const std::string headers = "NATS/1.0\r\nA: b\r\n\r\n";
    for (const bool memory : {false, true}) {
        const std::string name = memory ? "Bmemory" : "Bfile";
        f.create_stream(json{{"name", name}, {"subjects", {name + ".>"}}, {"storage", memory ? "memory" : "file"}});
        std::vector<std::uint64_t> added;
        std::uint64_t before = 0;
        for (const auto& [suffix, with_headers, payload] :
             {std::tuple{".a", false, "hello"}, {".a", true, "hello"}, {".abc", false, ""}, {".abc", true, ""}}) {
            f.publish(name + suffix, payload, with_headers ? headers : "");
            const std::uint64_t bytes = state_of(f, name)["bytes"];
            added.push_back(bytes - before);
            before = bytes;
        }
        CHECK(added == (memory ? std::vector<std::uint64_t>{30, 48, 27, 45} : std::vector<std::uint64_t>{42, 64, 39, 61}));
    }
    const json account = f.request("$JS.API.INFO");
    CHECK(account["storage"] == 206);
    CHECK(account["memory"] == 150);

    for (const bool memory : {false, true}) {
        const std::string name = std::string(memory ? "BmemoryD" : "BfileD") + "100";
        f.create_stream(json{{"name", name}, {"storage", memory ? "memory" : "file"}, {"max_bytes", 100},
                             {"discard", "new"}});
        std::vector<std::uint64_t> seqs;
        for (int i = 0; i < 5; ++i) {
            const json ack = f.publish(name, std::string(10, 'x'));
            seqs.push_back(ack.contains("error") ? 0 : ack["seq"].get<std::uint64_t>());
            if (ack.contains("error")) {
                CHECK(ack["error"] == json({{"code", 503}, {"err_code", 10077}, {"description", "maximum bytes exceeded"}}));
            }
        }
        const json state = state_of(f, name);
        if (memory) {
            CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
            CHECK(state["messages"] == 2);
            CHECK(state["bytes"] == 74);
            CHECK(state["first_seq"] == 4);
        } else {
            CHECK(seqs == std::vector<std::uint64_t>{1, 2, 0, 0, 0});
            CHECK(state["messages"] == 2);
            CHECK(state["bytes"] == 98);
            CHECK(state["first_seq"] == 1);
        }
    }
}
