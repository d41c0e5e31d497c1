// JetStream streams through the official NATS C client's JetStream API (nats.c 3.x): stream
// management, sync and async publish with PubAck checks, message get/delete, purge and listing.
// The same binary runs against nats-server (`-js -sd <temp dir>`) and herald-server; a case that
// fails against nats-server is a wrong test.
#include <nats/nats.h>

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

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

using interop::TempDir;

struct StreamInfoDeleter {
    void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
struct PubAckDeleter {
    void operator()(jsPubAck* ack) const { jsPubAck_Destroy(ack); }
};
using interop::JsCtx;
using StreamInfo = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;
using PubAck = std::unique_ptr<jsPubAck, PubAckDeleter>;

// One JetStream server, a connection and a JetStream context.
struct JetStreamSetup {
    TempDir store;
    ServerProcess server{ServerOptions{{}, {"-js", "-sd", store.path()}}};
    Connection connection = interop::connect(server.url());
    JsCtx js = make_context(connection);

    static JsCtx make_context(const Connection& connection) {
        jsOptions options;
        REQUIRE_OK(jsOptions_Init(&options));
        options.Wait = wait_ms;
        jsCtx* raw = nullptr;
        REQUIRE_OK(natsConnection_JetStream(&raw, connection.get(), &options));
        return JsCtx(raw);
    }

    StreamInfo add_stream(const char* name, std::vector<const char*> subjects,
                          void (*tweak)(jsStreamConfig&) = nullptr) {
        jsStreamConfig config;
        REQUIRE_OK(jsStreamConfig_Init(&config));
        config.Name = name;
        config.Subjects = subjects.data();
        config.SubjectsLen = static_cast<int>(subjects.size());
        if (tweak != nullptr) tweak(config);
        jsStreamInfo* info = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_AddStream(&info, js.get(), &config, nullptr, &error));
        return StreamInfo(info);
    }

    PubAck publish(const char* subject, const std::string& data, jsPubOptions* options = nullptr,
                   natsStatus expected = NATS_OK, jsErrCode expected_error = static_cast<jsErrCode>(0)) {
        jsPubAck* ack = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        const natsStatus status = js_Publish(&ack, js.get(), subject, data.data(),
                                             static_cast<int>(data.size()), options, &error);
        CHECK(status_text(status) == status_text(expected));
        CHECK(error == expected_error);
        return PubAck(ack);
    }

    StreamInfo info(const char* name) {
        jsStreamInfo* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetStreamInfo(&raw, js.get(), name, nullptr, &error));
        return StreamInfo(raw);
    }
};

std::string data_of(natsMsg* message) {
    return std::string(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
}

}  // namespace

