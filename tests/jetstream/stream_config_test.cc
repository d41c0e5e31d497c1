// StreamConfig parsing, defaults and validation without a server: each rule of nats-server's
// checkStreamCfg/configUpdateCheck that Herald copies, with the exact error it returns.
#include <catch2/catch.hpp>

#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/api_json.h"
#include "engine/jetstream/stream_config.h"
#include "engine/jetstream/subject_transform.h"

using namespace herald::jetstream;

namespace {

// Parses and checks; returns the failure's {code, err_code, description} or null.
Json check(std::string_view text, StreamConfig* out = nullptr) {
    StreamConfig config;
    if (auto failure = parse_stream_config(text, config)) return api_error_json(*failure);
    if (auto failure = check_stream_config(config)) return api_error_json(*failure);
    if (out != nullptr) *out = config;
    return nullptr;
}

Json error(int code, int err_code, std::string description) {
    return Json{{"code", code}, {"err_code", err_code}, {"description", std::move(description)}};
}

}  // namespace

TEST_CASE("api errors: the table keeps nats-server's codes and fills placeholders", "[jetstream][errors]") {
    CHECK(api_error_json(api_failure(ApiError::stream_not_found)) == error(404, 10059, "stream not found"));
    CHECK(api_error_json(api_failure(ApiError::stream_name_in_use)) ==
          error(400, 10058, "stream name already in use with a different configuration"));
    CHECK(api_error_json(api_failure(ApiError::stream_subject_overlap)) ==
          error(400, 10065, "subjects overlap with an existing stream"));
    CHECK(api_error_json(api_failure(ApiError::bad_request)) == error(400, 10003, "bad request"));
    CHECK(api_error_json(api_failure(ApiError::stream_wrong_last_sequence, "2")) ==
          error(400, 10071, "wrong last sequence: 2"));
    CHECK(api_error_json(api_failure(ApiError::stream_wrong_last_msg_id, "m1")) ==
          error(400, 10070, "wrong last msg ID: m1"));
    CHECK(api_error_json(api_failure(ApiError::stream_not_match)) ==
          error(400, 10060, "expected stream does not match"));
    CHECK(api_error_json(api_failure(ApiError::stream_message_exceeds_maximum)) ==
          error(400, 10054, "message size exceeds maximum allowed"));
    CHECK(api_error_json(api_failure(ApiError::stream_store_failed, "maximum messages exceeded")) ==
          error(503, 10077, "maximum messages exceeded"));
    CHECK(api_error_json(api_failure(ApiError::message_not_found)) == error(404, 10037, "no message found"));
    CHECK(api_error_json(api_failure(ApiError::stream_name_contains_path_separators)) ==
          error(400, 10128, "Stream name can not contain path separators"));
    CHECK(api_error_json(api_failure(ApiError::sequence_not_found, "7")) ==
          error(400, 10043, "sequence 7 not found"));
    CHECK(api_error_json(api_failure(ApiError::replicas_count_cannot_be_negative)) ==
          error(400, 10133, "replicas count cannot be negative"));
}

TEST_CASE("stream config: defaults are filled as nats-server does", "[jetstream][config]") {
    StreamConfig config;
    REQUIRE(check(R"({"name":"ORDERS","subjects":["orders.*"]})", &config).is_null());
    // The captured 2.9.10 create response config (jetstream-api.md §3).
    const Json expected = Json::parse(
        R"({"name":"ORDERS","subjects":["orders.*"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"duplicate_window":120000000000,"allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false})");
    CHECK(stream_config_json(config) == expected);
    CHECK(stream_config_json(config).dump() == expected.dump());  // Same field order too.

    REQUIRE(check(R"({"name":"S"})", &config).is_null());
    CHECK(config.subjects == std::vector<std::string>{"S"});
    REQUIRE(check(R"({"name":"S","max_age":1000000000})", &config).is_null());
    CHECK(config.duplicate_window_ns == 1'000'000'000);  // Capped by max_age.
    REQUIRE(check(R"({"name":"S","retention":"workqueue","storage":"memory","discard":"NEW"})", &config).is_null());
    CHECK(config.retention == Retention::workqueue);
    CHECK(config.storage == Storage::memory);
    CHECK(config.discard == DiscardPolicy::new_messages);
    REQUIRE(check(R"({"name":"S","retention":"interest"})", &config).is_null());
    CHECK(config.retention == Retention::interest);
}

