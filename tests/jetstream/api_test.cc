// The $JS.API stream handlers on a simulated node: each request form and each error, compared
// as JSON with what nats-server 2.9.10 answers (jetstream-api.md §2-§6, §13; captured samples
// where the reference has them). The "created" and time fields depend on the clock and are
// checked for shape, then removed before comparing.
#include <catch2/catch.hpp>

#include "tests/jetstream/jetstream_fixture.h"

using herald::testing::error_of;
using herald::testing::header_block;
using herald::testing::JetStreamFixture;
using nlohmann::json;

namespace {

const json orders_config = json::parse(R"({"name":"ORDERS","subjects":["orders.*"]})");

// The config nats-server fills in for orders_config (captured, §3).
json orders_full_config() {
    return json::parse(
        R"({"name":"ORDERS","subjects":["orders.*"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"duplicate_window":120000000000,"allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false})");
}

bool is_rfc3339(const json& value) {
    if (!value.is_string()) return false;
    const auto text = value.get<std::string>();
    return text.size() >= 20 && text[4] == '-' && text[10] == 'T' && text.back() == 'Z';
}

// Removes the clock-dependent fields after checking their shape.
json without_times(json info) {
    if (info.contains("created")) {
        CHECK(is_rfc3339(info["created"]));
        info.erase("created");
    }
    if (info.contains("state")) {
        CHECK(is_rfc3339(info["state"]["first_ts"]));
        CHECK(is_rfc3339(info["state"]["last_ts"]));
        info["state"].erase("first_ts");
        info["state"].erase("last_ts");
    }
    return info;
}

json empty_state() {
    return json{{"messages", 0}, {"bytes", 0}, {"first_seq", 0}, {"last_seq", 0}, {"consumer_count", 0}};
}

}  // namespace

TEST_CASE("jetstream api: INFO answers account_info_response with the default limits", "[jetstream][api][sim]") {
    JetStreamFixture f;
    // Captured from nats-server 2.9.10 (§13).
    const json expected = json::parse(
        R"({"type":"io.nats.jetstream.api.v1.account_info_response","memory":0,"storage":0,"streams":0,"consumers":0,"limits":{"max_memory":-1,"max_storage":-1,"max_streams":-1,"max_consumers":-1,"max_ack_pending":-1,"memory_max_stream_bytes":-1,"storage_max_stream_bytes":-1,"max_bytes_required":false},"api":{"total":0,"errors":0}})");
    CHECK(f.request("$JS.API.INFO") == expected);
    f.create_stream(orders_config);
    f.create_stream(json{{"name", "M"}, {"storage", "memory"}});
    f.request("$JS.API.STREAM.INFO.NOPE");
    f.publish("orders.a", "hello");
    f.publish("M", "hi");
    const json info = f.request("$JS.API.INFO");
    CHECK(info["streams"] == 2);
    CHECK(info["storage"].get<std::uint64_t>() > 0);
    CHECK(info["memory"].get<std::uint64_t>() > 0);
    CHECK(info["api"] == json{{"total", 4}, {"errors", 1}});
}