TEST_CASE("interop js: js_AddStream fills defaults and js_GetStreamInfo reports them", "[interop][js]") {
    JetStreamSetup s;
    const StreamInfo created = s.add_stream("ORDERS", {"orders.*"});
    REQUIRE(created != nullptr);
    CHECK(std::string(created->Config->Name) == "ORDERS");
    CHECK(created->Config->MaxMsgs == -1);
    CHECK(created->Config->MaxBytes == -1);
    CHECK(created->Config->MaxMsgSize == -1);
    CHECK(created->Config->Storage == js_FileStorage);
    CHECK(created->Config->Replicas == 1);
    CHECK(created->Config->Duplicates == 120'000'000'000);
    CHECK(created->State.Msgs == 0);

    // Adding the same config again is fine; a different one is 10058.
    CHECK(s.add_stream("ORDERS", {"orders.*"}) != nullptr);
    jsStreamConfig other;
    REQUIRE_OK(jsStreamConfig_Init(&other));
    other.Name = "ORDERS";
    const char* wide[] = {"orders.>"};
    other.Subjects = wide;
    other.SubjectsLen = 1;
    jsStreamInfo* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    CHECK(js_AddStream(&raw, s.js.get(), &other, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamNameExistErr);
    CHECK(raw == nullptr);

    jsStreamInfo* missing = nullptr;
    CHECK(js_GetStreamInfo(&missing, s.js.get(), "NOPE", nullptr, &error) == NATS_NOT_FOUND);
    CHECK(missing == nullptr);
}

// Stream bytes as nats-server 2.9.10 counts them, the same on both servers: file
// 22 + subject + payload + 8 (+ 4 + headers with headers), memory subject + headers + payload
// + 16; and max_bytes with discard new refuses at the same message (bytes + payload >= max).
TEST_CASE("interop js: state.bytes and max_bytes discard new count as nats-server", "[interop][js]") {
    JetStreamSetup s;
    for (const bool memory : {false, true}) {
        INFO((memory ? "memory" : "file"));
        const char* name = memory ? "BM" : "BF";
        const std::string subject = std::string(name) + ".abcde";  // 8 bytes.
        const std::string subjects = std::string(name) + ".*";
        s.add_stream(name, {subjects.c_str()}, memory ? +[](jsStreamConfig& c) { c.Storage = js_MemoryStorage; }
                                                      : nullptr);
        s.publish(subject.c_str(), "hello");
        CHECK(s.info(name)->State.Bytes == (memory ? 8u + 5 + 16 : 22u + 8 + 5 + 8));
        natsMsg* raw = nullptr;
        REQUIRE_OK(natsMsg_Create(&raw, subject.c_str(), nullptr, "hello", 5));
        REQUIRE_OK(natsMsgHeader_Set(raw, "A", "b"));  // "NATS/1.0\r\nA: b\r\n\r\n": 18 bytes.
        jsPubAck* ack = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_PublishMsg(&ack, s.js.get(), raw, nullptr, &error));
        jsPubAck_Destroy(ack);
        natsMsg_Destroy(raw);
        CHECK(s.info(name)->State.Bytes == (memory ? 29u + 8 + 18 + 5 + 16 : 43u + 22 + 8 + 4 + 18 + 5 + 8));
    }
    // max_bytes 100, discard new, 10-byte payloads on a 9-byte subject: the file stream (49 bytes
    // a message) refuses the third; the memory stream (35) admits each and drops the oldest.
    for (const bool memory : {false, true}) {
        INFO((memory ? "memory" : "file"));
        const char* name = memory ? "DM" : "DF";
        const std::string subject = std::string(name) + ".abcdef";
        const std::string subjects = std::string(name) + ".*";
        s.add_stream(name, {subjects.c_str()}, memory ? +[](jsStreamConfig& c) {
            c.Storage = js_MemoryStorage;
            c.MaxBytes = 100;
            c.Discard = js_DiscardNew;
        } : +[](jsStreamConfig& c) {
            c.MaxBytes = 100;
            c.Discard = js_DiscardNew;
        });
        for (int i = 1; i <= 4; ++i) {
            const bool refused = !memory && i >= 3;
            s.publish(subject.c_str(), std::string(10, 'x'), nullptr,
                      refused ? NATS_ERR : NATS_OK, refused ? JSStreamStoreFailedErr : static_cast<jsErrCode>(0));
        }
        const StreamInfo info = s.info(name);
        CHECK(info->State.Msgs == 2);
        CHECK(info->State.Bytes == (memory ? 70u : 98u));
        CHECK(info->State.FirstSeq == (memory ? 3u : 1u));
    }
}

// nats-server storeRawMsg + enforceBytesLimit (memstore.go, filestore.go): with discard old a
// message larger than max_bytes is stored and acked with its seq, then the oldest messages are
// dropped until bytes <= max_bytes, the new one last: the stream is left empty past it.
TEST_CASE("interop js: a message larger than max_bytes with discard old is acked and empties the stream",
          "[interop][js][max_bytes]") {
    JetStreamSetup s;
    for (const bool memory : {false, true}) {
        INFO((memory ? "memory" : "file"));
        const char* name = memory ? "OM" : "OF";
        const std::string subject = std::string(name) + ".a";
        const std::string subjects = std::string(name) + ".*";
        s.add_stream(name, {subjects.c_str()}, memory ? +[](jsStreamConfig& c) {
            c.Storage = js_MemoryStorage;
            c.MaxBytes = 100;
        } : +[](jsStreamConfig& c) { c.MaxBytes = 100; });
        CHECK(s.publish(subject.c_str(), "one")->Sequence == 1);
        CHECK(s.publish(subject.c_str(), "two")->Sequence == 2);
        CHECK(s.publish(subject.c_str(), std::string(200, 'x'))->Sequence == 3);
        StreamInfo info = s.info(name);
        CHECK(info->State.Msgs == 0);
        CHECK(info->State.Bytes == 0);
        CHECK(info->State.FirstSeq == 4);
        CHECK(info->State.LastSeq == 3);
        CHECK(info->State.NumDeleted == 0);
        CHECK(s.publish(subject.c_str(), "four")->Sequence == 4);
        info = s.info(name);
        CHECK(info->State.Msgs == 1);
        CHECK(info->State.FirstSeq == 4);
        CHECK(info->State.LastSeq == 4);
    }
}

TEST_CASE("interop js: interest retention skips a message nobody wants, outside max_msgs", "[interop][js]") {
    // nats-server processJetStreamMsg: with no consumer interested in the subject the sequence is
    // used (SkipMsg) and acknowledged; nothing is stored, so max_msgs 1 keeps the earlier message
    // (discard old) and does not refuse the publish (discard new).
    JetStreamSetup s;
    for (const bool discard_new : {false, true}) {
        INFO((discard_new ? "discard new" : "discard old"));
        const char* name = discard_new ? "IN" : "IO";
        const std::string wanted = std::string(name) + ".a";
        const std::string unwanted = std::string(name) + ".b";
        const std::string subjects = std::string(name) + ".*";
        s.add_stream(name, {subjects.c_str()}, discard_new ? +[](jsStreamConfig& c) {
            c.Retention = js_InterestPolicy;
            c.MaxMsgs = 1;
            c.Discard = js_DiscardNew;
        } : +[](jsStreamConfig& c) {
            c.Retention = js_InterestPolicy;
            c.MaxMsgs = 1;
        });
        jsConsumerConfig consumer;
        REQUIRE_OK(jsConsumerConfig_Init(&consumer));
        consumer.Durable = "C";
        consumer.FilterSubject = wanted.c_str();
        consumer.AckPolicy = js_AckExplicit;
        jsConsumerInfo* created = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_AddConsumer(&created, s.js.get(), name, &consumer, nullptr, &error));
        jsConsumerInfo_Destroy(created);
        CHECK(s.publish(wanted.c_str(), "kept")->Sequence == 1);
        CHECK(s.publish(unwanted.c_str(), "nobody")->Sequence == 2);
        const StreamInfo info = s.info(name);
        CHECK(info->State.Msgs == 1);
        CHECK(info->State.FirstSeq == 1);
        CHECK(info->State.LastSeq == 2);
        CHECK(info->State.NumDeleted == 1);
    }
}

