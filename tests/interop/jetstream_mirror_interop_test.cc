// Stream mirrors and sources through nats.c's JetStream API (jsStreamConfig.Mirror / Sources):
// a mirror keeps the origin's sequences, sourced messages carry Nats-Stream-Source, both follow
// new messages and go on after a server restart. The same binary runs against nats-server
// (`-js -sd <temp dir>`) and herald-server; a case that fails against nats-server is a wrong test.
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include "tests/interop/js_support.h"
#include "tests/interop/nats_support.h"
#include "tests/support/server_process.h"

namespace {

using herald::interop::Connection;
using herald::interop::status_text;
using herald::interop::wait_ms;
using herald::test::ServerOptions;
using herald::test::ServerProcess;
namespace interop = herald::interop;

struct StreamInfoDeleter {
    void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
using StreamInfo = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;
struct MsgDeleter {
    void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};
using Msg = std::unique_ptr<natsMsg, MsgDeleter>;

// A mirror or source catches up on its own: poll its info until it holds this many messages,
// bounded by this time.
constexpr std::chrono::milliseconds catch_up_max{10'000};
constexpr std::chrono::milliseconds poll_interval{20};

struct MirrorSetup {
    interop::TempDir store;
    ServerProcess server{ServerOptions{{}, {"-js", "-sd", store.path()}}};
    Connection connection = interop::connect(server.url());
    interop::JsCtx js = make_context(connection);

    static interop::JsCtx make_context(const Connection& connection) {
        jsOptions options;
        REQUIRE_OK(jsOptions_Init(&options));
        options.Wait = wait_ms;
        jsCtx* raw = nullptr;
        REQUIRE_OK(natsConnection_JetStream(&raw, connection.get(), &options));
        return interop::JsCtx(raw);
    }

    // Restarts the server and reconnects; an API request on each stream returns once the server
    // has recovered it (herald-server accepts clients while file streams are still recovered, and
    // a publish that comes first gets no responders).
    void reconnect_after_restart(std::initializer_list<const char*> streams) {
        js.reset();
        connection.reset();
        server.restart();
        connection = interop::connect(server.url());
        js = make_context(connection);
        for (const char* stream : streams)
            CHECK(info(stream) != nullptr);
    }

    // js_AddStream; returns the error code (0 when created).
    jsErrCode add(const char* name,
                  std::vector<const char*> subjects,
                  const std::function<void(jsStreamConfig&)>& tweak = {}) {
        jsStreamConfig config;
        REQUIRE_OK(jsStreamConfig_Init(&config));
        config.Name = name;
        config.Subjects = subjects.empty() ? nullptr : subjects.data();
        config.SubjectsLen = static_cast<int>(subjects.size());
        if (tweak) tweak(config);
        jsStreamInfo* info = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        const natsStatus status = js_AddStream(&info, js.get(), &config, nullptr, &error);
        jsStreamInfo_Destroy(info);
        if (status != NATS_OK && error == 0) FAIL("js_AddStream: " << status_text(status));
        return error;
    }

    void publish(const char* subject, const std::string& data) {
        jsPubAck* ack = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_Publish(
            &ack, js.get(), subject, data.data(), static_cast<int>(data.size()), nullptr, &error));
        jsPubAck_Destroy(ack);
    }

    StreamInfo info(const char* name) {
        jsStreamInfo* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetStreamInfo(&raw, js.get(), name, nullptr, &error));
        return StreamInfo(raw);
    }

    // Polls until `name` holds `count` messages or catch_up_max passed; returns the last info.
    StreamInfo wait_messages(const char* name, std::uint64_t count) {
        const auto deadline = std::chrono::steady_clock::now() + catch_up_max;
        StreamInfo last = info(name);
        while (last->State.Msgs != count && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(poll_interval);
            last = info(name);
        }
        INFO("stream " << name);
        CHECK(last->State.Msgs == count);
        return last;
    }

    Msg get(const char* stream, std::uint64_t seq) {
        natsMsg* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetMsg(&raw, js.get(), stream, seq, nullptr, &error));
        return Msg(raw);
    }
};

// A raw $JS.API request and its JSON reply (for fields nats.c does not expose, such as errors
// of a StreamSourceInfo).
nlohmann::json api_request(const Connection& connection,
                           const std::string& subject,
                           const std::string& body) {
    natsMsg* raw = nullptr;
    REQUIRE_OK(natsConnection_RequestString(
        &raw, connection.get(), subject.c_str(), body.c_str(), wait_ms));
    const Msg reply(raw);
    const nlohmann::json json =
        nlohmann::json::parse(interop::data_of(reply.get()), nullptr, false);
    REQUIRE(json.is_object());
    return json;
}