TEST_CASE("stream config: invalid configs get checkStreamCfg's errors", "[jetstream][config]") {
    CHECK(check("{") == error(400, 10025, "invalid JSON"));
    CHECK(check(R"({"name":"S","retention":"forever"})") == error(400, 10025, "invalid JSON"));
    CHECK(check(R"({"name":"S","max_msgs":"many"})") == error(400, 10025, "invalid JSON"));
    CHECK(check(R"({"name":"a.b"})") ==
          error(500, 10052, "stream name is required and can not contain '.', '*', '>'"));
    CHECK(check(R"({"subjects":["x"]})") ==
          error(500, 10052, "stream name is required and can not contain '.', '*', '>'"));
    CHECK(check(R"({"name":"S","num_replicas":7})") == error(500, 10052, "maximum replicas is 5"));
    CHECK(check(R"({"name":"S","num_replicas":-1})") == error(400, 10133, "replicas count cannot be negative"));
    CHECK(check(R"({"name":"S","max_age":1000})") == error(500, 10052, "max age needs to be >= 100ms"));
    CHECK(check(R"({"name":"S","duplicate_window":1000})") ==
          error(500, 10052, "duplicates window needs to be >= 100ms"));
    CHECK(check(R"({"name":"S","max_age":1000000000,"duplicate_window":2000000000})") ==
          error(500, 10052, "duplicates window can not be larger then max age"));
    CHECK(check(R"({"name":"S","deny_purge":true,"allow_rollup_hdrs":true})") ==
          error(500, 10052, "roll-ups require the purge permission"));
    CHECK(check(R"({"name":"S","discard_new_per_subject":true})") ==
          error(500, 10052, "discard new per subject requires discard new policy to be set"));
    CHECK(check(R"({"name":"S","discard":"new","discard_new_per_subject":true})") ==
          error(500, 10052, "discard new per subject requires max msgs per subject > 0"));
    CHECK(check(R"({"name":"S","subjects":["a","a"]})") == error(500, 10052, "duplicate subjects detected"));
    CHECK(check(R"({"name":"S","subjects":["$JS.API.STREAM.INFO.x"]})") ==
          error(500, 10052, "subjects overlap with jetstream api"));
    CHECK(check(R"({"name":"S","subjects":["a..b"]})") == error(500, 10052, "invalid subject"));
    CHECK(check(R"({"name":"S","subjects":["a.*","a.b"]})") ==
          error(500, 10052, "subject \"a.*\" overlaps with \"a.b\""));
}

TEST_CASE("stream config: republish is checked as checkStreamCfg does", "[jetstream][config]") {
    CHECK(check(R"({"name":"S","subjects":["b1"],"republish":{"src":"zz","dest":"q"}})") ==
          error(500, 10052, "stream configuration for republish source is not valid subset of subjects"));
    CHECK(check(R"({"name":"S","subjects":["b.*"],"republish":{"src":"b.*","dest":"b.x"}})") ==
          error(500, 10052, "stream configuration for republish destination forms a cycle"));
    for (const char* bad : {R"({"src":"b.*","dest":"q.*"})", R"({"src":"b.*","dest":"q.x"})",
                            R"({"src":"b.>","dest":"q.x"})", R"({"src":"b.*","dest":"q.$2"})"}) {
        const std::string config = std::string(R"({"name":"S","subjects":["b.*","b.>"],"republish":)") + bad + "}";
        INFO(config);
        // b.* and b.> overlap each other; use one subject per case.
        const std::string single = std::string(R"({"name":"S","subjects":[")") +
                                   (std::string(bad).find("b.>") != std::string::npos ? "b.>" : "b.*") +
                                   R"("],"republish":)" + bad + "}";
        CHECK(check(single) == error(500, 10052, "stream configuration for republish not valid"));
    }
    CHECK(check(R"({"name":"S","republish":{"dest":7}})") == error(400, 10025, "invalid JSON"));
    StreamConfig config;
    REQUIRE(check(R"({"name":"S","subjects":["b.>"],"republish":{"dest":"c.>"}})", &config).is_null());
    CHECK(config.republish == Json{{"src", ">"}, {"dest", "c.>"}});
}