TEST_CASE("interop js: js_Publish gets PubAcks, duplicates and expected-header errors", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("ORDERS", {"orders.*"});
    PubAck ack = s.publish("orders.a", "one");
    REQUIRE(ack != nullptr);
    CHECK(std::string(ack->Stream) == "ORDERS");
    CHECK(ack->Sequence == 1);
    CHECK(!ack->Duplicate);

    jsPubOptions options;
    REQUIRE_OK(jsPubOptions_Init(&options));
    options.MsgId = "m1";
    CHECK(s.publish("orders.a", "two", &options)->Sequence == 2);
    ack = s.publish("orders.a", "two", &options);
    CHECK(ack->Sequence == 2);
    CHECK(ack->Duplicate);

    REQUIRE_OK(jsPubOptions_Init(&options));
    options.ExpectLastSeq = 7;
    CHECK(s.publish("orders.a", "x", &options, NATS_ERR, JSStreamWrongLastSequenceErr) == nullptr);
    options.ExpectLastSeq = 2;
    CHECK(s.publish("orders.a", "three", &options)->Sequence == 3);

    REQUIRE_OK(jsPubOptions_Init(&options));
    options.ExpectStream = "OTHER";
    CHECK(s.publish("orders.a", "x", &options, NATS_ERR, JSStreamNotMatchErr) == nullptr);

    REQUIRE_OK(jsPubOptions_Init(&options));
    options.ExpectLastMsgId = "nope";
    CHECK(s.publish("orders.a", "x", &options, NATS_ERR, JSStreamWrongLastMsgIDErr) == nullptr);

    REQUIRE_OK(jsPubOptions_Init(&options));
    options.ExpectLastSubjectSeq = 3;
    CHECK(s.publish("orders.a", "four", &options)->Sequence == 4);
    REQUIRE_OK(jsPubOptions_Init(&options));
    options.ExpectNoMessage = true;
    CHECK(s.publish("orders.b", "first b", &options)->Sequence == 5);
    CHECK(s.publish("orders.b", "x", &options, NATS_ERR, JSStreamWrongLastSequenceErr) == nullptr);

    // No stream on the subject: no responders, which nats.c reports as JetStream not enabled.
    CHECK(s.publish("nowhere", "x", nullptr, NATS_NO_RESPONDERS, JSNotEnabledErr) == nullptr);

    const StreamInfo info = s.info("ORDERS");
    CHECK(info->State.Msgs == 5);
    CHECK(info->State.FirstSeq == 1);
    CHECK(info->State.LastSeq == 5);
}