// Polls STREAM.INFO until `done` holds for it or catch_up_max passed; returns the last reply.
nlohmann::json wait_info(const Connection& connection,
                         const std::string& stream,
                         const std::function<bool(const nlohmann::json&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + catch_up_max;
    nlohmann::json last = api_request(connection, "$JS.API.STREAM.INFO." + stream, "");
    while (!done(last) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(poll_interval);
        last = api_request(connection, "$JS.API.STREAM.INFO." + stream, "");
    }
    INFO(last.dump());
    CHECK(done(last));
    return last;
}

std::set<std::string> keys_of(const nlohmann::json& object) {
    std::set<std::string> keys;
    for (const auto& item : object.items())
        keys.insert(item.key());
    return keys;
}

std::string source_of(natsMsg* message) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(message, "Nats-Stream-Source", &value) != NATS_OK) return "";
    return value;
}

}  // namespace

TEST_CASE("interop js mirror: a mirror keeps the origin's sequences and follows it",
          "[interop][js][mirror]") {
    MirrorSetup s;
    REQUIRE(s.add("ORDERS", {"orders.*"}) == 0);
    s.publish("orders.a", "one");
    s.publish("orders.b", "two");
    s.publish("orders.a", "three");
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_DeleteMsg(s.js.get(), "ORDERS", 2, nullptr, &error));

    jsStreamSource mirror;
    REQUIRE_OK(jsStreamSource_Init(&mirror));
    mirror.Name = "ORDERS";
    // A mirror with subjects is refused (10034).
    CHECK(s.add("BAD", {"bad"}, [&](jsStreamConfig& c) { c.Mirror = &mirror; })
          == JSMirrorWithSubjectsErr);
    REQUIRE(s.add("M", {}, [&](jsStreamConfig& c) { c.Mirror = &mirror; }) == 0);

    const StreamInfo copied = s.wait_messages("M", 2);
    CHECK(copied->State.FirstSeq == 1);
    CHECK(copied->State.LastSeq == 3);
    CHECK(copied->State.NumDeleted == 1);
    REQUIRE(copied->Mirror != nullptr);
    CHECK(std::string(copied->Mirror->Name) == "ORDERS");
    CHECK(copied->Mirror->Lag == 0);
    REQUIRE(copied->Config->Mirror != nullptr);
    CHECK(std::string(copied->Config->Mirror->Name) == "ORDERS");
    CHECK(copied->Config->SubjectsLen == 0);

    const Msg original = s.get("ORDERS", 3);
    const Msg copy = s.get("M", 3);
    CHECK(interop::data_of(copy.get()) == "three");
    CHECK(std::string(natsMsg_GetSubject(copy.get())) == "orders.a");
    CHECK(natsMsg_GetTime(copy.get()) == natsMsg_GetTime(original.get()));

    s.publish("orders.b", "four");
    const StreamInfo followed = s.wait_messages("M", 3);
    CHECK(followed->State.LastSeq == 4);

    // The mirror's name is not a subject anyone stores: nats.c sees no responders.
    jsPubAck* ack = nullptr;
    CHECK(js_Publish(&ack, s.js.get(), "M", "x", 1, nullptr, &error) == NATS_NO_RESPONDERS);
    jsPubAck_Destroy(ack);

    // After a restart the mirror goes on after its last sequence.
    s.reconnect_after_restart({"ORDERS", "M"});
    s.publish("orders.a", "five");
    const StreamInfo resumed = s.wait_messages("M", 4);
    CHECK(resumed->State.LastSeq == 5);
    CHECK(interop::data_of(s.get("M", 5).get()) == "five");
}

TEST_CASE("interop js mirror: an origin gap counts against no limit of the mirror",
          "[interop][js][mirror]") {
    // nats-server skipMsgs: a mirror uses the gap's sequences without storing anything, so at
    // max_msgs (discard old) it keeps its old message. Origin 1 "a", 2 "b", 3 deleted, 4 larger
    // than the mirror's max_msg_size (refused once the gap is used up): the mirror holds 1 and 2
    // and its last_seq is 3.
    MirrorSetup s;
    REQUIRE(s.add("ORDERS", {"orders.*"}) == 0);
    s.publish("orders.a", "a");
    s.publish("orders.a", "b");
    s.publish("orders.a", "c");
    s.publish("orders.a", std::string(50, 'x'));
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_DeleteMsg(s.js.get(), "ORDERS", 3, nullptr, &error));
    jsStreamSource mirror;
    REQUIRE_OK(jsStreamSource_Init(&mirror));
    mirror.Name = "ORDERS";
    REQUIRE(s.add("M", {}, [&](jsStreamConfig& c) {
        c.Mirror = &mirror;
        c.MaxMsgs = 2;
        c.MaxMsgSize = 10;
    }) == 0);
    const nlohmann::json info = wait_info(s.connection, "M", [](const nlohmann::json& reply) {
        return reply.contains("state") && reply["state"].value("last_seq", 0) == 3;
    });
    CHECK(info["state"]["messages"] == 2);
    CHECK(info["state"]["first_seq"] == 1);
    CHECK(info["state"]["num_deleted"] == 1);
    CHECK(interop::data_of(s.get("M", 1).get()) == "a");
    CHECK(interop::data_of(s.get("M", 2).get()) == "b");
}

