// JetStream consumers through the official NATS C client (nats.c 3.x): js_AddConsumer and
// js_GetConsumerInfo, js_PullSubscribe + natsSubscription_Fetch + natsMsg_Ack/AckSync, push
// js_SubscribeSync with manual acks, redelivery after natsMsg_Nak, and a workqueue stream that
// empties as messages are acked. The same binary runs against nats-server (`-js -sd <temp dir>`)
// and herald-server; a case that fails against nats-server is a wrong test.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nats/nats.h>

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

using ConsumerTempDir = interop::TempDir;

struct ConsumerInfoDeleter {
    void operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
};
struct SubscriptionDeleter {
    void operator()(natsSubscription* sub) const { natsSubscription_Destroy(sub); }
};
struct MsgDeleter {
    void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};
struct MetaDeleter {
    void operator()(jsMsgMetaData* meta) const { jsMsgMetaData_Destroy(meta); }
};
using Ctx = interop::JsCtx;
using ConsumerInfo = std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter>;
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;
using Msg = std::unique_ptr<natsMsg, MsgDeleter>;
using Meta = std::unique_ptr<jsMsgMetaData, MetaDeleter>;

// A fetched batch, destroyed with its messages.
struct Batch {
    natsMsgList list{};
    natsStatus status = NATS_OK;
    ~Batch() { natsMsgList_Destroy(&list); }
    int size() const { return list.Count; }
    natsMsg* at(int i) const { return list.Msgs[i]; }
};

struct ConsumerSetup {
    ConsumerTempDir store;
    ServerProcess server{ServerOptions{{}, {"-js", "-sd", store.path()}}};
    Connection connection = interop::connect(server.url());
    Ctx js = make_context(connection);

    static Ctx make_context(const Connection& connection) {
        jsOptions options;
        REQUIRE_OK(jsOptions_Init(&options));
        options.Wait = wait_ms;
        jsCtx* raw = nullptr;
        REQUIRE_OK(natsConnection_JetStream(&raw, connection.get(), &options));
        return Ctx(raw);
    }

    void add_stream(const char* name,
                    const char* subject,
                    jsRetentionPolicy retention = js_LimitsPolicy) {
        jsStreamConfig config;
        REQUIRE_OK(jsStreamConfig_Init(&config));
        config.Name = name;
        config.Subjects = &subject;
        config.SubjectsLen = 1;
        config.Retention = retention;
        jsStreamInfo* info = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_AddStream(&info, js.get(), &config, nullptr, &error));
        jsStreamInfo_Destroy(info);
    }

    void publish(const char* subject, const std::string& data) {
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_Publish(nullptr,
                              js.get(),
                              subject,
                              data.data(),
                              static_cast<int>(data.size()),
                              nullptr,
                              &error));
    }

    ConsumerInfo consumer_info(const char* stream, const char* consumer) {
        jsConsumerInfo* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetConsumerInfo(&raw, js.get(), stream, consumer, nullptr, &error));
        return ConsumerInfo(raw);
    }

    std::uint64_t stream_messages(const char* stream) {
        jsStreamInfo* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(js_GetStreamInfo(&raw, js.get(), stream, nullptr, &error));
        const std::uint64_t messages = raw->State.Msgs;
        jsStreamInfo_Destroy(raw);
        return messages;
    }
};

std::string data_of(natsMsg* message) {
    return std::string(natsMsg_GetData(message),
                       static_cast<std::size_t>(natsMsg_GetDataLength(message)));
}

Meta meta_of(natsMsg* message) {
    jsMsgMetaData* raw = nullptr;
    REQUIRE_OK(natsMsg_GetMetaData(&raw, message));
    return Meta(raw);
}

std::unique_ptr<Batch> fetch(natsSubscription* sub, int batch, std::int64_t timeout_ms) {
    auto result = std::make_unique<Batch>();
    jsErrCode error = static_cast<jsErrCode>(0);
    result->status = natsSubscription_Fetch(&result->list, sub, batch, timeout_ms, &error);
    return result;
}

}  // namespace

