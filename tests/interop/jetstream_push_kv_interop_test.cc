// Async push subscriptions and KV watchers through the official NATS C client (nats.c 3.x):
// js_Subscribe with manual and automatic acks, durable and ephemeral consumers, a queue
// (deliver_group) of two members, and kvStore Watch/WatchAll/Keys/History/Status/PurgeDeletes.
// The same binary runs against nats-server (`-js -sd <temp dir>`) and herald-server; a case that
// fails against nats-server is a wrong test.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nats/nats.h>

#include "tests/interop/js_support.h"
#include "tests/interop/nats_support.h"
#include "tests/support/server_process.h"

namespace {

using herald::interop::Connection;
using herald::interop::Events;
using herald::interop::status_text;
using herald::interop::wait_ms;
using herald::test::ServerOptions;
using herald::test::ServerProcess;
namespace interop = herald::interop;

struct ConsumerInfoDeleter {
    void operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
};
struct KvDeleter {
    void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
};
struct WatcherDeleter {
    void operator()(kvWatcher* watcher) const { kvWatcher_Destroy(watcher); }
};
struct EntryDeleter {
    void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};
using ConsumerInfo = std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter>;
using Kv = std::unique_ptr<kvStore, KvDeleter>;
using Watcher = std::unique_ptr<kvWatcher, WatcherDeleter>;
using Entry = std::unique_ptr<kvEntry, EntryDeleter>;
using interop::Subscription;

struct PushSetup {
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

    void add_stream(const char* name, const char* subject) {
        jsStreamConfig config;
        REQUIRE_OK(jsStreamConfig_Init(&config));
        config.Name = name;
        config.Subjects = &subject;
        config.SubjectsLen = 1;
        jsStreamInfo* info = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_AddStream(&info, js.get(), &config, nullptr, &error));
        jsStreamInfo_Destroy(info);
    }

    void publish(const char* subject, const std::string& data) {
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_Publish(nullptr, js.get(), subject, data.data(), static_cast<int>(data.size()),
                              nullptr, &error));
    }

    ConsumerInfo consumer_info(const char* stream, const char* consumer) {
        jsConsumerInfo* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetConsumerInfo(&raw, js.get(), stream, consumer, nullptr, &error));
        return ConsumerInfo(raw);
    }

    // Acks travel apart from the callbacks (nats-server handles them on another goroutine), so
    // the ack floor is polled: every 10 ms, at most wait_ms. True once it reached sequence.
    bool wait_for_ack_floor(const char* stream, const char* consumer, std::uint64_t sequence) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        while (std::chrono::steady_clock::now() < deadline) {
            if (consumer_info(stream, consumer)->AckFloor.Stream >= sequence) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    Kv create_bucket(const char* bucket, std::uint8_t history) {
        kvConfig config;
        REQUIRE_OK(kvConfig_Init(&config));
        config.Bucket = bucket;
        config.History = history;
        kvStore* raw = nullptr;
        REQUIRE_OK(js_CreateKeyValue(&raw, js.get(), &config));
        return Kv(raw);
    }
};

std::string payload(natsMsg* message) {
    return std::string(natsMsg_GetData(message),
                       static_cast<std::size_t>(natsMsg_GetDataLength(message)));
}

// natsMsgHandler for ManualAck subscriptions: AckSync (waits for the server's confirmation),
// then records "<payload>" or "ack failed: <status>".
void ack_sync_and_record(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    jsErrCode error = static_cast<jsErrCode>(0);
    const natsStatus status = natsMsg_AckSync(message, nullptr, &error);
    auto* events = static_cast<Events*>(closure);
    events->add(status == NATS_OK ? payload(message) : "ack failed: " + status_text(status));
    natsMsg_Destroy(message);
}

std::vector<std::string> numbered(const std::string& prefix, int first, int last) {
    std::vector<std::string> values;
    for (int i = first; i <= last; ++i)
        values.push_back(prefix + std::to_string(i));
    return values;
}

// The next watcher entry; a null entry is the watcher's "initial values done" marker.
Entry next_entry(kvWatcher* watcher) {
    kvEntry* raw = nullptr;
    REQUIRE_OK(kvWatcher_Next(&raw, watcher, wait_ms));
    return Entry(raw);
}