TEST_CASE("interop js: js_PublishAsync then js_PublishAsyncComplete stores every message", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("EVENTS", {"events.>"});
    constexpr int count = 500;
    for (int i = 0; i < count; ++i) {
        const std::string data = "event " + std::to_string(i);
        REQUIRE_OK(js_PublishAsync(s.js.get(), ("events." + std::to_string(i % 5)).c_str(), data.data(),
                                   static_cast<int>(data.size()), nullptr));
    }
    jsPubOptions options;
    REQUIRE_OK(jsPubOptions_Init(&options));
    options.MaxWait = wait_ms;
    REQUIRE_OK(js_PublishAsyncComplete(s.js.get(), &options));
    const StreamInfo info = s.info("EVENTS");
    CHECK(info->State.Msgs == count);
    CHECK(info->State.LastSeq == count);
    CHECK(info->State.NumSubjects == 5);
}

TEST_CASE("interop js: js_GetMsg, js_GetLastMsg, js_DirectGetMsg and js_DeleteMsg", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("KV", {"kv.>"}, [](jsStreamConfig& config) { config.AllowDirect = true; });
    s.publish("kv.a", "one");
    s.publish("kv.b", "two");
    s.publish("kv.a", "three");

    natsMsg* message = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_GetMsg(&message, s.js.get(), "KV", 2, nullptr, &error));
    CHECK(std::string(natsMsg_GetSubject(message)) == "kv.b");
    CHECK(data_of(message) == "two");
    CHECK(natsMsg_GetSequence(message) == 2);
    CHECK(natsMsg_GetTime(message) > 0);
    natsMsg_Destroy(message);

    REQUIRE_OK(js_GetLastMsg(&message, s.js.get(), "KV", "kv.a", nullptr, &error));
    CHECK(data_of(message) == "three");
    CHECK(natsMsg_GetSequence(message) == 3);
    natsMsg_Destroy(message);

    jsDirectGetMsgOptions direct;
    REQUIRE_OK(jsDirectGetMsgOptions_Init(&direct));
    direct.LastBySubject = "kv.b";
    REQUIRE_OK(js_DirectGetMsg(&message, s.js.get(), "KV", nullptr, &direct));
    CHECK(data_of(message) == "two");
    CHECK(natsMsg_GetSequence(message) == 2);
    const char* value = nullptr;
    REQUIRE_OK(natsMsgHeader_Get(message, "Nats-Stream", &value));
    CHECK(std::string(value) == "KV");
    natsMsg_Destroy(message);

    REQUIRE_OK(js_DeleteMsg(s.js.get(), "KV", 2, nullptr, &error));
    message = nullptr;
    CHECK(js_GetMsg(&message, s.js.get(), "KV", 2, nullptr, &error) == NATS_NOT_FOUND);
    CHECK(message == nullptr);
    CHECK(js_DeleteMsg(s.js.get(), "KV", 2, nullptr, &error) != NATS_OK);
    CHECK(s.info("KV")->State.Msgs == 2);
    CHECK(js_GetLastMsg(&message, s.js.get(), "KV", "kv.zzz", nullptr, &error) == NATS_NOT_FOUND);
}