TEST_CASE(
    "interop js consumer: js_AddConsumer fills defaults and js_GetConsumerInfo reports the "
    "position",
    "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 1; i <= 3; ++i)
        s.publish("orders.a", "m" + std::to_string(i));
    jsConsumerConfig config;
    REQUIRE_OK(jsConsumerConfig_Init(&config));
    config.Durable = "D1";
    config.AckPolicy = js_AckExplicit;
    jsConsumerInfo* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddConsumer(&raw, s.js.get(), "ORDERS", &config, nullptr, &error));
    const ConsumerInfo created(raw);
    CHECK(std::string(created->Stream) == "ORDERS");
    CHECK(std::string(created->Name) == "D1");
    CHECK(created->Config->AckWait == 30'000'000'000);
    CHECK(created->Config->MaxAckPending == 1000);
    CHECK(created->Config->MaxWaiting == 512);
    CHECK(created->Config->MaxDeliver == -1);
    CHECK(created->NumPending == 3);
    CHECK(created->Delivered.Stream == 0);

    const ConsumerInfo info = s.consumer_info("ORDERS", "D1");
    CHECK(info->NumPending == 3);
    CHECK(info->Created == created->Created);

    // Unknown consumer: NATS_NOT_FOUND with 10014.
    jsConsumerInfo* missing = nullptr;
    CHECK(status_text(js_GetConsumerInfo(&missing, s.js.get(), "ORDERS", "NOPE", nullptr, &error))
          == status_text(NATS_NOT_FOUND));
    CHECK(error == JSConsumerNotFoundErr);
    REQUIRE_OK(js_DeleteConsumer(s.js.get(), "ORDERS", "D1", nullptr, &error));
    CHECK(js_GetConsumerInfo(&missing, s.js.get(), "ORDERS", "D1", nullptr, &error)
          == NATS_NOT_FOUND);
}

TEST_CASE("interop js consumer: js_PullSubscribe, Fetch and Ack move the ack floor",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 1; i <= 3; ++i)
        s.publish("orders.a", "m" + std::to_string(i));
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "orders.*", "PULL", nullptr, nullptr, &error));
    const Subscription sub(raw);

    auto batch = fetch(sub.get(), 2, 2'000);
    REQUIRE_OK(batch->status);
    REQUIRE(batch->size() == 2);
    CHECK(data_of(batch->at(0)) == "m1");
    CHECK(data_of(batch->at(1)) == "m2");
    // A delivered message keeps the subject it was stored under, not the request's inbox.
    CHECK(std::string(natsMsg_GetSubject(batch->at(0))) == "orders.a");
    const Meta meta = meta_of(batch->at(1));
    CHECK(meta->Sequence.Stream == 2);
    CHECK(meta->Sequence.Consumer == 2);
    CHECK(meta->NumDelivered == 1);
    CHECK(meta->NumPending == 1);
    CHECK(std::string(meta->Stream) == "ORDERS");
    CHECK(std::string(meta->Consumer) == "PULL");
    REQUIRE_OK(natsMsg_Ack(batch->at(0), nullptr));
    REQUIRE_OK(natsMsg_AckSync(batch->at(1), nullptr, &error));
    ConsumerInfo info = s.consumer_info("ORDERS", "PULL");
    CHECK(info->AckFloor.Stream == 2);
    CHECK(info->NumAckPending == 0);
    CHECK(info->NumPending == 1);

    batch = fetch(sub.get(), 5, 1'000);
    REQUIRE_OK(batch->status);
    REQUIRE(batch->size() == 1);
    CHECK(data_of(batch->at(0)) == "m3");
    REQUIRE_OK(natsMsg_AckSync(batch->at(0), nullptr, &error));
    // Nothing left: the fetch times out.
    batch = fetch(sub.get(), 1, 500);
    CHECK(status_text(batch->status) == status_text(NATS_TIMEOUT));
    info = s.consumer_info("ORDERS", "PULL");
    CHECK(info->Delivered.Stream == 3);
    CHECK(info->AckFloor.Stream == 3);
}

// num_pending of a filtered consumer whose subject is interleaved with another: exact on both
// servers (nats-server FilteredState from the position): 10 at creation, 9..6 in the metadata of
// four deliveries, 6 in the info.
TEST_CASE("interop js consumer: num_pending of a filter interleaved with other subjects",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 0; i < 10; ++i) {
        s.publish("orders.a", "a" + std::to_string(i));
        s.publish("orders.b", "b" + std::to_string(i));
    }
    jsConsumerConfig config;
    REQUIRE_OK(jsConsumerConfig_Init(&config));
    config.Durable = "FA";
    config.AckPolicy = js_AckExplicit;
    config.FilterSubject = "orders.a";
    jsConsumerInfo* raw_info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddConsumer(&raw_info, s.js.get(), "ORDERS", &config, nullptr, &error));
    const ConsumerInfo created(raw_info);
    CHECK(created->NumPending == 10);
    natsSubscription* raw = nullptr;
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Stream = "ORDERS";
    options.Consumer = "FA";
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "orders.a", "FA", nullptr, &options, &error));
    const Subscription sub(raw);
    const auto batch = fetch(sub.get(), 4, 2'000);
    REQUIRE_OK(batch->status);
    REQUIRE(batch->size() == 4);
    for (int i = 0; i < 4; ++i) {
        const Meta meta = meta_of(batch->at(i));
        CHECK(meta->Sequence.Stream == static_cast<std::uint64_t>(2 * i + 1));
        CHECK(meta->NumPending == static_cast<std::uint64_t>(9 - i));
    }
    CHECK(s.consumer_info("ORDERS", "FA")->NumPending == 6);
}