TEST_CASE("jetstream api: STREAM.CREATE fills defaults, is idempotent and refuses conflicts", "[jetstream][api][sim]") {
    JetStreamFixture f;
    const json created = f.create_stream(orders_config);
    const json expected = {{"type", "io.nats.jetstream.api.v1.stream_create_response"},
                           {"config", orders_full_config()},
                           {"state", empty_state()},
                           {"did_create", true}};
    CHECK(without_times(created) == expected);
    CHECK(created["state"]["first_ts"] == "0001-01-01T00:00:00Z");

    SECTION("the same config again succeeds") {
        CHECK(without_times(f.create_stream(orders_config)) == expected);
        CHECK(without_times(f.create_stream(orders_full_config())) == expected);
    }
    SECTION("a different config under the same name is 10058") {
        const json reply = f.create_stream(json{{"name", "ORDERS"}, {"subjects", {"orders.>"}}});
        CHECK(reply == json{{"type", "io.nats.jetstream.api.v1.stream_create_response"},
                            {"error", error_of(400, 10058, "stream name already in use with a different configuration")}});
    }
    SECTION("overlapping subjects with another stream are 10065") {
        const json reply = f.create_stream(json{{"name", "OTHER"}, {"subjects", {"orders.new"}}});
        CHECK(reply["error"] == error_of(400, 10065, "subjects overlap with an existing stream"));
        CHECK(f.create_stream(json{{"name", "WIDE"}, {"subjects", {">"}}})["error"]["err_code"] == 10065);
    }
    SECTION("the name in the subject must match the body") {
        const json reply = f.request("$JS.API.STREAM.CREATE.X", R"({"name":"Y"})");
        CHECK(reply["error"] == error_of(400, 10056, "stream name in subject does not match request"));
    }
    SECTION("bad bodies, names and settings") {
        CHECK(f.request("$JS.API.STREAM.CREATE.X", "{")["error"] == error_of(400, 10025, "invalid JSON"));
        CHECK(f.request("$JS.API.STREAM.CREATE.X", "")["error"] == error_of(400, 10025, "invalid JSON"));
        CHECK(f.request("$JS.API.STREAM.CREATE.a/b", R"({"name":"a/b"})")["error"] ==
              error_of(400, 10128, "Stream name can not contain path separators"));
        CHECK(f.create_stream(json{{"name", "R3"}, {"num_replicas", 3}})["error"] ==
              error_of(500, 10074, "replicas > 1 not supported in non-clustered mode"));
        CHECK(f.create_stream(json{{"name", "SEALED"}, {"sealed", true}})["error"] ==
              error_of(500, 10052, "stream configuration for create can not be sealed"));
        CHECK(f.create_stream(json{{"name", "OLD"}, {"max_age", 10}})["error"] ==
              error_of(500, 10052, "max age needs to be >= 100ms"));
    }
}

TEST_CASE("jetstream api: STREAM.UPDATE changes subjects and limits, not storage", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    f.publish("orders.a", "1");
    json config = orders_full_config();
    config["subjects"] = {"orders.*", "returns.*"};
    config["max_msgs"] = 10;
    const json updated = f.request("$JS.API.STREAM.UPDATE.ORDERS", config.dump());
    CHECK(updated["type"] == "io.nats.jetstream.api.v1.stream_update_response");
    CHECK(updated["config"] == config);
    CHECK(updated["state"]["messages"] == 1);
    CHECK(!updated.contains("did_create"));
    CHECK(f.publish("returns.a", "r") == json{{"stream", "ORDERS"}, {"seq", 2}});

    config["storage"] = "memory";
    CHECK(f.request("$JS.API.STREAM.UPDATE.ORDERS", config.dump())["error"] ==
          error_of(500, 10052, "stream configuration update can not change storage type"));
    CHECK(f.request("$JS.API.STREAM.UPDATE.NOPE", R"({"name":"NOPE"})") ==
          json{{"type", "io.nats.jetstream.api.v1.stream_update_response"},
               {"error", error_of(404, 10059, "stream not found")}});
    CHECK(f.request("$JS.API.STREAM.UPDATE.X", R"({"name":"Y"})")["error"]["err_code"] == 10056);
    f.create_stream(json{{"name", "B"}, {"subjects", {"b.*"}}});
    CHECK(f.request("$JS.API.STREAM.UPDATE.B", R"({"name":"B","subjects":["b.*","orders.x"]})")["error"] ==
          error_of(400, 10065, "subjects overlap with an existing stream"));
}

TEST_CASE("jetstream api: STREAM.INFO reports state and pages subject details", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    f.publish("orders.a", "one");
    f.publish("orders.b", "two");
    f.publish("orders.a", "three");
    const json info = f.request("$JS.API.STREAM.INFO.ORDERS");
    CHECK(info["type"] == "io.nats.jetstream.api.v1.stream_info_response");
    CHECK(info["total"] == 0);
    CHECK(info["offset"] == 0);
    CHECK(info["limit"] == 0);
    CHECK(info["config"] == orders_full_config());
    const json& state = info["state"];
    CHECK(state["messages"] == 3);
    CHECK(state["first_seq"] == 1);
    CHECK(state["last_seq"] == 3);
    CHECK(state["num_subjects"] == 2);
    CHECK(state["bytes"].get<std::uint64_t>() > 0);
    CHECK(!state.contains("subjects"));
    CHECK(state["consumer_count"] == 0);

    const json filtered = f.request("$JS.API.STREAM.INFO.ORDERS", R"({"subjects_filter":">"})");
    CHECK(filtered["state"]["subjects"] == json{{"orders.a", 2}, {"orders.b", 1}});
    CHECK(filtered["total"] == 2);
    CHECK(filtered["limit"] == 100000);
    const json one = f.request("$JS.API.STREAM.INFO.ORDERS", R"({"subjects_filter":"orders.b"})");
    CHECK(one["state"]["subjects"] == json{{"orders.b", 1}});

    // Go marshals the paging fields of the response struct even with an error (captured from
    // nats-server 2.9.10).
    bool replied = false;
    CHECK(f.publish_raw("$JS.API.STREAM.INFO.NOPE", "", "", &replied).payload ==
          R"({"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,"err_code":10059,"description":"stream not found"},"total":0,"offset":0,"limit":0})");
    CHECK(f.request("$JS.API.STREAM.INFO.ORDERS", "[")["error"] == error_of(400, 10025, "invalid JSON"));
}