TEST_CASE("interop js: js_PurgeStream (all and filtered), js_DeleteStream, names and list", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("A", {"a.*"});
    s.add_stream("B", {"b.*"});
    for (int i = 0; i < 3; ++i) s.publish("a.x", "x");
    for (int i = 0; i < 3; ++i) s.publish("a.y", "y");

    jsOptions options;
    REQUIRE_OK(jsOptions_Init(&options));
    options.Stream.Purge.Subject = "a.x";
    options.Stream.Purge.Keep = 1;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PurgeStream(s.js.get(), "A", &options, &error));
    CHECK(s.info("A")->State.Msgs == 4);
    REQUIRE_OK(js_PurgeStream(s.js.get(), "A", nullptr, &error));
    const StreamInfo purged = s.info("A");
    CHECK(purged->State.Msgs == 0);
    CHECK(purged->State.LastSeq == 6);

    jsStreamNamesList* names = nullptr;
    REQUIRE_OK(js_StreamNames(&names, s.js.get(), nullptr, &error));
    REQUIRE(names->Count == 2);
    std::set<std::string> found{names->List[0], names->List[1]};
    CHECK(found == std::set<std::string>{"A", "B"});
    jsStreamNamesList_Destroy(names);

    jsStreamInfoList* list = nullptr;
    REQUIRE_OK(js_Streams(&list, s.js.get(), nullptr, &error));
    REQUIRE(list->Count == 2);
    jsStreamInfoList_Destroy(list);

    REQUIRE_OK(js_DeleteStream(s.js.get(), "A", nullptr, &error));
    CHECK(js_DeleteStream(s.js.get(), "A", nullptr, &error) == NATS_NOT_FOUND);
    names = nullptr;
    REQUIRE_OK(js_StreamNames(&names, s.js.get(), nullptr, &error));
    REQUIRE(names->Count == 1);
    CHECK(std::string(names->List[0]) == "B");
    jsStreamNamesList_Destroy(names);
}

TEST_CASE("interop js: a file stream survives a server restart", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("DURABLE", {"durable.*"});
    for (int i = 0; i < 10; ++i) s.publish("durable.a", "payload " + std::to_string(i));
    s.connection.reset();
    s.js.reset();
    s.server.restart();
    s.connection = interop::connect(s.server.url());
    s.js = JetStreamSetup::make_context(s.connection);
    const StreamInfo info = s.info("DURABLE");
    CHECK(info->State.Msgs == 10);
    CHECK(info->State.LastSeq == 10);
    CHECK(s.publish("durable.a", "after")->Sequence == 11);
}

TEST_CASE("interop js: an account without JetStream gets 10039, one with it works", "[interop][js]") {
    TempDir store;
    ServerOptions options;
    options.config = R"(
accounts {
  JS: { jetstream: enabled, users: [ {user: js, password: js_pw} ] }
  PLAIN: { users: [ {user: plain, password: plain_pw} ] }
}
)";
    options.args = {"-js", "-sd", store.path()};
    ServerProcess server(options);
    const auto account_info = [&](const char* user, const char* password, jsErrCode& error) {
        interop::Options connect_options = interop::make_options(server.url());
        REQUIRE_OK(natsOptions_SetUserInfo(connect_options.get(), user, password));
        Connection connection = interop::connect(connect_options);
        JsCtx js = JetStreamSetup::make_context(connection);
        jsAccountInfo* info = nullptr;
        error = static_cast<jsErrCode>(0);
        const natsStatus status = js_GetAccountInfo(&info, js.get(), nullptr, &error);
        if (info != nullptr) jsAccountInfo_Destroy(info);
        return status;
    };
    jsErrCode error = static_cast<jsErrCode>(0);
    CHECK(status_text(account_info("js", "js_pw", error)) == "OK");
    CHECK(account_info("plain", "plain_pw", error) != NATS_OK);
    CHECK(error == JSNotEnabledForAccountErr);
}

