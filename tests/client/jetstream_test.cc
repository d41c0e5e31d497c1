// The JetStream client (engine/client/jetstream.h) against a herald Server with JetStream, in one
// simulated world: management calls, publish with PubAck and its header options, async publish,
// message get/delete, pull fetch with its status messages, acks, push and ordered push
// subscriptions. Every wait is bounded in simulation steps; no real time.
#include <catch2/catch.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "engine/client/jetstream.h"
#include "tests/client/js_fixture.h"

using herald::Duration;
using herald::client::AckPolicy;
using herald::client::ConsumerConfig;
using herald::client::ConsumerInfo;
using herald::client::DeliverPolicy;
using herald::client::Done;
using herald::client::FetchOptions;
using herald::client::Headers;
using herald::client::JsErrc;
using herald::client::JsMsg;
using herald::client::JsResult;
using herald::client::MsgGetRequest;
using herald::client::PubAck;
using herald::client::PublishOptions;
using herald::client::PullSubscription;
using herald::client::PurgeOptions;
using herald::client::PushSubscription;
using herald::client::StorageType;
using herald::client::StoredMsg;
using herald::client::StreamConfig;
using herald::client::StreamInfo;
using herald::client::SubscribeOptions;
using herald::testing::ClientJsFixture;

namespace {

StreamConfig orders(StorageType storage = StorageType::file) {
    StreamConfig config;
    config.name = "ORDERS";
    config.subjects = {"orders.>"};
    config.storage = storage;
    return config;
}

PullSubscription pull(ClientJsFixture& f, const std::string& durable, AckPolicy ack = AckPolicy::explicit_ack,
                      Duration ack_wait = Duration::seconds(30)) {
    ConsumerConfig config;
    config.durable_name = durable;
    config.ack_policy = ack;
    config.ack_wait = ack_wait;
    auto sub = f.await<PullSubscription>([&](auto cb) { f.js->pull_subscribe("ORDERS", config, std::move(cb)); });
    INFO((sub ? std::string("ok") : sub.error().message()));
    REQUIRE(sub);
    return *sub;
}

std::vector<JsMsg> fetch(ClientJsFixture& f, PullSubscription& sub, FetchOptions options) {
    auto msgs = f.await<std::vector<JsMsg>>([&](auto cb) { sub.fetch(options, std::move(cb)); });
    INFO((msgs ? std::string("ok") : msgs.error().message()));
    REQUIRE(msgs);
    return std::move(*msgs);
}

}  // namespace

TEST_CASE("jetstream client: ack subjects parse in the v1 (9-token) and v2 (12-token) forms", "[client][jetstream]") {
    auto v1 = herald::client::parse_ack_subject("$JS.ACK.ORDERS.C1.2.17.5.1795693361049815094.3");
    REQUIRE(v1);
    CHECK(v1->stream == "ORDERS");
    CHECK(v1->consumer == "C1");
    CHECK(v1->num_delivered == 2);
    CHECK(v1->stream_sequence == 17);
    CHECK(v1->consumer_sequence == 5);
    CHECK(v1->timestamp_ns == 1795693361049815094);
    CHECK(v1->num_pending == 3);
    CHECK(v1->domain.empty());
    auto v2 = herald::client::parse_ack_subject("$JS.ACK.hub.ACCHASH.ORDERS.C1.1.9.4.1795693361049815094.0.r4nd0m");
    REQUIRE(v2);
    CHECK(v2->domain == "hub");
    CHECK(v2->stream == "ORDERS");
    CHECK(v2->stream_sequence == 9);
    CHECK(v2->consumer_sequence == 4);
    CHECK(v2->num_pending == 0);
    auto no_domain = herald::client::parse_ack_subject("$JS.ACK._.ACCHASH.S.C.1.1.1.1.0.x");
    REQUIRE(no_domain);
    CHECK(no_domain->domain.empty());
    CHECK_FALSE(herald::client::parse_ack_subject("$JS.ACK.S.C.1.1.1"));
    CHECK_FALSE(herald::client::parse_ack_subject("_INBOX.abc.def"));
    CHECK_FALSE(herald::client::parse_ack_subject("$JS.ACK.S.C.x.1.1.1.0"));
}