TEST_CASE("jetstream api: STREAM.NAMES and STREAM.LIST page and filter by subject", "[jetstream][api][sim]") {
    JetStreamFixture f;
    CHECK(f.request("$JS.API.STREAM.NAMES") == json{{"type", "io.nats.jetstream.api.v1.stream_names_response"},
                                                    {"total", 0}, {"offset", 0}, {"limit", 1024},
                                                    {"streams", nullptr}});
    for (const char* name : {"C", "A", "B"}) {
        f.create_stream(json{{"name", name}, {"subjects", {std::string(name) + ".*"}}});
    }
    CHECK(f.request("$JS.API.STREAM.NAMES") == json{{"type", "io.nats.jetstream.api.v1.stream_names_response"},
                                                    {"total", 3}, {"offset", 0}, {"limit", 1024},
                                                    {"streams", {"A", "B", "C"}}});
    const json paged = f.request("$JS.API.STREAM.NAMES", R"({"offset":1})");
    CHECK(paged["streams"] == json{"B", "C"});
    CHECK(paged["offset"] == 1);
    CHECK(paged["total"] == 3);
    CHECK(f.request("$JS.API.STREAM.NAMES", R"({"offset":9})")["offset"] == 3);
    CHECK(f.request("$JS.API.STREAM.NAMES", R"({"subject":"B.x"})")["streams"] == json{"B"});
    CHECK(f.request("$JS.API.STREAM.NAMES", R"({"subject":"Z.x"})")["streams"].is_null());

    const json list = f.request("$JS.API.STREAM.LIST", R"({"offset":2})");
    CHECK(list["type"] == "io.nats.jetstream.api.v1.stream_list_response");
    CHECK(list["total"] == 3);
    CHECK(list["offset"] == 2);
    CHECK(list["limit"] == 256);
    REQUIRE(list["streams"].size() == 1);
    CHECK(list["streams"][0]["config"]["name"] == "C");
    CHECK(without_times(list["streams"][0])["state"] == empty_state());
    CHECK(f.request("$JS.API.STREAM.LIST", "x")["error"] == error_of(400, 10025, "invalid JSON"));
}

TEST_CASE("jetstream api: STREAM.PURGE with filter, seq and keep", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    for (int i = 0; i < 3; ++i) f.publish("orders.a", "a");
    for (int i = 0; i < 3; ++i) f.publish("orders.b", "b");
    const auto purge = [&](const std::string& body) { return f.request("$JS.API.STREAM.PURGE.ORDERS", body); };
    CHECK(purge(R"({"filter":"orders.a","keep":1})") ==
          json{{"type", "io.nats.jetstream.api.v1.stream_purge_response"}, {"success", true}, {"purged", 2}});
    CHECK(purge(R"({"seq":5})")["purged"] == 2);  // Seqs 3 (orders.a) and 4 below 5.
    CHECK(f.request("$JS.API.STREAM.INFO.ORDERS")["state"]["first_seq"] == 5);
    CHECK(purge(R"({"seq":2,"keep":1})")["error"] == error_of(400, 10003, "bad request"));
    CHECK(purge("")["purged"] == 2);
    CHECK(f.request("$JS.API.STREAM.INFO.ORDERS")["state"]["messages"] == 0);
    CHECK(f.request("$JS.API.STREAM.PURGE.NOPE")["error"] == error_of(404, 10059, "stream not found"));

    f.create_stream(json{{"name", "KEEP"}, {"deny_purge", true}});
    CHECK(f.request("$JS.API.STREAM.PURGE.KEEP")["error"] == error_of(500, 10110, "stream purge not permitted"));
}