TEST_CASE("interop js: a KV bucket's stream layer (create, put, get, create/update rules, delete, purge)",
          "[interop][js]") {
    // Only what needs streams: watch, keys and history need consumers.
    JetStreamSetup s;
    kvConfig config;
    REQUIRE_OK(kvConfig_Init(&config));
    config.Bucket = "settings";
    config.History = 3;
    kvStore* raw = nullptr;
    REQUIRE_OK(js_CreateKeyValue(&raw, s.js.get(), &config));
    std::unique_ptr<kvStore, void (*)(kvStore*)> kv(raw, kvStore_Destroy);
    const StreamInfo info = s.info("KV_settings");
    CHECK(info->Config->MaxMsgsPerSubject == 3);
    CHECK(info->Config->AllowRollup);
    CHECK(info->Config->DenyDelete);
    CHECK(info->Config->AllowDirect);

    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "color", "red"));
    CHECK(revision == 1);
    kvEntry* entry = nullptr;
    REQUIRE_OK(kvStore_Get(&entry, kv.get(), "color"));
    CHECK(std::string(kvEntry_ValueString(entry)) == "red");
    CHECK(kvEntry_Revision(entry) == 1);
    kvEntry_Destroy(entry);

    CHECK(kvStore_Create(&revision, kv.get(), "color", "blue", 4) != NATS_OK);
    REQUIRE_OK(kvStore_Create(&revision, kv.get(), "size", "L", 1));
    CHECK(revision == 2);
    CHECK(kvStore_Update(&revision, kv.get(), "color", "blue", 4, 7) != NATS_OK);
    REQUIRE_OK(kvStore_Update(&revision, kv.get(), "color", "blue", 4, 1));
    CHECK(revision == 3);

    REQUIRE_OK(kvStore_Delete(kv.get(), "size"));
    entry = nullptr;
    CHECK(kvStore_Get(&entry, kv.get(), "size") == NATS_NOT_FOUND);
    // A deleted key may be created again.
    REQUIRE_OK(kvStore_Create(&revision, kv.get(), "size", "M", 1));
    CHECK(revision == 5);

    REQUIRE_OK(kvStore_Purge(kv.get(), "color", nullptr));
    CHECK(kvStore_Get(&entry, kv.get(), "color") == NATS_NOT_FOUND);
    // The purge marker rolled up every earlier revision of "color"; "size" keeps its history
    // (revisions 2, 4 = delete marker, 5).
    CHECK(s.info("KV_settings")->State.Msgs == 4);
    REQUIRE_OK(js_DeleteKeyValue(s.js.get(), "settings"));
}