TEST_CASE("jetstream client: RFC 3339 times round-trip through Unix nanoseconds", "[client][jetstream]") {
    CHECK(herald::client::parse_rfc3339_ns("1970-01-01T00:00:00Z") == 0);
    CHECK(herald::client::parse_rfc3339_ns("2026-11-26T11:42:31.80978211Z") == 1795693351809782110);
    CHECK(herald::client::format_rfc3339_ns(1795693351809782110) == "2026-11-26T11:42:31.80978211Z");
    CHECK(herald::client::parse_rfc3339_ns("2026-11-26T12:42:31+01:00") ==
          herald::client::parse_rfc3339_ns("2026-11-26T11:42:31Z"));
    // Go's zero time is outside int64 nanoseconds (1677..2262): not representable, not wrapped.
    CHECK_FALSE(herald::client::parse_rfc3339_ns("0001-01-01T00:00:00Z"));
    CHECK(herald::client::format_rfc3339_ns(-1) == "1969-12-31T23:59:59.999999999Z");
    CHECK_FALSE(herald::client::parse_rfc3339_ns("2026-11-26"));
    CHECK_FALSE(herald::client::parse_rfc3339_ns("2026-13-01T00:00:00Z"));
}

TEST_CASE("jetstream client: streams are added, read, updated, listed, purged and deleted", "[client][jetstream][sim]") {
    ClientJsFixture f;
    auto account = f.await<herald::client::AccountInfo>([&](auto cb) { f.js->account_info(std::move(cb)); });
    REQUIRE(account);
    CHECK(account->streams == 0);
    CHECK(account->limits.max_streams == -1);

    StreamInfo created = f.add_stream(orders());
    CHECK(created.did_create);
    CHECK(created.config.name == "ORDERS");
    CHECK(created.config.duplicate_window == Duration::seconds(120));
    // Adding the same config again is idempotent; a different one is refused with 10058.
    CHECK(f.add_stream(orders()).config.subjects == std::vector<std::string>{"orders.>"});
    StreamConfig other = orders();
    other.subjects = {"other.>"};
    other.storage = StorageType::memory;
    auto conflict = f.await<StreamInfo>([&](auto cb) { f.js->add_stream(other, std::move(cb)); });
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == JsErrc::stream_name_in_use);
    CHECK(conflict.error().api.code == 400);
    CHECK(conflict.error().api.err_code == 10058);

    for (int i = 0; i < 3; ++i) f.publish("orders.a", "a" + std::to_string(i));
    f.publish("orders.b", "b");

    StreamConfig updated = orders();
    updated.max_msgs_per_subject = 10;
    updated.description = "orders of the day";
    auto after = f.await<StreamInfo>([&](auto cb) { f.js->update_stream(updated, std::move(cb)); });
    REQUIRE(after);
    CHECK(after->config.max_msgs_per_subject == 10);
    CHECK(after->config.description == "orders of the day");

    herald::client::StreamInfoOptions details;
    details.subjects_filter = ">";
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("ORDERS", details, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->state.messages == 4);
    CHECK(info->state.last_seq == 4);
    CHECK(info->state.subjects == std::map<std::string, std::uint64_t>{{"orders.a", 3}, {"orders.b", 1}});
    CHECK(herald::client::parse_rfc3339_ns(info->created).has_value());

    StreamConfig logs;
    logs.name = "LOGS";
    logs.subjects = {"logs.*"};
    f.add_stream(logs);
    auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->stream_names("", std::move(cb)); });
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"LOGS", "ORDERS"});
    auto filtered = f.await<std::vector<std::string>>([&](auto cb) { f.js->stream_names("logs.x", std::move(cb)); });
    REQUIRE(filtered);
    CHECK(*filtered == std::vector<std::string>{"LOGS"});
    auto list = f.await<std::vector<StreamInfo>>([&](auto cb) { f.js->streams("", std::move(cb)); });
    REQUIRE(list);
    REQUIRE(list->size() == 2);
    CHECK(list->at(1).state.messages == 4);

    PurgeOptions keep_one;
    keep_one.filter = "orders.a";
    keep_one.keep = 1;
    auto purged = f.await<std::uint64_t>([&](auto cb) { f.js->purge_stream("ORDERS", keep_one, std::move(cb)); });
    REQUIRE(purged);
    CHECK(*purged == 2);
    auto all = f.await<std::uint64_t>([&](auto cb) { f.js->purge_stream("ORDERS", {}, std::move(cb)); });
    REQUIRE(all);
    CHECK(*all == 2);

    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_stream("LOGS", std::move(cb)); }));
    auto gone = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("LOGS", std::move(cb)); });
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == JsErrc::stream_not_found);
    CHECK(gone.error().api.err_code == 10059);
    CHECK(gone.error().api.description == "stream not found");
    auto bad = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("a.b", std::move(cb)); });
    CHECK(bad.error().code == JsErrc::invalid_argument);
}

TEST_CASE("jetstream client: STREAM.NAMES and STREAM.LIST are read page by page", "[client][jetstream][sim]") {
    // Goal: names/list return every stream when the server pages (list: 256 per page).
    // Method: 260 memory streams, then compare the client's full lists with what was made.
    ClientJsFixture f;
    std::vector<std::string> made;
    for (int i = 0; i < 260; ++i) {
        StreamConfig config;
        char name[16];
        std::snprintf(name, sizeof name, "S%03d", i);
        config.name = name;
        config.storage = StorageType::memory;
        made.push_back(name);
        f.add_stream(config);
    }
    auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->stream_names("", std::move(cb)); });
    REQUIRE(names);
    CHECK(*names == made);
    auto list = f.await<std::vector<StreamInfo>>([&](auto cb) { f.js->streams("", std::move(cb)); });
    REQUIRE(list);
    REQUIRE(list->size() == 260);
    CHECK(list->back().config.name == "S259");
}