TEST_CASE("jetstream api: STREAM.MSG.GET by seq, last_by_subj and next_by_subj", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    f.publish("orders.a", "one");
    f.publish("orders.a", "two", header_block({"Nats-Msg-Id: m1"}));
    f.publish("orders.b", "three");
    const auto get = [&](const std::string& body) { return f.request("$JS.API.STREAM.MSG.GET.ORDERS", body); };
    json reply = get(R"({"seq":2})");
    CHECK(reply["type"] == "io.nats.jetstream.api.v1.stream_msg_get_response");
    CHECK(is_rfc3339(reply["message"]["time"]));
    reply["message"].erase("time");
    // Captured shape (§6): base64 of the raw header block and payload.
    CHECK(reply["message"] == json{{"subject", "orders.a"},
                                   {"seq", 2},
                                   {"hdrs", "TkFUUy8xLjANCk5hdHMtTXNnLUlkOiBtMQ0KDQo="},
                                   {"data", "dHdv"}});
    CHECK(get(R"({"last_by_subj":"orders.a"})")["message"]["seq"] == 2);
    CHECK(get(R"({"last_by_subj":"orders.*"})")["message"]["seq"] == 3);
    CHECK(get(R"({"next_by_subj":"orders.b","seq":1})")["message"]["seq"] == 3);
    CHECK(!get(R"({"seq":1})")["message"].contains("hdrs"));
    CHECK(get(R"({"seq":9})") == json{{"type", "io.nats.jetstream.api.v1.stream_msg_get_response"},
                                      {"error", error_of(404, 10037, "no message found")}});
    CHECK(get(R"({"last_by_subj":"orders.z"})")["error"]["err_code"] == 10037);
    CHECK(get("")["error"] == error_of(400, 10003, "bad request"));
    CHECK(get("{}")["error"] == error_of(400, 10003, "bad request"));
    CHECK(get(R"({"seq":1,"last_by_subj":"orders.a"})")["error"]["err_code"] == 10003);
    CHECK(get(R"({"seq":-1})")["error"] == error_of(400, 10025, "invalid JSON"));
    CHECK(f.request("$JS.API.STREAM.MSG.GET.NOPE", R"({"seq":1})")["error"]["err_code"] == 10059);
}

TEST_CASE("jetstream api: STREAM.MSG.DELETE removes one message unless deny_delete", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    for (int i = 0; i < 3; ++i) f.publish("orders.a", "x");
    const auto del = [&](const std::string& body) { return f.request("$JS.API.STREAM.MSG.DELETE.ORDERS", body); };
    CHECK(del(R"({"seq":2})") == json{{"type", "io.nats.jetstream.api.v1.stream_msg_delete_response"}, {"success", true}});
    CHECK(del(R"({"seq":3,"no_erase":true})")["success"] == true);
    const json state = f.request("$JS.API.STREAM.INFO.ORDERS")["state"];
    CHECK(state["messages"] == 1);
    CHECK(f.request("$JS.API.STREAM.MSG.GET.ORDERS", R"({"seq":2})")["error"]["err_code"] == 10037);
    f.publish("orders.a", "x");
    const json details = f.request("$JS.API.STREAM.INFO.ORDERS", R"({"deleted_details":true})")["state"];
    CHECK(details["num_deleted"] == 2);
    CHECK(details["deleted"] == json{2, 3});  // Checked against nats-server 2.9.10.
    CHECK(!f.request("$JS.API.STREAM.INFO.ORDERS")["state"].contains("deleted"));
    // nats-server 2.9.10 answers with the store's error (captured).
    CHECK(del(R"({"seq":2})")["error"] == error_of(500, 10057, "no message found"));
    CHECK(del(R"({"seq":99})")["error"] == error_of(500, 10057, "stream store EOF"));
    CHECK(del("")["error"] == error_of(400, 10003, "bad request"));

    f.create_stream(json{{"name", "KEEP"}, {"deny_delete", true}});
    f.publish("KEEP", "x");
    CHECK(f.request("$JS.API.STREAM.MSG.DELETE.KEEP", R"({"seq":1})")["error"] ==
          error_of(500, 10057, "message delete not permitted"));
}