TEST_CASE("interop js sources: sourced messages carry Nats-Stream-Source and new sequences",
          "[interop][js][sources]") {
    MirrorSetup s;
    REQUIRE(s.add("A", {"a.*"}) == 0);
    REQUIRE(s.add("B", {"b.*"}) == 0);
    s.publish("a.1", "a-one");
    s.publish("b.1", "b-skipped");
    s.publish("b.2", "b-two");

    jsStreamSource from_a;
    jsStreamSource from_b;
    REQUIRE_OK(jsStreamSource_Init(&from_a));
    REQUIRE_OK(jsStreamSource_Init(&from_b));
    from_a.Name = "A";
    from_b.Name = "B";
    from_b.FilterSubject = "b.2";
    jsStreamSource* sources[] = {&from_a, &from_b};
    REQUIRE(s.add("ALL", {"all"}, [&](jsStreamConfig& c) {
        c.Sources = sources;
        c.SourcesLen = 2;
    }) == 0);

    const StreamInfo merged = s.wait_messages("ALL", 2);
    REQUIRE(merged->SourcesLen == 2);
    std::set<std::string> names;
    for (int i = 0; i < merged->SourcesLen; ++i)
        names.insert(merged->Sources[i]->Name);
    CHECK(names == std::set<std::string>{"A", "B"});
    std::set<std::string> headers;
    for (std::uint64_t seq = 1; seq <= 2; ++seq)
        headers.insert(source_of(s.get("ALL", seq).get()));
    CHECK(headers == std::set<std::string>{"A 1", "B 2"});

    s.publish("a.2", "a-two");
    s.wait_messages("ALL", 3);
    CHECK(source_of(s.get("ALL", 3).get()) == "A 2");

    // After a restart each source goes on after its newest header: nothing again, nothing lost.
    s.reconnect_after_restart({"A", "B", "ALL"});
    s.publish("b.2", "b-three");
    s.publish("a.3", "a-three");
    s.wait_messages("ALL", 5);
    std::set<std::string> after;
    for (std::uint64_t seq = 4; seq <= 5; ++seq)
        after.insert(source_of(s.get("ALL", seq).get()));
    CHECK(after == std::set<std::string>{"A 3", "B 3"});
}

TEST_CASE("interop js mirror: STREAM.INFO shows mirror and sources info as nats-server does",
          "[interop][js][mirror][sources]") {
    MirrorSetup s;
    const nlohmann::json created = api_request(s.connection,
                                               "$JS.API.STREAM.CREATE.EARLY",
                                               R"({"name":"EARLY","mirror":{"name":"LATER"}})");
    INFO(created.dump());
    CHECK_FALSE(created.contains("error"));
    CHECK(created["config"]["mirror"] == nlohmann::json{{"name", "LATER"}});
    CHECK_FALSE(created["config"].contains("subjects"));
    CHECK_FALSE(created.contains("mirror"));  // The create response has no source info.

    // The origin does not exist yet: the mirror waits with the error of its consumer create.
    const nlohmann::json waiting = wait_info(s.connection, "EARLY", [](const nlohmann::json& info) {
        return info["mirror"].contains("error");
    });
    CHECK(keys_of(waiting["mirror"]) == std::set<std::string>{"name", "lag", "active", "error"});
    CHECK(waiting["mirror"]["name"] == "LATER");
    CHECK(waiting["mirror"]["active"] == -1);  // Never heard from.
    CHECK(waiting["mirror"]["lag"] == 0);
    CHECK(
        waiting["mirror"]["error"]
        == nlohmann::json{{"code", 404}, {"err_code", 10059}, {"description", "stream not found"}});

    REQUIRE(s.add("LATER", {"later"}) == 0);
    s.publish("later", "x");
    const nlohmann::json running = wait_info(s.connection, "EARLY", [](const nlohmann::json& info) {
        return info["state"]["messages"] == 1 && !info["mirror"].contains("error");
    });
    CHECK(keys_of(running["mirror"]) == std::set<std::string>{"name", "lag", "active"});
    CHECK(running["mirror"]["lag"] == 0);
    CHECK(running["mirror"]["active"].get<std::int64_t>() >= 0);
    CHECK_FALSE(running.contains("sources"));

    const nlohmann::json sourcing = api_request(
        s.connection,
        "$JS.API.STREAM.CREATE.SRC",
        R"({"name":"SRC","subjects":["src"],"sources":[{"name":"LATER","filter_subject":"later"}]})");
    CHECK(sourcing["config"]["sources"]
          == nlohmann::json::array({{{"name", "LATER"}, {"filter_subject", "later"}}}));
    const nlohmann::json merged = wait_info(s.connection, "SRC", [](const nlohmann::json& info) {
        return info["state"]["messages"] == 1;
    });
    REQUIRE(merged["sources"].size() == 1);
    CHECK(keys_of(merged["sources"][0]) == std::set<std::string>{"name", "lag", "active"});
    CHECK(merged["sources"][0]["name"] == "LATER");
    CHECK_FALSE(merged.contains("mirror"));
}