TEST_CASE("jetstream client: publish gets a PubAck and the header options are enforced", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    PubAck first = f.publish("orders.new", "one");
    CHECK(first.stream == "ORDERS");
    CHECK(first.sequence == 1);
    CHECK_FALSE(first.duplicate);

    PublishOptions with_id;
    with_id.msg_id = "m-1";
    CHECK(f.publish("orders.new", "two", with_id).sequence == 2);
    PubAck duplicate = f.publish("orders.new", "two again", with_id);
    CHECK(duplicate.duplicate);
    CHECK(duplicate.sequence == 2);

    PublishOptions last_seq;
    last_seq.expected_last_sequence = 1;  // it is 2
    auto wrong = f.await<PubAck>([&](auto cb) { f.js->publish("orders.new", "x", last_seq, std::move(cb)); });
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == JsErrc::wrong_last_sequence);
    CHECK(wrong.error().api.code == 400);
    CHECK(wrong.error().api.err_code == 10071);
    CHECK(wrong.error().api.description == "wrong last sequence: 2");
    last_seq.expected_last_sequence = 2;
    CHECK(f.publish("orders.new", "three", last_seq).sequence == 3);

    PublishOptions subject_seq;
    subject_seq.expected_last_subject_sequence = 0;
    CHECK(f.publish("orders.other", "first on subject", subject_seq).sequence == 4);
    auto taken = f.await<PubAck>([&](auto cb) { f.js->publish("orders.other", "x", subject_seq, std::move(cb)); });
    CHECK(taken.error().code == JsErrc::wrong_last_sequence);

    PublishOptions stream;
    stream.expected_stream = "NOPE";
    auto not_stream = f.await<PubAck>([&](auto cb) { f.js->publish("orders.new", "x", stream, std::move(cb)); });
    CHECK(not_stream.error().code == JsErrc::api_error);
    CHECK(not_stream.error().api.err_code == 10060);

    PublishOptions last_id;
    last_id.expected_last_msg_id = "m-0";
    auto wrong_id = f.await<PubAck>([&](auto cb) { f.js->publish("orders.new", "x", last_id, std::move(cb)); });
    CHECK(wrong_id.error().code == JsErrc::wrong_last_msg_id);

    // No stream listens: 503 no responders, retried publish_retry_attempts times 250ms apart.
    const auto before = f.world.now();
    auto nobody = f.await<PubAck>([&](auto cb) { f.js->publish("nowhere", "x", {}, std::move(cb)); });
    CHECK(nobody.error().code == JsErrc::no_stream_response);
    CHECK(f.world.now().since(before) >= Duration::milliseconds(500));
}

TEST_CASE("jetstream client: publish_async bounds the outstanding acks and reports each", "[client][jetstream][sim]") {
    herald::client::JetStreamOptions options;
    options.max_pending_async = 3;
    ClientJsFixture f(1, options);
    f.add_stream(orders());
    std::vector<std::uint64_t> acked;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(f.js->publish_async("orders.a", {}, "x", {}, [&](JsResult<PubAck> ack) {
            REQUIRE(ack);
            acked.push_back(ack->sequence);
        }));
    }
    CHECK(f.js->publish_async_pending() == 3);
    auto refused = f.js->publish_async("orders.a", {}, "x", {}, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == JsErrc::too_many_pending);
    bool complete = false;
    f.js->publish_async_complete([&] { complete = true; });
    REQUIRE(f.wait([&] { return complete; }));
    CHECK(acked == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(f.js->publish_async_pending() == 0);
    REQUIRE(f.js->publish_async("orders.a", {}, "x", {}, {}));
    bool again = false;
    f.js->publish_async_complete([&] { again = true; });
    REQUIRE(f.wait([&] { return again; }));
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("ORDERS", std::move(cb)); });
    CHECK(info->state.messages == 4);
}