TEST_CASE("jetstream api: STREAM.DELETE removes the stream and its subjects", "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(orders_config);
    f.publish("orders.a", "x");
    CHECK(f.request("$JS.API.STREAM.DELETE.ORDERS", "{\"x\":1}")["error"] ==
          error_of(400, 10038, "expected an empty request payload"));
    CHECK(f.request("$JS.API.STREAM.DELETE.ORDERS") ==
          json{{"type", "io.nats.jetstream.api.v1.stream_delete_response"}, {"success", true}});
    CHECK(f.request("$JS.API.STREAM.INFO.ORDERS")["error"]["err_code"] == 10059);
    CHECK(f.request("$JS.API.STREAM.DELETE.ORDERS")["error"] == error_of(404, 10059, "stream not found"));
    // Nobody captures the subject any more: the publisher gets no-responders.
    const auto reply = f.publish_raw("orders.a", "x");
    CHECK(reply.headers == "NATS/1.0 503\r\n\r\n");
    // The name and subjects are free again.
    CHECK(f.create_stream(orders_config)["state"]["last_seq"] == 0);
}

TEST_CASE("jetstream api: DIRECT.GET answers with the message and Nats-* headers when allow_direct",
          "[jetstream][api][sim]") {
    JetStreamFixture f;
    f.create_stream(json{{"name", "KV"}, {"subjects", {"kv.>"}}, {"allow_direct", true}});
    f.publish("kv.a", "one");
    f.publish("kv.a", "two", header_block({"Nats-Msg-Id: m1"}));
    bool replied = false;
    auto reply = f.publish_raw("$JS.API.DIRECT.GET.KV", R"({"seq":2})", "", &replied);
    REQUIRE(replied);
    CHECK(reply.payload == "two");
    const std::string prefix = "NATS/1.0\r\nNats-Msg-Id: m1\r\nNats-Stream: KV\r\nNats-Subject: kv.a\r\nNats-Sequence: 2\r\nNats-Time-Stamp: ";
    CHECK(reply.headers.substr(0, prefix.size()) == prefix);
    CHECK(reply.headers.ends_with("Z\r\n\r\n"));

    reply = f.publish_raw("$JS.API.DIRECT.GET.KV.kv.a", "", "", &replied);
    REQUIRE(replied);
    CHECK(reply.payload == "two");
    reply = f.publish_raw("$JS.API.DIRECT.GET.KV", R"({"last_by_subj":"kv.a"})", "", &replied);
    CHECK(reply.headers.find("Nats-Sequence: 2\r\n") != std::string::npos);
    reply = f.publish_raw("$JS.API.DIRECT.GET.KV", R"({"seq":1})", "", &replied);
    CHECK(reply.headers.starts_with("NATS/1.0\r\nNats-Stream: KV\r\nNats-Subject: kv.a\r\nNats-Sequence: 1\r\n"));
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV", R"({"seq":7})").headers == "NATS/1.0 404 Message Not Found\r\n\r\n");
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV.kv.zz", "").headers == "NATS/1.0 404 Message Not Found\r\n\r\n");
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV", "").headers == "NATS/1.0 408 Empty Request\r\n\r\n");
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV", "{").headers == "NATS/1.0 408 Malformed Request\r\n\r\n");
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV", R"({"seq":1,"last_by_subj":"kv.a"})").headers ==
          "NATS/1.0 408 Bad Request\r\n\r\n");
    CHECK(f.publish_raw("$JS.API.DIRECT.GET.KV.kv.a", "x").headers == "NATS/1.0 408 Bad Request\r\n\r\n");
}

TEST_CASE("jetstream api: with a domain, $JS.<domain>.API maps to $JS.API and PubAcks name the domain",
          "[jetstream][api][sim]") {
    JetStreamFixture f(1, "hub");
    const json info = f.request("$JS.hub.API.INFO");
    CHECK(info["type"] == "io.nats.jetstream.api.v1.account_info_response");
    CHECK(info["domain"] == "hub");
    CHECK(f.request("$JS.hub.API.STREAM.CREATE.KV", R"({"name":"KV","subjects":["kv.>"],"allow_direct":true})")
              ["did_create"] == true);
    CHECK(f.publish_raw("kv.a", "one").payload == R"({"stream":"KV", "domain":"hub", "seq":1})");
    CHECK(f.request("$JS.API.STREAM.INFO.KV")["domain"] == "hub");
    CHECK(f.request("$JS.hub.API.STREAM.NAMES")["streams"] == json{"KV"});
    CHECK(f.publish_raw("$JS.hub.API.DIRECT.GET.KV.kv.a", "").payload == "one");
    // Other subjects under the domain prefix are not mapped.
    CHECK(f.publish_raw("$JS.hub.API.OTHER", "").headers == "NATS/1.0 503\r\n\r\n");
}