TEST_CASE("interop js consumer: a nak'ed message is redelivered with a higher delivery count",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    s.publish("orders.a", "only");
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "orders.*", "NAKS", nullptr, nullptr, &error));
    const Subscription sub(raw);
    auto first = fetch(sub.get(), 1, 2'000);
    REQUIRE_OK(first->status);
    REQUIRE(first->size() == 1);
    CHECK(meta_of(first->at(0))->NumDelivered == 1);
    REQUIRE_OK(natsMsg_Nak(first->at(0), nullptr));
    auto second = fetch(sub.get(), 1, 2'000);
    REQUIRE_OK(second->status);
    REQUIRE(second->size() == 1);
    CHECK(data_of(second->at(0)) == "only");
    const Meta meta = meta_of(second->at(0));
    CHECK(meta->NumDelivered == 2);
    CHECK(meta->Sequence.Stream == 1);
    CHECK(meta->Sequence.Consumer == 2);
    REQUIRE_OK(natsMsg_AckSync(second->at(0), nullptr, &error));
    const ConsumerInfo info = s.consumer_info("ORDERS", "NAKS");
    CHECK(info->NumRedelivered == 0);
    CHECK(info->NumAckPending == 0);
    CHECK(info->AckFloor.Stream == 1);
}

TEST_CASE("interop js consumer: push js_SubscribeSync with manual acks",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 1; i <= 3; ++i)
        s.publish("orders.b", "m" + std::to_string(i));
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.ManualAck = true;
    options.Config.Durable = "PUSH";
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_SubscribeSync(&raw, s.js.get(), "orders.b", nullptr, &options, &error));
    const Subscription sub(raw);
    for (int i = 1; i <= 3; ++i) {
        natsMsg* message = nullptr;
        REQUIRE_OK(natsSubscription_NextMsg(&message, sub.get(), 2'000));
        const Msg owned(message);
        CHECK(data_of(message) == "m" + std::to_string(i));
        CHECK(std::string(natsMsg_GetSubject(message)) == "orders.b");
        CHECK(meta_of(message)->Sequence.Stream == static_cast<std::uint64_t>(i));
        REQUIRE_OK(natsMsg_AckSync(message, nullptr, &error));
    }
    s.publish("orders.b", "m4");
    natsMsg* message = nullptr;
    REQUIRE_OK(natsSubscription_NextMsg(&message, sub.get(), 2'000));
    const Msg owned(message);
    CHECK(data_of(message) == "m4");
    REQUIRE_OK(natsMsg_AckSync(message, nullptr, &error));
    const ConsumerInfo info = s.consumer_info("ORDERS", "PUSH");
    CHECK(info->Delivered.Stream == 4);
    CHECK(info->AckFloor.Stream == 4);
    CHECK(info->NumAckPending == 0);
    CHECK(info->PushBound);
    CHECK(std::string(info->Config->FilterSubject) == "orders.b");
}

TEST_CASE("interop js consumer: a workqueue stream empties as its consumer acks",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("JOBS", "jobs.*", js_WorkQueuePolicy);
    for (int i = 1; i <= 4; ++i)
        s.publish("jobs.x", "j" + std::to_string(i));
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_PullSubscribe(&raw, s.js.get(), "jobs.*", "WORKER", nullptr, nullptr, &error));
    const Subscription sub(raw);
    auto batch = fetch(sub.get(), 4, 2'000);
    REQUIRE_OK(batch->status);
    REQUIRE(batch->size() == 4);
    CHECK(s.stream_messages("JOBS") == 4);
    REQUIRE_OK(natsMsg_AckSync(batch->at(0), nullptr, &error));
    REQUIRE_OK(natsMsg_AckSync(batch->at(2), nullptr, &error));
    CHECK(s.stream_messages("JOBS") == 2);
    REQUIRE_OK(natsMsg_AckSync(batch->at(1), nullptr, &error));
    REQUIRE_OK(natsMsg_AckSync(batch->at(3), nullptr, &error));
    CHECK(s.stream_messages("JOBS") == 0);
}

namespace {

std::string header_of(natsMsg* message, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(message, key, &value) != NATS_OK || value == nullptr) return "";
    return value;
}

// The next message on `sub` (data or status), owned.
Msg next_on(natsSubscription* sub, std::int64_t timeout_ms = 2'000) {
    natsMsg* message = nullptr;
    REQUIRE_OK(natsSubscription_NextMsg(&message, sub, timeout_ms));
    return Msg(message);
}

}  // namespace

TEST_CASE("interop js consumer: raw MSG.NEXT requests end with nats-server's status lines",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    s.publish("orders.a", "m1");
    jsConsumerConfig config;
    REQUIRE_OK(jsConsumerConfig_Init(&config));
    config.Durable = "D1";
    config.AckPolicy = js_AckExplicit;
    config.MaxRequestBatch = 5;
    jsConsumerInfo* raw_info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddConsumer(&raw_info, s.js.get(), "ORDERS", &config, nullptr, &error));
    jsConsumerInfo_Destroy(raw_info);
    natsSubscription* raw_sub = nullptr;
    REQUIRE_OK(natsConnection_SubscribeSync(&raw_sub, s.connection.get(), "_INBOX.status"));
    const Subscription inbox(raw_sub);
    const auto next_request = [&](const std::string& consumer, const std::string& body) {
        REQUIRE_OK(natsConnection_PublishRequestString(
            s.connection.get(),
            ("$JS.API.CONSUMER.MSG.NEXT.ORDERS." + consumer).c_str(),
            "_INBOX.status",
            body.c_str()));
    };

    // no_wait with 1 of 3: the message, then 408 with what is still owed.
    next_request("D1", R"({"batch":3,"no_wait":true})");
    Msg data = next_on(inbox.get());
    CHECK(data_of(data.get()) == "m1");
    const std::string ack = natsMsg_GetReply(data.get());
    CHECK(ack.rfind("$JS.ACK.ORDERS.D1.1.1.1.", 0) == 0);
    CHECK(ack.substr(ack.rfind('.')) == ".0");  // Nothing pending after it.
    Msg status = next_on(inbox.get());
    CHECK(natsMsg_GetDataLength(status.get()) == 0);
    CHECK(header_of(status.get(), "Status") == "408");
    CHECK(header_of(status.get(), "Description") == "Request Timeout");
    CHECK(header_of(status.get(), "Nats-Pending-Messages") == "2");
    CHECK(header_of(status.get(), "Nats-Pending-Bytes") == "0");

    next_request("D1", R"({"batch":1,"no_wait":true})");
    status = next_on(inbox.get());
    CHECK(header_of(status.get(), "Status") == "404");
    CHECK(header_of(status.get(), "Description") == "No Messages");

    next_request("D1", R"({"batch":9})");
    status = next_on(inbox.get());
    CHECK(header_of(status.get(), "Status") == "409");
    CHECK(header_of(status.get(), "Description") == "Exceeded MaxRequestBatch of 5");

    next_request("D1", R"({"batch":2,"expires":300000000})");
    status = next_on(inbox.get());
    CHECK(header_of(status.get(), "Status") == "408");
    CHECK(header_of(status.get(), "Description") == "Request Timeout");
    CHECK(header_of(status.get(), "Nats-Pending-Messages") == "2");

    next_request("D1", "{bad");
    status = next_on(inbox.get());
    CHECK(header_of(status.get(), "Status") == "400");
    CHECK(header_of(status.get(), "Description").rfind("Bad Request - ", 0) == 0);

    // The double ack: an ack sent as a request gets an empty reply.
    natsMsg* reply = nullptr;
    REQUIRE_OK(
        natsConnection_RequestString(&reply, s.connection.get(), ack.c_str(), "+ACK", 2'000));
    const Msg owned_reply(reply);
    CHECK(natsMsg_GetDataLength(reply) == 0);
    const ConsumerInfo info = s.consumer_info("ORDERS", "D1");
    CHECK(info->AckFloor.Stream == 1);

    // A push consumer does not take pull requests.
    REQUIRE_OK(jsConsumerConfig_Init(&config));
    config.Durable = "P1";
    config.DeliverSubject = "dlv.p1";
    REQUIRE_OK(js_AddConsumer(&raw_info, s.js.get(), "ORDERS", &config, nullptr, &error));
    jsConsumerInfo_Destroy(raw_info);
    next_request("P1", "");
    status = next_on(inbox.get());
    CHECK(header_of(status.get(), "Status") == "409");
    CHECK(header_of(status.get(), "Description") == "Consumer is push based");
}

TEST_CASE("interop js consumer: an ordered push subscription gets every message in order",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 1; i <= 5; ++i)
        s.publish("orders.c", "o" + std::to_string(i));
    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Ordered = true;
    natsSubscription* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_SubscribeSync(&raw, s.js.get(), "orders.c", nullptr, &options, &error));
    const Subscription sub(raw);
    for (int i = 1; i <= 5; ++i) {
        natsMsg* message = nullptr;
        REQUIRE_OK(natsSubscription_NextMsg(&message, sub.get(), 2'000));
        const Msg owned(message);
        CHECK(data_of(message) == "o" + std::to_string(i));
        CHECK(meta_of(message)->Sequence.Stream == static_cast<std::uint64_t>(i));
    }
    s.publish("orders.c", "o6");
    natsMsg* message = nullptr;
    REQUIRE_OK(natsSubscription_NextMsg(&message, sub.get(), 2'000));
    const Msg owned(message);
    CHECK(data_of(message) == "o6");
}

TEST_CASE("interop js consumer: a durable's position survives a server restart",
          "[interop][js][consumer]") {
    ConsumerSetup s;
    s.add_stream("ORDERS", "orders.*");
    for (int i = 1; i <= 3; ++i)
        s.publish("orders.a", "m" + std::to_string(i));
    {
        natsSubscription* raw = nullptr;
        jsErrCode error = static_cast<jsErrCode>(0);
        REQUIRE_OK(
            js_PullSubscribe(&raw, s.js.get(), "orders.*", "KEEP", nullptr, nullptr, &error));
        const Subscription sub(raw);
        auto batch = fetch(sub.get(), 2, 2'000);
        REQUIRE_OK(batch->status);
        REQUIRE(batch->size() == 2);
        REQUIRE_OK(natsMsg_AckSync(batch->at(0), nullptr, &error));
    }
    s.js.reset();
    s.connection.reset();
    s.server.restart();
    s.connection = interop::connect(s.server.url());
    s.js = ConsumerSetup::make_context(s.connection);
    const ConsumerInfo info = s.consumer_info("ORDERS", "KEEP");
    CHECK(info->Delivered.Stream == 2);
    CHECK(info->Delivered.Consumer == 2);
    CHECK(info->AckFloor.Stream == 1);
    CHECK(info->NumAckPending == 1);
    CHECK(info->NumPending == 1);
}