std::string describe(const Entry& entry) {
    if (entry == nullptr) return "<initial values done>";
    std::string text = std::string(kvEntry_Key(entry.get())) + "=";
    switch (kvEntry_Operation(entry.get())) {
    case kvOp_Put: text += kvEntry_ValueString(entry.get()); break;
    case kvOp_Delete: text += "<deleted>"; break;
    case kvOp_Purge: text += "<purged>"; break;
    default: text += "<unknown>"; break;
    }
    return text + "@" + std::to_string(kvEntry_Revision(entry.get()));
}

}  // namespace

TEST_CASE("interop js push: js_Subscribe durable with manual AckSync gets old and new messages",
          "[interop][js][push]") {
    // Goal: an async push durable first delivers what was stored, then what arrives; every
    // AckSync is confirmed and the ack floor reaches the last sequence. Method: count callbacks.
    PushSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (const std::string& data : numbered("m", 1, 5))
        s.publish("orders.a", data);
    Events events;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Config.Durable = "MANUAL";
    options.ManualAck = true;
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_Subscribe(&raw, s.js.get(), "orders.a", ack_sync_and_record, &events, nullptr,
                            &options, &error));
    const Subscription sub(raw);
    REQUIRE(events.wait_for_count(5));
    for (const std::string& data : numbered("m", 6, 10))
        s.publish("orders.a", data);
    REQUIRE(events.wait_for_count(10));
    CHECK(events.snapshot() == numbered("m", 1, 10));

    const ConsumerInfo info = s.consumer_info("ORDERS", "MANUAL");
    CHECK(info->Config->AckPolicy == js_AckExplicit);
    CHECK(info->Config->DeliverSubject != nullptr);
    CHECK(info->Delivered.Stream == 10);
    CHECK(info->AckFloor.Stream == 10);
    CHECK(info->NumAckPending == 0);
    CHECK(info->NumPending == 0);
    REQUIRE_OK(natsSubscription_Unsubscribe(sub.get()));
}

TEST_CASE("interop js push: js_Subscribe acks automatically after the callback returns",
          "[interop][js][push]") {
    PushSetup s;
    s.add_stream("ORDERS", "orders.*");
    Events events;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Config.Durable = "AUTO";
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_Subscribe(&raw, s.js.get(), "orders.*", interop::record_message, &events, nullptr,
                            &options, &error));
    const Subscription sub(raw);
    for (const std::string& data : numbered("m", 1, 8))
        s.publish(data == "m4" ? "orders.b" : "orders.a", data);
    REQUIRE(events.wait_for_count(8));
    CHECK(events.snapshot() == numbered("m", 1, 8));
    CHECK(s.wait_for_ack_floor("ORDERS", "AUTO", 8));
    CHECK(s.consumer_info("ORDERS", "AUTO")->NumAckPending == 0);
}

TEST_CASE("interop js push: an ephemeral js_Subscribe consumer is deleted by Unsubscribe",
          "[interop][js][push]") {
    PushSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (const std::string& data : numbered("m", 1, 3))
        s.publish("orders.a", data);
    Events events;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Config.DeliverPolicy = js_DeliverLast;
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_Subscribe(&raw, s.js.get(), "orders.a", interop::record_message, &events, nullptr,
                            &options, &error));
    const Subscription sub(raw);
    REQUIRE(events.wait_for_count(1));
    s.publish("orders.a", "m4");
    REQUIRE(events.wait_for_count(2));
    CHECK(events.snapshot() == std::vector<std::string>{"m3", "m4"});

    jsConsumerInfo* raw_info = nullptr;
    REQUIRE_OK(natsSubscription_GetConsumerInfo(&raw_info, sub.get(), nullptr, &error));
    const ConsumerInfo info(raw_info);
    const std::string name = info->Name;
    CHECK(info->Config->Durable == nullptr);
    CHECK(info->Config->DeliverPolicy == js_DeliverLast);
    REQUIRE_OK(natsSubscription_Unsubscribe(sub.get()));
    jsConsumerInfo* gone = nullptr;
    CHECK(status_text(js_GetConsumerInfo(&gone, s.js.get(), "ORDERS", name.c_str(), nullptr, &error))
          == status_text(NATS_NOT_FOUND));
    CHECK(error == JSConsumerNotFoundErr);
}