TEST_CASE("jetstream client: messages are read by sequence, by subject, directly, and deleted", "[client][jetstream][sim]") {
    ClientJsFixture f;
    StreamConfig config = orders();
    config.allow_direct = true;
    f.add_stream(config);
    f.publish("orders.a", "one");
    Headers headers{{"Trace", "t-1"}};
    REQUIRE(f.await<PubAck>([&](auto cb) { f.js->publish("orders.b", headers, "two", {}, std::move(cb)); }));
    f.publish("orders.a", "three");

    auto by_seq = f.await<StoredMsg>([&](auto cb) { f.js->get_msg("ORDERS", 2, std::move(cb)); });
    REQUIRE(by_seq);
    CHECK(by_seq->subject == "orders.b");
    CHECK(by_seq->data == "two");
    CHECK(by_seq->headers.get("Trace") == "t-1");
    CHECK(by_seq->time_ns > 0);
    auto last = f.await<StoredMsg>([&](auto cb) { f.js->get_last_msg("ORDERS", "orders.a", std::move(cb)); });
    REQUIRE(last);
    CHECK(last->sequence == 3);
    CHECK(last->data == "three");
    MsgGetRequest next;
    next.seq = 2;
    next.next_by_subject = "orders.a";
    auto next_msg = f.await<StoredMsg>([&](auto cb) { f.js->get_msg("ORDERS", next, std::move(cb)); });
    REQUIRE(next_msg);
    CHECK(next_msg->sequence == 3);

    auto direct = f.await<StoredMsg>([&](auto cb) { f.js->direct_get_last("ORDERS", "orders.b", std::move(cb)); });
    REQUIRE(direct);
    CHECK(direct->sequence == 2);
    CHECK(direct->data == "two");
    CHECK(direct->headers.get("Trace") == "t-1");
    CHECK(direct->headers.get("Nats-Stream") == "ORDERS");
    CHECK(direct->time_ns == by_seq->time_ns);
    MsgGetRequest first;
    first.seq = 1;
    auto direct_seq = f.await<StoredMsg>([&](auto cb) { f.js->direct_get("ORDERS", first, std::move(cb)); });
    REQUIRE(direct_seq);
    CHECK(direct_seq->data == "one");

    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_msg("ORDERS", 1, false, std::move(cb)); }));
    auto deleted = f.await<StoredMsg>([&](auto cb) { f.js->get_msg("ORDERS", 1, std::move(cb)); });
    REQUIRE_FALSE(deleted);
    CHECK(deleted.error().code == JsErrc::message_not_found);
    CHECK(deleted.error().api.err_code == 10037);
    auto direct_missing = f.await<StoredMsg>([&](auto cb) { f.js->direct_get("ORDERS", first, std::move(cb)); });
    CHECK(direct_missing.error().code == JsErrc::message_not_found);
    auto no_subject = f.await<StoredMsg>([&](auto cb) { f.js->direct_get_last("ORDERS", "orders.zz", std::move(cb)); });
    CHECK(no_subject.error().code == JsErrc::message_not_found);
}

TEST_CASE("jetstream client: consumers are added, read, listed and deleted", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    f.publish("orders.a", "1");
    f.publish("orders.b", "2");
    ConsumerConfig durable;
    durable.durable_name = "D1";
    durable.filter_subject = "orders.a";
    durable.ack_wait = Duration::seconds(10);
    auto created = f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("ORDERS", durable, std::move(cb)); });
    REQUIRE(created);
    CHECK(created->name == "D1");
    CHECK(created->stream_name == "ORDERS");
    CHECK(created->config.ack_wait == Duration::seconds(10));
    CHECK(created->config.filter_subject == "orders.a");
    CHECK(created->num_pending == 1);
    ConsumerConfig named;
    named.name = "N2";
    named.ack_policy = AckPolicy::none;
    REQUIRE(f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("ORDERS", named, std::move(cb)); }));
    ConsumerConfig ephemeral;
    auto eph = f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("ORDERS", ephemeral, std::move(cb)); });
    REQUIRE(eph);
    CHECK(eph->name.size() == 8);

    auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", "D1", std::move(cb)); });
    REQUIRE(info);
    CHECK(info->config.durable_name == "D1");
    auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->consumer_names("ORDERS", std::move(cb)); });
    REQUIRE(names);
    CHECK(names->size() == 3);
    auto list = f.await<std::vector<ConsumerInfo>>([&](auto cb) { f.js->consumers("ORDERS", std::move(cb)); });
    REQUIRE(list);
    CHECK(list->size() == 3);

    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_consumer("ORDERS", "D1", std::move(cb)); }));
    auto gone = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", "D1", std::move(cb)); });
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == JsErrc::consumer_not_found);
    CHECK(gone.error().api.err_code == 10014);
    auto no_stream = f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("NOPE", durable, std::move(cb)); });
    CHECK(no_stream.error().code == JsErrc::stream_not_found);
}