TEST_CASE("interop js: limits, rollup, sealing and config errors reach nats.c with their codes", "[interop][js]") {
    JetStreamSetup s;
    s.add_stream("LIM", {"lim.*"}, [](jsStreamConfig& config) {
        config.MaxMsgs = 2;
        config.Discard = js_DiscardNew;
        config.MaxMsgSize = 8;
        config.AllowRollup = true;
    });
    CHECK(s.publish("lim.a", "1")->Sequence == 1);
    CHECK(s.publish("lim.a", "123456789", nullptr, NATS_ERR, JSStreamMessageExceedsMaximumErr) == nullptr);
    CHECK(s.publish("lim.b", "2")->Sequence == 2);
    CHECK(s.publish("lim.b", "3", nullptr, NATS_ERR, JSStreamStoreFailedErr) == nullptr);

    // Headers count toward max_msg_size.
    natsMsg* message = nullptr;
    REQUIRE_OK(natsMsg_Create(&message, "lim.c", nullptr, "r", 1));
    REQUIRE_OK(natsMsgHeader_Set(message, "Nats-Rollup", "all"));
    jsPubAck* raw_ack = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    CHECK(js_PublishMsg(&raw_ack, s.js.get(), message, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamMessageExceedsMaximumErr);
    natsMsg_Destroy(message);

    // Nats-Rollup: sub keeps only the rollup message of its subject.
    s.add_stream("ROLL", {"roll.*"}, [](jsStreamConfig& config) { config.AllowRollup = true; });
    for (int i = 0; i < 3; ++i) s.publish("roll.a", "a");
    REQUIRE_OK(natsMsg_Create(&message, "roll.a", nullptr, "last", 4));
    REQUIRE_OK(natsMsgHeader_Set(message, "Nats-Rollup", "sub"));
    raw_ack = nullptr;
    REQUIRE_OK(js_PublishMsg(&raw_ack, s.js.get(), message, nullptr, &error));
    PubAck rollup_ack(raw_ack);
    CHECK(rollup_ack->Sequence == 4);
    natsMsg_Destroy(message);
    CHECK(s.info("ROLL")->State.Msgs == 1);

    // Rollup without allow_rollup_hdrs.
    s.add_stream("PLAIN", {"plain.*"});
    REQUIRE_OK(natsMsg_Create(&message, "plain.a", nullptr, "x", 1));
    REQUIRE_OK(natsMsgHeader_Set(message, "Nats-Rollup", "sub"));
    raw_ack = nullptr;
    CHECK(js_PublishMsg(&raw_ack, s.js.get(), message, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamRollupFailedErr);
    natsMsg_Destroy(message);

    // Sealing through js_UpdateStream, then writes and deletes fail.
    jsStreamConfig config;
    REQUIRE_OK(jsStreamConfig_Init(&config));
    config.Name = "ROLL";
    const char* subjects[] = {"roll.*"};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.AllowRollup = true;
    config.Sealed = true;
    jsStreamInfo* info = nullptr;
    REQUIRE_OK(js_UpdateStream(&info, s.js.get(), &config, nullptr, &error));
    CHECK(info->Config->Sealed);
    CHECK(info->Config->DenyDelete);
    jsStreamInfo_Destroy(info);
    CHECK(s.publish("roll.a", "x", nullptr, NATS_ERR, JSStreamSealedErr) == nullptr);
    CHECK(js_DeleteMsg(s.js.get(), "ROLL", 4, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamSealedErr);

    // Storage can not change; subjects can not overlap another stream's.
    REQUIRE_OK(jsStreamConfig_Init(&config));
    config.Name = "PLAIN";
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    info = nullptr;
    CHECK(js_UpdateStream(&info, s.js.get(), &config, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamSubjectOverlapErr);
    const char* plain_subjects[] = {"plain.*"};
    config.Subjects = plain_subjects;
    config.Storage = js_MemoryStorage;
    CHECK(js_UpdateStream(&info, s.js.get(), &config, nullptr, &error) != NATS_OK);
    CHECK(error == JSStreamInvalidConfig);
    CHECK(info == nullptr);
}

TEST_CASE("interop js: a JetStream domain: nats.c's Domain option and PubAck.Domain", "[interop][js]") {
    TempDir store;
    ServerOptions options;
    options.config = "jetstream { domain: hub }\n";
    options.args = {"-js", "-sd", store.path()};
    ServerProcess server(options);
    Connection connection = interop::connect(server.url());
    jsOptions js_options;
    REQUIRE_OK(jsOptions_Init(&js_options));
    js_options.Wait = wait_ms;
    js_options.Domain = "hub";
    jsCtx* raw = nullptr;
    REQUIRE_OK(natsConnection_JetStream(&raw, connection.get(), &js_options));
    JsCtx js(raw);

    jsStreamConfig config;
    REQUIRE_OK(jsStreamConfig_Init(&config));
    config.Name = "D";
    const char* subjects[] = {"d.*"};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddStream(&info, js.get(), &config, nullptr, &error));
    jsStreamInfo_Destroy(info);
    jsPubAck* ack = nullptr;
    REQUIRE_OK(js_Publish(&ack, js.get(), "d.a", "x", 1, nullptr, &error));
    PubAck owned(ack);
    CHECK(owned->Sequence == 1);
    REQUIRE(owned->Domain != nullptr);
    CHECK(std::string(owned->Domain) == "hub");
    jsAccountInfo* account = nullptr;
    REQUIRE_OK(js_GetAccountInfo(&account, js.get(), nullptr, &error));
    CHECK(account->Streams == 1);
    REQUIRE(account->Domain != nullptr);
    CHECK(std::string(account->Domain) == "hub");
    jsAccountInfo_Destroy(account);

    // KV through the domain: nats.c (like nats.go and nats.js) puts to $JS.hub.API.$KV.<b>.<key>,
    // which the server maps to $KV.<b>.<key>.
    kvConfig kv_config;
    REQUIRE_OK(kvConfig_Init(&kv_config));
    kv_config.Bucket = "dkv";
    kvStore* raw_kv = nullptr;
    REQUIRE_OK(js_CreateKeyValue(&raw_kv, js.get(), &kv_config));
    std::unique_ptr<kvStore, void (*)(kvStore*)> kv(raw_kv, kvStore_Destroy);
    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "color", "red"));
    CHECK(revision == 1);
    kvEntry* entry = nullptr;
    REQUIRE_OK(kvStore_Get(&entry, kv.get(), "color"));
    CHECK(std::string(kvEntry_ValueString(entry)) == "red");
    kvEntry_Destroy(entry);
}