TEST_CASE("interop js push: two js_Subscribe members of one queue get each message once",
          "[interop][js][push]") {
    // Goal: deliver_group. Method: two async subscriptions on two connections with the same
    // queue; the union of what they received is every message exactly once.
    PushSetup s;
    s.add_stream("JOBS", "jobs.*");
    const Connection other_connection = interop::connect(s.server.url());
    const interop::JsCtx other_js = PushSetup::make_context(other_connection);
    Events events;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Queue = "workers";
    options.Config.Durable = "WORKERS";
    natsSubscription* first_raw = nullptr;
    natsSubscription* second_raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_Subscribe(&first_raw, s.js.get(), "jobs.run", interop::record_message, &events,
                            nullptr, &options, &error));
    const Subscription first(first_raw);
    REQUIRE_OK(js_Subscribe(&second_raw, other_js.get(), "jobs.run", interop::record_message,
                            &events, nullptr, &options, &error));
    const Subscription second(second_raw);
    const std::vector<std::string> sent = numbered("job", 1, 30);
    for (const std::string& data : sent)
        s.publish("jobs.run", data);
    REQUIRE(events.wait_for_count(sent.size()));
    CHECK(s.wait_for_ack_floor("JOBS", "WORKERS", sent.size()));
    // Nothing was delivered twice: after the ack floor, no redelivery is due and the count stays.
    const std::vector<std::string> received = events.snapshot();
    CHECK(received.size() == sent.size());
    CHECK(std::set<std::string>(received.begin(), received.end())
          == std::set<std::string>(sent.begin(), sent.end()));
    const ConsumerInfo info = s.consumer_info("JOBS", "WORKERS");
    CHECK(std::string(info->Config->DeliverGroup) == "workers");
    CHECK(info->NumRedelivered == 0);
}

TEST_CASE("interop js kv: WatchAll and Watch send current values, a marker, then changes",
          "[interop][js][kv]") {
    PushSetup s;
    const Kv kv = s.create_bucket("watched", 5);
    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "a.one", "1"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "b.two", "2"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "a.one", "3"));

    kvWatcher* raw = nullptr;
    REQUIRE_OK(kvStore_WatchAll(&raw, kv.get(), nullptr));
    const Watcher all(raw);
    std::vector<std::string> seen;
    for (int i = 0; i < 3; ++i)
        seen.push_back(describe(next_entry(all.get())));
    CHECK(seen == std::vector<std::string>{"b.two=2@2", "a.one=3@3", "<initial values done>"});
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "c.three", "4"));
    REQUIRE_OK(kvStore_Delete(kv.get(), "b.two"));
    CHECK(describe(next_entry(all.get())) == "c.three=4@4");
    CHECK(describe(next_entry(all.get())) == "b.two=<deleted>@5");
    REQUIRE_OK(kvWatcher_Stop(all.get()));

    // A key filter with a wildcard and the full history of what it matches.
    kvWatchOptions options;
    REQUIRE_OK(kvWatchOptions_Init(&options));
    options.IncludeHistory = true;
    raw = nullptr;
    REQUIRE_OK(kvStore_Watch(&raw, kv.get(), "a.*", &options));
    const Watcher only_a(raw);
    CHECK(describe(next_entry(only_a.get())) == "a.one=1@1");
    CHECK(describe(next_entry(only_a.get())) == "a.one=3@3");
    CHECK(describe(next_entry(only_a.get())) == "<initial values done>");
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "c.three", "ignored"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "a.two", "7"));
    CHECK(describe(next_entry(only_a.get())) == "a.two=7@7");

    // An empty bucket's watcher sends only the marker.
    const Kv empty = s.create_bucket("empty", 1);
    raw = nullptr;
    REQUIRE_OK(kvStore_WatchAll(&raw, empty.get(), nullptr));
    const Watcher nothing(raw);
    CHECK(describe(next_entry(nothing.get())) == "<initial values done>");
}