TEST_CASE("jetstream client: fetch collects a batch, ends on 404 / 408, and reports metadata", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    for (int i = 1; i <= 5; ++i) f.publish("orders.a", "m" + std::to_string(i));
    PullSubscription sub = pull(f, "PULL");

    auto batch = fetch(f, sub, FetchOptions{3, Duration::seconds(5), false, 0});
    REQUIRE(batch.size() == 3);
    CHECK(batch[0].data() == "m1");
    CHECK(batch[2].data() == "m3");
    auto meta = batch[2].metadata();
    REQUIRE(meta);
    CHECK(meta->stream == "ORDERS");
    CHECK(meta->consumer == "PULL");
    CHECK(meta->stream_sequence == 3);
    CHECK(meta->consumer_sequence == 3);
    CHECK(meta->num_delivered == 1);
    CHECK(meta->num_pending == 2);
    for (auto& m : batch) REQUIRE(m.ack());

    // Asking for more than there is: the 2 left, then the server's 408 at expiry ends the fetch.
    const auto before = f.world.now();
    auto rest = fetch(f, sub, FetchOptions{10, Duration::seconds(2), false, 0});
    CHECK(rest.size() == 2);
    CHECK(f.world.now().since(before) >= Duration::seconds(2));
    for (auto& m : rest) REQUIRE(m.ack());

    // no_wait with nothing pending: 404 No Messages at once, an empty batch.
    const auto empty_at = f.world.now();
    auto none = fetch(f, sub, FetchOptions{5, Duration::seconds(5), true, 0});
    CHECK(none.empty());
    CHECK(f.world.now().since(empty_at) < Duration::seconds(1));

    // A waiting fetch gets a message published after it started.
    std::optional<JsResult<std::vector<JsMsg>>> waiting;
    sub.fetch(FetchOptions{1, Duration::seconds(5), false, 0}, [&](auto r) { waiting.emplace(std::move(r)); });
    f.world.run_for(Duration::milliseconds(100));
    CHECK_FALSE(waiting.has_value());
    f.publish("orders.a", "late");
    REQUIRE(f.wait([&] { return waiting.has_value(); }));
    REQUIRE(*waiting);
    REQUIRE((*waiting)->size() == 1);
    CHECK((*waiting)->at(0).data() == "late");
}

TEST_CASE("jetstream client: nak redelivers, term stops, in_progress extends, double acks fail", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    f.publish("orders.a", "x");
    f.publish("orders.a", "y");
    PullSubscription sub = pull(f, "W", AckPolicy::explicit_ack, Duration::seconds(2));

    auto first = fetch(f, sub, FetchOptions{1, Duration::seconds(1), false, 0});
    REQUIRE(first.size() == 1);
    REQUIRE(first[0].nak());
    auto again = first[0].ack();
    REQUIRE_FALSE(again);
    CHECK(again.error().code == JsErrc::already_acked);
    auto redelivered = fetch(f, sub, FetchOptions{1, Duration::seconds(1), false, 0});
    REQUIRE(redelivered.size() == 1);
    CHECK(redelivered[0].data() == "x");
    CHECK(redelivered[0].metadata()->num_delivered == 2);
    REQUIRE(redelivered[0].term());

    // nak with a delay: not redelivered before it.
    auto second = fetch(f, sub, FetchOptions{1, Duration::seconds(1), false, 0});
    REQUIRE(second.size() == 1);
    CHECK(second[0].data() == "y");
    REQUIRE(second[0].nak(Duration::seconds(3)));
    auto early = fetch(f, sub, FetchOptions{1, Duration::seconds(1), false, 0});
    CHECK(early.empty());
    auto later = fetch(f, sub, FetchOptions{1, Duration::seconds(4), false, 0});
    REQUIRE(later.size() == 1);
    CHECK(later[0].data() == "y");
    // in_progress keeps it from redelivery past ack_wait (2s): a WPI at 1.5s moves the deadline
    // to 3.5s, so a fetch from 2.5s to 2.8s gets nothing.
    f.world.run_for(Duration::milliseconds(1500));
    REQUIRE(later[0].in_progress());
    REQUIRE(later[0].in_progress());  // may repeat
    f.world.run_for(Duration::milliseconds(1000));
    auto during = fetch(f, sub, FetchOptions{1, Duration::milliseconds(300), false, 0});
    CHECK(during.empty());
    // ack_sync: the server confirms the ack (double ack).
    auto confirmed = f.await<Done>([&](auto cb) { later[0].ack_sync(Duration::seconds(1), std::move(cb)); });
    INFO((confirmed ? std::string("ok") : confirmed.error().message()));
    REQUIRE(confirmed);
    auto twice = f.await<Done>([&](auto cb) { later[0].ack_sync(Duration::seconds(1), std::move(cb)); });
    CHECK(twice.error().code == JsErrc::already_acked);
    auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", "W", std::move(cb)); });
    REQUIRE(info);
    CHECK(info->num_ack_pending == 0);
    CHECK(info->ack_floor.stream_seq == 2);
}