TEST_CASE("subject transform: $N, {{wildcard(N)}} and > as nats-server maps them", "[jetstream][config]") {
    const auto transform = SubjectTransform::create("orders.*.*", "copy.{{wildcard(2)}}.$1");
    REQUIRE(transform);
    CHECK(transform->apply("orders.a.b") == "copy.b.a");
    CHECK(!transform->apply("orders.a"));
    const auto rest = SubjectTransform::create("a.*.>", "b.$1.>");
    REQUIRE(rest);
    CHECK(rest->apply("a.x.y.z") == "b.x.y.z");
    CHECK(SubjectTransform::create(">", ">")->apply("any.thing") == "any.thing");
    CHECK(SubjectTransform::create("", "c.>")->apply("x.y") == "c.x.y");
    CHECK(SubjectTransform::create("lit", "other")->apply("lit") == "other");
    CHECK(!SubjectTransform::create("a.*", "b.*"));
    CHECK(!SubjectTransform::create("a.*", "b.$0"));
}

TEST_CASE("stream config: an update may not change what configUpdateCheck protects", "[jetstream][config]") {
    StreamConfig old_config;
    REQUIRE(check(R"({"name":"S","deny_delete":true})", &old_config).is_null());
    StreamConfig config;
    REQUIRE(check(R"({"name":"S","storage":"memory","deny_delete":true})", &config).is_null());
    CHECK(api_error_json(*check_stream_update(old_config, config)) ==
          error(500, 10052, "stream configuration update can not change storage type"));
    REQUIRE(check(R"({"name":"S","retention":"workqueue","deny_delete":true})", &config).is_null());
    CHECK(api_error_json(*check_stream_update(old_config, config)) ==
          error(500, 10052, "stream configuration update can not change retention policy"));
    REQUIRE(check(R"({"name":"S"})", &config).is_null());
    CHECK(api_error_json(*check_stream_update(old_config, config)) ==
          error(500, 10052, "stream configuration update can not cancel deny message deletes"));
    REQUIRE(check(R"({"name":"S","deny_delete":true,"sealed":true})", &config).is_null());
    CHECK(!check_stream_update(old_config, config));
    CHECK(config.deny_purge);  // Sealing implies deny purge, discard new.
    CHECK(config.discard == DiscardPolicy::new_messages);
}

TEST_CASE("subjects collide when some subject matches both", "[jetstream][config]") {
    CHECK(subjects_collide("a.b", "a.b"));
    CHECK(!subjects_collide("a.b", "a.c"));
    CHECK(subjects_collide("a.*", "a.b"));
    CHECK(subjects_collide("a.*", "*.b"));
    CHECK(subjects_collide("a.>", "a.b.c"));
    CHECK(subjects_collide(">", "x"));
    CHECK(!subjects_collide("a.*", "a.b.c"));
    CHECK(!subjects_collide("a.>", "a"));
    CHECK(!subjects_collide("a.b", "a.b.c"));
}

TEST_CASE("api json: RFC3339Nano as Go prints it, and base64", "[jetstream][json]") {
    CHECK(rfc3339_nano(0) == "0001-01-01T00:00:00Z");
    CHECK(rfc3339_nano(1'795'693'351'809'782'110) == "2026-11-26T11:42:31.80978211Z");
    CHECK(rfc3339_nano(1'795'693'351'000'000'000) == "2026-11-26T11:42:31Z");
    CHECK(base64_encode("two") == "dHdv");
    CHECK(base64_encode("NATS/1.0\r\nNats-Msg-Id: m1\r\n\r\n") == "TkFUUy8xLjANCk5hdHMtTXNnLUlkOiBtMQ0KDQo=");
    CHECK(base64_encode("a") == "YQ==");
    CHECK(base64_encode("ab") == "YWI=");
    const std::string block = "NATS/1.0\r\nNats-Msg-Id: m1\r\nX:  y \r\n\r\n";
    CHECK(header_value(block, "Nats-Msg-Id") == "m1");
    CHECK(header_value(block, "X") == "y");
    CHECK(!header_value(block, "nats-msg-id"));
    std::string built;
    append_header(built, "A", "1");
    append_header(built, "B", "2");
    CHECK(built == "NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n");
    remove_header(built, "A");
    CHECK(built == "NATS/1.0\r\nB: 2\r\n\r\n");
    remove_header(built, "C");
    CHECK(built == "NATS/1.0\r\nB: 2\r\n\r\n");
    remove_header(built, "B");
    CHECK(built.empty());
}