TEST_CASE("interop js kv: Keys, History, Status and PurgeDeletes", "[interop][js][kv]") {
    PushSetup s;
    const Kv kv = s.create_bucket("settings", 10);
    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "color", "red"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "size", "L"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "color", "blue"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "shape", "round"));
    REQUIRE_OK(kvStore_Delete(kv.get(), "size"));
    REQUIRE_OK(kvStore_PutString(&revision, kv.get(), "color", "green"));
    CHECK(revision == 6);

    kvKeysList keys{};
    REQUIRE_OK(kvStore_Keys(&keys, kv.get(), nullptr));
    std::set<std::string> key_set;
    for (int i = 0; i < keys.Count; ++i)
        key_set.insert(keys.Keys[i]);
    kvKeysList_Destroy(&keys);
    CHECK(key_set == std::set<std::string>{"color", "shape"});

    kvEntryList history{};
    REQUIRE_OK(kvStore_History(&history, kv.get(), "color", nullptr));
    std::vector<std::string> described;
    for (int i = 0; i < history.Count; ++i) {
        kvEntry* entry = history.Entries[i];
        described.push_back(std::string(kvEntry_ValueString(entry)) + "@"
                            + std::to_string(kvEntry_Revision(entry)));
    }
    kvEntryList_Destroy(&history);
    CHECK(described == std::vector<std::string>{"red@1", "blue@3", "green@6"});
    kvEntryList none{};
    CHECK(status_text(kvStore_History(&none, kv.get(), "missing", nullptr))
          == status_text(NATS_NOT_FOUND));

    kvStatus* raw_status = nullptr;
    REQUIRE_OK(kvStore_Status(&raw_status, kv.get()));
    CHECK(std::string(kvStatus_Bucket(raw_status)) == "settings");
    CHECK(kvStatus_Values(raw_status) == 6);
    CHECK(kvStatus_History(raw_status) == 10);
    CHECK(kvStatus_Replicas(raw_status) == 1);
    kvStatus_Destroy(raw_status);

    // PurgeDeletes drops every key whose last entry is a delete marker, marker included.
    kvPurgeOptions purge;
    REQUIRE_OK(kvPurgeOptions_Init(&purge));
    purge.DeleteMarkersOlderThan = -1;
    REQUIRE_OK(kvStore_PurgeDeletes(kv.get(), &purge));
    raw_status = nullptr;
    REQUIRE_OK(kvStore_Status(&raw_status, kv.get()));
    CHECK(kvStatus_Values(raw_status) == 4);  // color 1, 3, 6 and shape 4.
    kvStatus_Destroy(raw_status);
    kvEntry* entry = nullptr;
    CHECK(status_text(kvStore_Get(&entry, kv.get(), "size")) == status_text(NATS_NOT_FOUND));
}

namespace {

// natsMsgHandler that records only the payload size (large payloads).
void record_size(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    static_cast<Events*>(closure)->add(std::to_string(natsMsg_GetDataLength(message)));
    natsMsg_Destroy(message);
}

// jsPubAckErrHandler: records "<err_code> <status>".
void record_publish_error(jsCtx*, jsPubAckErr* error, void* closure) {
    static_cast<Events*>(closure)->add(std::to_string(static_cast<int>(error->ErrCode)) + " "
                                       + status_text(error->Err));
}

struct FetchResult {
    natsMsgList list{};
    natsStatus status = NATS_OK;
    ~FetchResult() { natsMsgList_Destroy(&list); }
};

std::unique_ptr<FetchResult> fetch_request(natsSubscription* sub, jsFetchRequest& request) {
    auto result = std::make_unique<FetchResult>();
    result->status = natsSubscription_FetchRequest(&result->list, sub, &request);
    return result;
}

std::uint64_t deliveries_of(natsMsg* message) {
    jsMsgMetaData* meta = nullptr;
    REQUIRE_OK(natsMsg_GetMetaData(&meta, message));
    const std::uint64_t delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    return delivered;
}

}  // namespace

TEST_CASE("interop js push: js_Subscribe with flow control and heartbeats receives 2 MiB",
          "[interop][js][push]") {
    // Goal: the server's flow control requests (every 256 KiB on herald) are answered by nats.c
    // and delivery goes on to the end. Method: 200 messages of 10 KiB, counted by size.
    PushSetup s;
    s.add_stream("BLOBS", "blobs.*");
    Events events;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Config.Durable = "FC";
    options.Config.FlowControl = true;
    options.Config.Heartbeat = 1'000'000'000;
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_Subscribe(&raw, s.js.get(), "blobs.a", record_size, &events, nullptr, &options,
                            &error));
    const Subscription sub(raw);
    const std::string blob(10 * 1024, 'x');
    constexpr int blob_count = 200;
    for (int i = 0; i < blob_count; ++i)
        s.publish("blobs.a", blob);
    REQUIRE(events.wait_for_count(blob_count));
    CHECK(events.snapshot() == std::vector<std::string>(blob_count, std::to_string(blob.size())));
    const ConsumerInfo info = s.consumer_info("BLOBS", "FC");
    CHECK(info->Config->FlowControl);
    CHECK(info->Config->Heartbeat == 1'000'000'000);
    CHECK(info->Delivered.Stream == blob_count);
}