TEST_CASE("jetstream client: a fetch on a deleted consumer fails with consumer_deleted or not found", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    PullSubscription sub = pull(f, "GONE");
    std::optional<JsResult<std::vector<JsMsg>>> waiting;
    sub.fetch(FetchOptions{1, Duration::seconds(10), false, 0}, [&](auto r) { waiting.emplace(std::move(r)); });
    f.world.run_for(Duration::milliseconds(100));
    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_consumer("ORDERS", "GONE", std::move(cb)); }));
    REQUIRE(f.wait([&] { return waiting.has_value(); }));
    REQUIRE_FALSE(*waiting);
    // nats-server answers a waiting request with 409 Consumer Deleted.
    CHECK(waiting->error().code == JsErrc::consumer_deleted);
    CHECK(waiting->error().api.code == 409);
    auto bind = f.await<PullSubscription>([&](auto cb) { f.js->pull_subscribe("ORDERS", "GONE", std::move(cb)); });
    CHECK(bind.error().code == JsErrc::consumer_not_found);
}

TEST_CASE("jetstream client: push subscriptions deliver and auto-ack; unsubscribe deletes the ephemeral", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    f.publish("orders.a", "1");
    f.publish("orders.b", "2");
    std::vector<std::string> got;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.config.filter_subject = "orders.>";
    auto sub = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { got.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(sub);
    CHECK(sub->initial_pending() == 2);
    f.publish("orders.c", "3");
    REQUIRE(f.wait([&] { return got.size() == 3; }));
    CHECK(got == std::vector<std::string>{"1", "2", "3"});
    const std::string name = sub->consumer();
    // Auto-acked: the acks went out before this request on the same connection.
    auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", name, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->num_ack_pending == 0);
    CHECK(info->ack_floor.stream_seq == 3);
    REQUIRE(sub->unsubscribe());
    CHECK_FALSE(sub->valid());
    auto gone = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", name, std::move(cb)); });
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == JsErrc::consumer_not_found);
}

TEST_CASE("jetstream client: a durable push consumer is bound by name and keeps its position", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    f.publish("orders.a", "1");
    ConsumerConfig config;
    config.durable_name = "PUSHD";
    config.deliver_subject = "deliver.pushd";
    REQUIRE(f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("ORDERS", config, std::move(cb)); }));
    std::vector<std::string> got;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.consumer = "PUSHD";
    options.manual_ack = true;
    auto sub = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) {
            got.push_back(m.data());
            REQUIRE(m.ack());
        }, std::move(cb));
    });
    REQUIRE(sub);
    REQUIRE(f.wait([&] { return got.size() == 1; }));
    REQUIRE(sub->unsubscribe());
    f.publish("orders.a", "2");
    auto again = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) {
            got.push_back(m.data());
            REQUIRE(m.ack());
        }, std::move(cb));
    });
    REQUIRE(again);
    REQUIRE(f.wait([&] { return got.size() == 2; }));
    CHECK(got == std::vector<std::string>{"1", "2"});
    // The durable survives: we did not create it.
    REQUIRE(again->unsubscribe());
    REQUIRE(f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", "PUSHD", std::move(cb)); }));
}

TEST_CASE("jetstream client: an ordered subscription delivers in order and recovers a lost consumer", "[client][jetstream][sim]") {
    // Goal: the ordered consumer resumes after its consumer vanished, without gaps or repeats.
    // Method: deliver 3, delete the server-side consumer, publish 2 more; the missed heartbeats
    // (3 x 1s) make the client recreate it from stream seq 4 on a new inbox.
    ClientJsFixture f;
    f.add_stream(orders());
    for (int i = 1; i <= 3; ++i) f.publish("orders.a", std::to_string(i));
    std::vector<std::string> got;
    std::vector<std::uint64_t> seqs;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.ordered = true;
    options.config.idle_heartbeat = Duration::seconds(1);
    auto sub = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) {
            got.push_back(m.data());
            seqs.push_back(m.metadata()->stream_sequence);
        }, std::move(cb));
    });
    REQUIRE(sub);
    REQUIRE(f.wait([&] { return got.size() == 3; }));
    const std::string first_consumer = sub->consumer();
    auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", first_consumer, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->config.ack_policy == AckPolicy::none);
    CHECK(info->config.flow_control);
    CHECK(info->config.mem_storage);
    CHECK(info->config.max_deliver == 1);
    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_consumer("ORDERS", first_consumer, std::move(cb)); }));
    f.publish("orders.a", "4");
    f.publish("orders.a", "5");
    REQUIRE(f.wait([&] { return got.size() == 5; }));
    CHECK(got == std::vector<std::string>{"1", "2", "3", "4", "5"});
    CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    CHECK(sub->resets() >= 1);
    CHECK(sub->consumer() != first_consumer);
    auto second = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", sub->consumer(), std::move(cb)); });
    REQUIRE(second);
    CHECK(second->config.deliver_policy == DeliverPolicy::by_start_sequence);
    CHECK(second->config.opt_start_seq == 4);
    REQUIRE(sub->unsubscribe());
}