TEST_CASE("jetstream api: with a domain, $JS.<domain>.API.$KV and .$OBJ map to $KV and $OBJ",
          "[jetstream][api][sim]") {
    // Goal: nats.js KV with a domain puts to $JS.<domain>.API.$KV.<bucket>.<key> (its put prefix
    // is the API prefix), which nats-server's generateJSMappingTable maps to $KV.<bucket>.<key>.
    // Method: a KV-shaped stream, a publish through the prefixed subject, the PubAck and the
    // stored subject.
    JetStreamFixture f(1, "hub");
    CHECK(f.request("$JS.hub.API.STREAM.CREATE.KV_b",
                    R"({"name":"KV_b","subjects":["$KV.b.>"],"max_msgs_per_subject":1})")["did_create"] == true);
    CHECK(f.publish_raw("$JS.hub.API.$KV.b.color", "red").payload
          == R"({"stream":"KV_b", "domain":"hub", "seq":1})");
    CHECK(f.request("$JS.API.STREAM.MSG.GET.KV_b", R"({"seq":1})")["message"]["subject"] == "$KV.b.color");
    CHECK(f.request("$JS.hub.API.STREAM.CREATE.OBJ",
                    R"({"name":"OBJ","subjects":["$OBJ.>"]})")["did_create"] == true);
    CHECK(f.publish_raw("$JS.hub.API.$OBJ.x", "chunk").payload
          == R"({"stream":"OBJ", "domain":"hub", "seq":1})");
}

TEST_CASE("jetstream api: leader stepdown and peer remove answer 10010 without clustering",
          "[jetstream][api][sim]") {
    // Goal: nats CLI's `stream cluster step-down` / `consumer cluster step-down` / `stream cluster
    // peer-remove` get nats-server's standalone answer instead of a timeout. Method: the exact
    // JSON of jsStreamLeaderStepDownRequest, jsConsumerLeaderStepDownRequest and
    // jsStreamRemovePeerRequest when !JetStreamIsClustered (checked before the names).
    JetStreamFixture f;
    f.create_stream(orders_config);
    const auto expected = [](std::string_view type) {
        return json{{"type", "io.nats.jetstream.api.v1." + std::string(type)},
                    {"error",
                     {{"code", 503},
                      {"err_code", 10010},
                      {"description", "JetStream clustering support required"}}}};
    };
    CHECK(f.request("$JS.API.STREAM.LEADER.STEPDOWN.ORDERS")
          == expected("stream_leader_stepdown_response"));
    CHECK(f.request("$JS.API.STREAM.LEADER.STEPDOWN.NOPE")
          == expected("stream_leader_stepdown_response"));
    CHECK(f.request("$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.C")
          == expected("consumer_leader_stepdown_response"));
    CHECK(f.request("$JS.API.STREAM.PEER.REMOVE.ORDERS", R"({"peer":"n2"})")
          == expected("stream_remove_peer_response"));
    const json info = f.request("$JS.API.INFO");
    CHECK(info["api"] == json{{"total", 5}, {"errors", 4}});
}

TEST_CASE("jetstream api: error responses carry the zero fields nats-server marshals",
          "[jetstream][api][sim]") {
    // Goal: byte-equal error answers. Method: the exact text nats-server 2.9.10 sent for each
    // (captured with a raw request): Go writes the response struct's fields that have no
    // omitempty, so "purged", the paging fields and "streams" (null for names, [] for list).
    JetStreamFixture f;
    const auto raw = [&](const std::string& subject, const std::string& body) {
        bool replied = false;
        std::string payload = f.publish_raw(subject, body, "", &replied).payload;
        CHECK(replied);
        return payload;
    };
    CHECK(raw("$JS.API.STREAM.PURGE.NOPE", "") ==
          R"({"type":"io.nats.jetstream.api.v1.stream_purge_response","error":{"code":404,"err_code":10059,"description":"stream not found"},"purged":0})");
    CHECK(raw("$JS.API.STREAM.LIST", "x") ==
          R"({"type":"io.nats.jetstream.api.v1.stream_list_response","error":{"code":400,"err_code":10025,"description":"invalid JSON"},"total":0,"offset":0,"limit":0,"streams":[]})");
    CHECK(raw("$JS.API.STREAM.NAMES", "x") ==
          R"({"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":400,"err_code":10025,"description":"invalid JSON"},"total":0,"offset":0,"limit":0,"streams":null})");
    CHECK(raw("$JS.API.STREAM.INFO.NOPE", "[") ==
          R"({"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":400,"err_code":10025,"description":"invalid JSON"},"total":0,"offset":0,"limit":0})");
}