TEST_CASE("interop js consumer acks: InProgress, Term and NakWithDelay", "[interop][js][push]") {
    PushSetup s;
    s.add_stream("TASKS", "tasks.*");
    for (const std::string& data : numbered("t", 1, 3))
        s.publish("tasks.a", data);
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "tasks.a", "WORK", nullptr, &options, &error));
    const Subscription sub(raw);
    jsFetchRequest request;
    REQUIRE_OK(jsFetchRequest_Init(&request));
    request.Batch = 3;
    request.Expires = wait_ms * 1'000'000;
    const auto batch = fetch_request(sub.get(), request);
    REQUIRE_OK(batch->status);
    REQUIRE(batch->list.Count == 3);
    // t1 comes back in 2 s, t2 never, t3 is worked on, then acked.
    REQUIRE_OK(natsMsg_NakWithDelay(batch->list.Msgs[0], 2'000, nullptr));
    REQUIRE_OK(natsMsg_Term(batch->list.Msgs[1], nullptr));
    REQUIRE_OK(natsMsg_InProgress(batch->list.Msgs[2], nullptr));
    REQUIRE_OK(natsMsg_AckSync(batch->list.Msgs[2], nullptr, &error));

    // The delay holds t1 back: it is still pending, not yet redelivered, and comes back no
    // sooner than about 2 s after the nak (a lower bound only; the upper one is wait_ms).
    const auto nak_processed = std::chrono::steady_clock::now();
    const ConsumerInfo held = s.consumer_info("TASKS", "WORK");
    CHECK(held->NumAckPending == 1);
    CHECK(held->NumRedelivered == 0);
    auto again = std::make_unique<FetchResult>();
    again->status = natsSubscription_Fetch(&again->list, sub.get(), 1, wait_ms, &error);
    CHECK(std::chrono::steady_clock::now() - nak_processed >= std::chrono::milliseconds(1'500));
    REQUIRE_OK(again->status);
    REQUIRE(again->list.Count == 1);
    CHECK(payload(again->list.Msgs[0]) == "t1");
    CHECK(deliveries_of(again->list.Msgs[0]) == 2);
    REQUIRE_OK(natsMsg_AckSync(again->list.Msgs[0], nullptr, &error));
    const ConsumerInfo info = s.consumer_info("TASKS", "WORK");
    CHECK(info->NumAckPending == 0);
    CHECK(info->AckFloor.Stream == 3);
    CHECK(info->NumRedelivered == 0);
}

TEST_CASE("interop js consumer: FetchRequest with MaxBytes stops at the byte budget",
          "[interop][js][push]") {
    PushSetup s;
    s.add_stream("SIZED", "sized.*");
    const std::string kilobyte(1000, 'k');
    for (int i = 0; i < 10; ++i)
        s.publish("sized.a", kilobyte);
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "sized.a", "SIZED", nullptr, nullptr, &error));
    const Subscription sub(raw);
    jsFetchRequest request;
    REQUIRE_OK(jsFetchRequest_Init(&request));
    request.Batch = 10;
    request.MaxBytes = 3500;  // Three messages of about 1 KiB fit, the fourth does not.
    request.Expires = wait_ms * 1'000'000;
    const auto batch = fetch_request(sub.get(), request);
    REQUIRE_OK(batch->status);
    CHECK(batch->list.Count == 3);
    request.Batch = 7;  // The rest, so the request completes without waiting for Expires.
    request.MaxBytes = 0;
    request.Heartbeat = 1'000'000'000;
    const auto rest = fetch_request(sub.get(), request);
    REQUIRE_OK(rest->status);
    CHECK(rest->list.Count == 7);
}

TEST_CASE("interop js publish: js_PublishMsgAsync reports a failed expectation to ErrHandler",
          "[interop][js][push]") {
    PushSetup s;
    s.add_stream("ORDERS", "orders.*");
    Events errors;
    jsOptions js_options;
    REQUIRE_OK(jsOptions_Init(&js_options));
    js_options.Wait = wait_ms;
    js_options.PublishAsync.ErrHandler = record_publish_error;
    js_options.PublishAsync.ErrHandlerClosure = &errors;
    jsCtx* raw_js = nullptr;
    REQUIRE_OK(natsConnection_JetStream(&raw_js, s.connection.get(), &js_options));
    const interop::JsCtx js(raw_js);
    for (int i = 0; i < 3; ++i) {
        natsMsg* message = nullptr;
        REQUIRE_OK(natsMsg_Create(&message, "orders.a", nullptr, "ok", 2));
        REQUIRE_OK(js_PublishMsgAsync(js.get(), &message, nullptr));
    }
    jsPubOptions expect;
    REQUIRE_OK(jsPubOptions_Init(&expect));
    expect.ExpectLastSeq = 99;
    natsMsg* message = nullptr;
    REQUIRE_OK(natsMsg_Create(&message, "orders.a", nullptr, "late", 4));
    REQUIRE_OK(js_PublishMsgAsync(js.get(), &message, &expect));
    jsPubOptions complete;
    REQUIRE_OK(jsPubOptions_Init(&complete));
    complete.MaxWait = wait_ms;
    REQUIRE_OK(js_PublishAsyncComplete(js.get(), &complete));
    REQUIRE(errors.wait_for_count(1));
    CHECK(errors.snapshot()
          == std::vector<std::string>{std::to_string(static_cast<int>(JSStreamWrongLastSequenceErr))
                                      + " " + status_text(NATS_ERR)});
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_GetStreamInfo(&info, js.get(), "ORDERS", nullptr, &error));
    CHECK(info->State.Msgs == 3);
    jsStreamInfo_Destroy(info);
}