TEST_CASE("jetstream client: an ordered subscription answers flow control and gets a large backlog", "[client][jetstream][sim]") {
    // Goal: flow-control requests are answered, or delivery would stall after the first window.
    // Method: 600 messages of 1 KiB (more than the server's flow-control window) all arrive.
    ClientJsFixture f;
    f.add_stream(orders(StorageType::memory));
    const std::string payload(1024, 'p');
    for (int i = 0; i < 600; ++i) {
        REQUIRE(f.js->publish_async("orders.bulk", {}, payload, {}, {}));
        if (f.js->publish_async_pending() >= 500) {
            bool drained = false;
            f.js->publish_async_complete([&] { drained = true; });
            REQUIRE(f.wait([&] { return drained; }));
        }
    }
    bool drained = false;
    f.js->publish_async_complete([&] { drained = true; });
    REQUIRE(f.wait([&] { return drained; }));
    std::size_t got = 0;
    std::uint64_t last_seq = 0;
    bool in_order = true;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.ordered = true;
    auto sub = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) {
            const auto seq = m.metadata()->stream_sequence;
            in_order = in_order && seq == last_seq + 1;
            last_seq = seq;
            ++got;
        }, std::move(cb));
    });
    REQUIRE(sub);
    const auto start = f.world.now();
    REQUIRE(f.wait([&] { return got == 600; }));
    CHECK(in_order);
    // Without answers to the flow-control requests, delivery would wait for the stalled
    // heartbeat (5s) each window.
    CHECK(f.world.now().since(start) < Duration::seconds(5));
    CHECK(sub->resets() == 0);
}

TEST_CASE("jetstream client: with a domain the API prefix is $JS.<domain>.API and PubAcks name it", "[client][jetstream][sim]") {
    herald::client::JetStreamOptions options;
    options.domain = "hub";
    ClientJsFixture f(1, options, "hub");
    CHECK(f.js->api_prefix() == "$JS.hub.API.");
    auto account = f.await<herald::client::AccountInfo>([&](auto cb) { f.js->account_info(std::move(cb)); });
    REQUIRE(account);
    CHECK(account->domain == "hub");
    f.add_stream(orders());
    PubAck ack = f.publish("orders.a", "x");
    CHECK(ack.domain == "hub");
    PullSubscription sub = pull(f, "D");
    auto got = fetch(f, sub, FetchOptions{1, Duration::seconds(1), false, 0});
    REQUIRE(got.size() == 1);
    CHECK(got[0].data() == "x");
    // A JetStream context without the domain on the same server still works ($JS.API).
    herald::client::JetStream plain(f.client_node->env(), *f.connection);
    auto names = f.await<std::vector<std::string>>([&](auto cb) { plain.stream_names("", std::move(cb)); });
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"ORDERS"});
    // A domain nobody serves: no responders means JetStream is not enabled there.
    herald::client::JetStreamOptions elsewhere;
    elsewhere.domain = "leaf";
    herald::client::JetStream other(f.client_node->env(), *f.connection, elsewhere);
    auto none = f.await<herald::client::AccountInfo>([&](auto cb) { other.account_info(std::move(cb)); });
    REQUIRE_FALSE(none);
    CHECK(none.error().code == JsErrc::not_enabled);
}

TEST_CASE("jetstream client: a push subscription with a queue group spreads the messages", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    ConsumerConfig config;
    config.durable_name = "GROUPED";
    config.deliver_subject = "deliver.grouped";
    config.deliver_group = "workers";
    REQUIRE(f.await<ConsumerInfo>([&](auto cb) { f.js->add_consumer("ORDERS", config, std::move(cb)); }));
    std::vector<std::string> a;
    std::vector<std::string> b;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.consumer = "GROUPED";
    auto first = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { a.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(first);
    auto second = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { b.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(second);
    for (int i = 0; i < 20; ++i) f.publish("orders.a", std::to_string(i));
    REQUIRE(f.wait([&] { return a.size() + b.size() == 20; }));
    CHECK_FALSE(a.empty());
    CHECK_FALSE(b.empty());
    std::vector<std::string> all = a;
    all.insert(all.end(), b.begin(), b.end());
    std::sort(all.begin(), all.end());
    CHECK(std::unique(all.begin(), all.end()) == all.end());
}

TEST_CASE("jetstream client: fetch with max_bytes stops at the byte budget", "[client][jetstream][sim]") {
    ClientJsFixture f;
    f.add_stream(orders());
    for (int i = 0; i < 5; ++i) f.publish("orders.a", std::string(100, static_cast<char>('a' + i)));
    PullSubscription sub = pull(f, "B");
    auto some = fetch(f, sub, FetchOptions{5, Duration::seconds(1), false, 350});
    CHECK(!some.empty());
    CHECK(some.size() < 5);
    for (auto& m : some) REQUIRE(m.ack());
    auto rest = fetch(f, sub, FetchOptions{5, Duration::seconds(1), false, 0});
    CHECK(some.size() + rest.size() == 5);
}

TEST_CASE("jetstream client: queue subscribers share one durable named after the queue", "[client][jetstream][sim]") {
    // Goal: nats.go's QueueSubscribe: the first member creates the durable, the second binds to
    // its deliver subject (creating again would move the deliver subject away from the first).
    ClientJsFixture f;
    f.add_stream(orders());
    std::vector<std::string> a;
    std::vector<std::string> b;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.queue = "workers";
    auto first = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { a.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(first);
    CHECK(first->consumer() == "workers");
    auto second = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { b.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(second);
    CHECK(second->consumer() == "workers");
    for (int i = 0; i < 20; ++i) f.publish("orders.a", std::to_string(i));
    REQUIRE(f.wait([&] { return a.size() + b.size() == 20; }));
    CHECK_FALSE(a.empty());
    CHECK_FALSE(b.empty());
    auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->consumer_names("ORDERS", std::move(cb)); });
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"workers"});
    auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", "workers", std::move(cb)); });
    REQUIRE(info);
    CHECK(info->config.deliver_group == "workers");
    CHECK(info->num_ack_pending == 0);
}

TEST_CASE("jetstream client: an ordered subscription resets on a consumer-sequence gap and on a heartbeat that says so", "[client][jetstream][sim]") {
    // Goal: both gap detectors of the ordered consumer (nats.go checkOrderedMsgs and the
    // heartbeat's Nats-Last-Consumer). Method: a second connection injects, on the deliver subject,
    // a message whose $JS.ACK reply skips consumer sequences, then a heartbeat naming a sequence
    // the client never saw; each makes the client recreate the consumer after the last stream
    // sequence it delivered, so nothing is repeated or lost.
    ClientJsFixture f;
    f.add_stream(orders());
    f.publish("orders.a", "1");
    std::vector<std::string> got;
    SubscribeOptions options;
    options.stream = "ORDERS";
    options.ordered = true;
    auto sub = f.await<PushSubscription>([&](auto cb) {
        f.js->subscribe(options, [&](JsMsg& m) { got.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(sub);
    REQUIRE(f.wait([&] { return got.size() == 1; }));
    herald::client::Connection& injector = f.connect();
    const auto deliver_of = [&] {
        auto info = f.await<ConsumerInfo>([&](auto cb) { f.js->consumer_info("ORDERS", sub->consumer(), std::move(cb)); });
        REQUIRE(info);
        return info->config.deliver_subject;
    };
    const std::string first = sub->consumer();
    REQUIRE(injector.publish(deliver_of(), "$JS.ACK.ORDERS." + first + ".1.9.5.1795693361049815094.0", "forged"));
    REQUIRE(f.wait([&] { return sub->resets() == 1 && sub->consumer() != first; }));
    f.publish("orders.a", "2");
    REQUIRE(f.wait([&] { return got.size() == 2; }));
    CHECK(got == std::vector<std::string>{"1", "2"});

    const std::string second = sub->consumer();
    Headers heartbeat;
    heartbeat.set_status("100", "Idle Heartbeat");
    heartbeat.set("Nats-Last-Consumer", "7");
    heartbeat.set("Nats-Last-Stream", "7");
    REQUIRE(injector.publish(deliver_of(), "", heartbeat, ""));
    REQUIRE(f.wait([&] { return sub->resets() == 2 && sub->consumer() != second; }));
    f.publish("orders.a", "3");
    REQUIRE(f.wait([&] { return got.size() == 3; }));
    CHECK(got == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("jetstream client: a fetch from a consumer that is gone ends at the client's bound", "[client][jetstream][sim]") {
    // Nobody answers CONSUMER.MSG.NEXT for a deleted consumer (nats-server neither: see the
    // interop case), so the fetch ends with Errc::timeout after expires + the API timeout.
    ClientJsFixture f;
    f.add_stream(orders());
    PullSubscription sub = pull(f, "LATER");
    REQUIRE(f.await<Done>([&](auto cb) { f.js->delete_consumer("ORDERS", "LATER", std::move(cb)); }));
    const auto start = f.world.now();
    auto result = f.await<std::vector<JsMsg>>([&](auto cb) {
        sub.fetch(FetchOptions{1, Duration::seconds(1), false, 0}, std::move(cb));
    });
    REQUIRE_FALSE(result);
    CHECK(result.error().code == herald::client::Errc::timeout);
    CHECK(f.world.now().since(start) >= Duration::seconds(6));  // 1s expires + 5s timeout
}