TEST_CASE("interop js consumer: js_UpdateConsumer, js_Consumers and js_ConsumerNames",
          "[interop][js][push]") {
    PushSetup s;
    s.add_stream("ORDERS", "orders.*");
    jsConsumerConfig config;
    REQUIRE_OK(jsConsumerConfig_Init(&config));
    config.Durable = "EDIT";
    config.AckPolicy = js_AckExplicit;
    config.Description = "first";
    jsConsumerInfo* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddConsumer(&raw, s.js.get(), "ORDERS", &config, nullptr, &error));
    jsConsumerInfo_Destroy(raw);
    config.Description = "second";
    config.MaxDeliver = 4;
    config.AckWait = 5'000'000'000;
    raw = nullptr;
    REQUIRE_OK(js_UpdateConsumer(&raw, s.js.get(), "ORDERS", &config, nullptr, &error));
    const ConsumerInfo updated(raw);
    CHECK(std::string(updated->Config->Description) == "second");
    CHECK(updated->Config->MaxDeliver == 4);
    CHECK(updated->Config->AckWait == 5'000'000'000);
    // A change that may not be made: the deliver policy.
    config.DeliverPolicy = js_DeliverNew;
    raw = nullptr;
    CHECK(js_UpdateConsumer(&raw, s.js.get(), "ORDERS", &config, nullptr, &error) != NATS_OK);
    CHECK(error == JSConsumerCreateErr);

    jsConsumerConfig other;
    REQUIRE_OK(jsConsumerConfig_Init(&other));
    other.Durable = "OTHER";
    other.AckPolicy = js_AckExplicit;
    raw = nullptr;
    REQUIRE_OK(js_AddConsumer(&raw, s.js.get(), "ORDERS", &other, nullptr, &error));
    jsConsumerInfo_Destroy(raw);

    jsConsumerNamesList* names = nullptr;
    REQUIRE_OK(js_ConsumerNames(&names, s.js.get(), "ORDERS", nullptr, &error));
    std::set<std::string> name_set;
    for (int i = 0; i < names->Count; ++i)
        name_set.insert(names->List[i]);
    jsConsumerNamesList_Destroy(names);
    CHECK(name_set == std::set<std::string>{"EDIT", "OTHER"});
    jsConsumerInfoList* list = nullptr;
    REQUIRE_OK(js_Consumers(&list, s.js.get(), "ORDERS", nullptr, &error));
    REQUIRE(list->Count == 2);
    std::set<std::string> listed;
    for (int i = 0; i < list->Count; ++i)
        listed.insert(list->List[i]->Name);
    jsConsumerInfoList_Destroy(list);
    CHECK(listed == name_set);
}
