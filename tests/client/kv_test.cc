// KeyValue (engine/client/kv.h) against a herald Server with JetStream in one simulated world:
// the bucket's stream config byte for byte as nats.go sends it, put/get/create/update/delete/
// purge/keys/history, watches (initial values, marker, updates_only, include_history,
// ignore_deletes), binding, status, DIRECT.GET vs STREAM.MSG.GET. Bounded simulation steps only.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/client/kv.h"
#include "tests/client/js_fixture.h"

using herald::Duration;
using herald::client::Done;
using herald::client::JsErrc;
using herald::client::JsResult;
using herald::client::KeyValue;
using herald::client::KeyValueConfig;
using herald::client::KeyValueEntry;
using herald::client::KeyValueOp;
using herald::client::KeyWatcher;
using herald::client::Message;
using herald::client::StreamConfig;
using herald::client::StreamInfo;
using herald::client::WatchOptions;
using herald::testing::ClientJsFixture;

namespace {

KeyValue make_bucket(ClientJsFixture& f, const std::string& name, std::int64_t history = 1) {
    KeyValueConfig config;
    config.bucket = name;
    config.history = history;
    auto kv = f.await<KeyValue>([&](auto cb) { KeyValue::create_bucket(*f.js, config, std::move(cb)); });
    INFO((kv ? std::string("ok") : kv.error().message()));
    REQUIRE(kv);
    return *kv;
}

std::uint64_t put(ClientJsFixture& f, const KeyValue& kv, const std::string& key, const std::string& value) {
    auto revision = f.await<std::uint64_t>([&](auto cb) { kv.put(key, value, std::move(cb)); });
    INFO((revision ? std::string("ok") : revision.error().message()));
    REQUIRE(revision);
    return *revision;
}

JsResult<KeyValueEntry> get(ClientJsFixture& f, const KeyValue& kv, const std::string& key) {
    return f.await<KeyValueEntry>([&](auto cb) { kv.get(key, std::move(cb)); });
}

// Records a watch: entries as "op key=value@rev" and where the nullptr marker came.
struct WatchLog {
    std::vector<std::string> events;
    KeyWatcher watcher;
    herald::client::KeyWatchHandler handler() {
        return [this](const KeyValueEntry* e) {
            if (e == nullptr) {
                events.push_back("<init done>");
                return;
            }
            const char* op = e->op == KeyValueOp::put ? "put" : e->op == KeyValueOp::del ? "del" : "purge";
            events.push_back(std::string(op) + " " + e->key + "=" + e->value + "@" + std::to_string(e->revision));
        };
    }
};

void start_watch(ClientJsFixture& f, const KeyValue& kv, const std::string& pattern, const WatchOptions& options,
                 WatchLog& log) {
    auto watcher = f.await<KeyWatcher>([&](auto cb) { kv.watch(pattern, options, log.handler(), std::move(cb)); });
    REQUIRE(watcher);
    log.watcher = *watcher;
}

}  // namespace

TEST_CASE("kv: bucket and key names follow kv.go's patterns", "[client][kv]") {
    CHECK(herald::client::valid_bucket_name("cfg_1-a"));
    CHECK_FALSE(herald::client::valid_bucket_name("a.b"));
    CHECK_FALSE(herald::client::valid_bucket_name(""));
    CHECK(herald::client::valid_key("app.port"));
    CHECK(herald::client::valid_key("a/b_c=d-e"));
    CHECK_FALSE(herald::client::valid_key(".a"));
    CHECK_FALSE(herald::client::valid_key("a."));
    CHECK_FALSE(herald::client::valid_key("a*"));
    CHECK_FALSE(herald::client::valid_key("a b"));
}

TEST_CASE("kv: create_bucket sends nats.go's stream config byte for byte", "[client][kv][sim]") {
    // Goal: the same stream layout as the official client, so each reads the other's data.
    // Method: a second connection listens on the STREAM.CREATE subject next to the server and
    // compares the request with the one kv-and-objects.md §1 shows for nats.go 1.22.1.
    ClientJsFixture f;
    herald::client::Connection& spy = f.connect();
    std::vector<std::string> requests;
    REQUIRE(spy.subscribe("$JS.API.STREAM.CREATE.KV_cfg", [&](const Message& m) { requests.push_back(m.payload); }));
    bool flushed = false;
    spy.flush([&](herald::Status) { flushed = true; });
    REQUIRE(f.wait([&] { return flushed; }));
    KeyValue kv = make_bucket(f, "cfg", 5);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0] ==
          R"({"name":"KV_cfg","subjects":["$KV.cfg.>"],"retention":"limits","max_consumers":-1,"max_msgs":-1,)"
          R"("max_bytes":-1,"discard":"new","max_age":0,"max_msgs_per_subject":5,"max_msg_size":-1,"storage":"file",)"
          R"("num_replicas":1,"duplicate_window":120000000000,"deny_delete":true,"allow_rollup_hdrs":true,)"
          R"("allow_direct":true,"mirror_direct":false})");
    CHECK(kv.uses_direct_get());
    CHECK(kv.stream() == "KV_cfg");

    // A TTL under 2 minutes is also the duplicate window.
    KeyValueConfig short_ttl;
    short_ttl.bucket = "ttl";
    short_ttl.ttl = Duration::seconds(30);
    short_ttl.storage = herald::client::StorageType::memory;
    auto t = f.await<KeyValue>([&](auto cb) { KeyValue::create_bucket(*f.js, short_ttl, std::move(cb)); });
    REQUIRE(t);
    auto status = f.await<herald::client::KeyValueStatus>([&](auto cb) { t->status(std::move(cb)); });
    REQUIRE(status);
    CHECK(status->ttl == Duration::seconds(30));
    CHECK(status->info.config.duplicate_window == Duration::seconds(30));
    CHECK(status->info.config.storage == herald::client::StorageType::memory);

    KeyValueConfig too_much;
    too_much.bucket = "big";
    too_much.history = 65;
    auto refused = f.await<KeyValue>([&](auto cb) { KeyValue::create_bucket(*f.js, too_much, std::move(cb)); });
    CHECK(refused.error().code == JsErrc::history_too_large);
}

TEST_CASE("kv: put, get, revisions, create, update, delete and purge", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "app", 5);
    CHECK(put(f, kv, "port", "4222") == 1);
    CHECK(put(f, kv, "host", "a") == 2);
    CHECK(put(f, kv, "port", "4223") == 3);

    auto entry = get(f, kv, "port");
    REQUIRE(entry);
    CHECK(entry->value == "4223");
    CHECK(entry->revision == 3);
    CHECK(entry->bucket == "app");
    CHECK(entry->key == "port");
    CHECK(entry->op == KeyValueOp::put);
    CHECK(entry->created_ns > 0);
    auto old = f.await<KeyValueEntry>([&](auto cb) { kv.get_revision("port", 1, std::move(cb)); });
    REQUIRE(old);
    CHECK(old->value == "4222");
    auto other_key = f.await<KeyValueEntry>([&](auto cb) { kv.get_revision("port", 2, std::move(cb)); });
    CHECK(other_key.error().code == JsErrc::key_not_found);
    CHECK(get(f, kv, "missing").error().code == JsErrc::key_not_found);
    CHECK(get(f, kv, "bad key").error().code == JsErrc::invalid_argument);

    // update needs the latest revision.
    auto stale = f.await<std::uint64_t>([&](auto cb) { kv.update("port", "x", 1, std::move(cb)); });
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == JsErrc::wrong_last_sequence);
    CHECK(stale.error().api.err_code == 10071);
    auto fresh = f.await<std::uint64_t>([&](auto cb) { kv.update("port", "4224", 3, std::move(cb)); });
    REQUIRE(fresh);
    CHECK(*fresh == 4);

    // create only where there is no value.
    auto exists = f.await<std::uint64_t>([&](auto cb) { kv.create("port", "x", std::move(cb)); });
    REQUIRE_FALSE(exists);
    CHECK(exists.error().code == JsErrc::key_exists);
    auto made = f.await<std::uint64_t>([&](auto cb) { kv.create("user", "ann", std::move(cb)); });
    REQUIRE(made);
    CHECK(*made == 5);

    // delete keeps history; get says not found; create works again over the marker.
    REQUIRE(f.await<Done>([&](auto cb) { kv.delete_key("user", std::nullopt, std::move(cb)); }));
    CHECK(get(f, kv, "user").error().code == JsErrc::key_not_found);
    auto recreated = f.await<std::uint64_t>([&](auto cb) { kv.create("user", "bob", std::move(cb)); });
    REQUIRE(recreated);
    CHECK(*recreated == 7);
    auto history = f.await<std::vector<KeyValueEntry>>([&](auto cb) { kv.history("user", std::move(cb)); });
    REQUIRE(history);
    REQUIRE(history->size() == 3);
    CHECK(history->at(0).value == "ann");
    CHECK(history->at(1).op == KeyValueOp::del);
    CHECK(history->at(1).revision == 6);
    CHECK(history->at(2).value == "bob");

    // delete with a last revision that is not the latest is refused.
    auto guarded = f.await<Done>([&](auto cb) { kv.delete_key("user", 5, std::move(cb)); });
    CHECK(guarded.error().code == JsErrc::wrong_last_sequence);

    // purge drops the earlier revisions: only the purge marker stays.
    REQUIRE(f.await<Done>([&](auto cb) { kv.purge_key("port", std::nullopt, std::move(cb)); }));
    CHECK(get(f, kv, "port").error().code == JsErrc::key_not_found);
    auto purged = f.await<std::vector<KeyValueEntry>>([&](auto cb) { kv.history("port", std::move(cb)); });
    REQUIRE(purged);
    REQUIRE(purged->size() == 1);
    CHECK(purged->at(0).op == KeyValueOp::purge);
    auto none = f.await<std::vector<KeyValueEntry>>([&](auto cb) { kv.history("never", std::move(cb)); });
    CHECK(none.error().code == JsErrc::key_not_found);

    auto keys = f.await<std::vector<std::string>>([&](auto cb) { kv.keys(std::move(cb)); });
    REQUIRE(keys);
    CHECK(*keys == std::vector<std::string>{"host", "user"});

    auto status = f.await<herald::client::KeyValueStatus>([&](auto cb) { kv.status(std::move(cb)); });
    REQUIRE(status);
    CHECK(status->bucket == "app");
    CHECK(status->history == 5);
    CHECK(status->values == 5);  // host; user: ann, del, bob; port: the purge marker
}

TEST_CASE("kv: keys of an empty bucket is empty; history is bounded by the bucket's history", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "small", 2);
    auto keys = f.await<std::vector<std::string>>([&](auto cb) { kv.keys(std::move(cb)); });
    REQUIRE(keys);
    CHECK(keys->empty());
    for (int i = 0; i < 5; ++i) put(f, kv, "k", std::to_string(i));
    auto history = f.await<std::vector<KeyValueEntry>>([&](auto cb) { kv.history("k", std::move(cb)); });
    REQUIRE(history);
    REQUIRE(history->size() == 2);
    CHECK(history->at(0).value == "3");
    CHECK(history->at(1).value == "4");
}

TEST_CASE("kv: a watch sends the initial values, the done marker, then updates", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "w", 10);
    put(f, kv, "a", "1");
    put(f, kv, "b", "1");
    put(f, kv, "a", "2");
    put(f, kv, "c.x", "1");

    WatchLog all;
    start_watch(f, kv, ">", {}, all);
    REQUIRE(f.wait([&] { return all.events.size() == 4; }));
    CHECK(all.events == std::vector<std::string>{"put b=1@2", "put a=2@3", "put c.x=1@4", "<init done>"});
    put(f, kv, "b", "2");
    REQUIRE(f.await<Done>([&](auto cb) { kv.delete_key("a", std::nullopt, std::move(cb)); }));
    REQUIRE(f.wait([&] { return all.events.size() == 6; }));
    CHECK(all.events[4] == "put b=2@5");
    CHECK(all.events[5] == "del a=@6");

    WatchLog pattern;
    start_watch(f, kv, "c.*", {}, pattern);
    REQUIRE(f.wait([&] { return pattern.events.size() == 2; }));
    CHECK(pattern.events == std::vector<std::string>{"put c.x=1@4", "<init done>"});

    WatchOptions history;
    history.include_history = true;
    WatchLog with_history;
    start_watch(f, kv, "a", history, with_history);
    REQUIRE(f.wait([&] { return with_history.events.size() == 4; }));
    CHECK(with_history.events == std::vector<std::string>{"put a=1@1", "put a=2@3", "del a=@6", "<init done>"});

    WatchOptions no_deletes;
    no_deletes.ignore_deletes = true;
    WatchLog live;
    start_watch(f, kv, ">", no_deletes, live);
    REQUIRE(f.wait([&] { return !live.events.empty() && live.events.back() == "<init done>"; }));
    CHECK(live.events == std::vector<std::string>{"put c.x=1@4", "put b=2@5", "<init done>"});

    WatchOptions updates;
    updates.updates_only = true;
    WatchLog only_new;
    start_watch(f, kv, ">", updates, only_new);
    put(f, kv, "d", "new");
    REQUIRE(f.wait([&] { return only_new.events.size() == 1; }));
    CHECK(only_new.events == std::vector<std::string>{"put d=new@7"});

    // Stopped watches get nothing more.
    all.watcher.stop();
    CHECK_FALSE(all.watcher.valid());
    const std::size_t seen = all.events.size();
    put(f, kv, "e", "1");
    REQUIRE(f.wait([&] { return only_new.events.size() == 2; }));
    CHECK(all.events.size() == seen);
}

TEST_CASE("kv: a watch of an empty bucket sends the done marker at once", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "empty");
    WatchLog log;
    start_watch(f, kv, ">", {}, log);
    REQUIRE(f.wait([&] { return log.events.size() == 1; }));
    CHECK(log.events == std::vector<std::string>{"<init done>"});
    put(f, kv, "k", "v");
    REQUIRE(f.wait([&] { return log.events.size() == 2; }));
    CHECK(log.events[1] == "put k=v@1");
}

TEST_CASE("kv: bind, bucket names, delete; a stream that is no bucket is refused", "[client][kv][sim]") {
    ClientJsFixture f;
    make_bucket(f, "one");
    make_bucket(f, "two");
    auto bound = f.await<KeyValue>([&](auto cb) { KeyValue::bind(*f.js, "one", std::move(cb)); });
    REQUIRE(bound);
    put(f, *bound, "k", "v");
    auto missing = f.await<KeyValue>([&](auto cb) { KeyValue::bind(*f.js, "nope", std::move(cb)); });
    CHECK(missing.error().code == JsErrc::bucket_not_found);

    StreamConfig not_kv;
    not_kv.name = "KV_fake";
    not_kv.subjects = {"$KV.fake.>"};
    f.add_stream(not_kv);  // max_msgs_per_subject -1
    auto fake = f.await<KeyValue>([&](auto cb) { KeyValue::bind(*f.js, "fake", std::move(cb)); });
    CHECK(fake.error().code == JsErrc::bad_bucket);

    auto names = f.await<std::vector<std::string>>([&](auto cb) { KeyValue::bucket_names(*f.js, std::move(cb)); });
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"fake", "one", "two"});
    REQUIRE(f.await<Done>([&](auto cb) { KeyValue::delete_bucket(*f.js, "two", std::move(cb)); }));
    auto gone = f.await<KeyValue>([&](auto cb) { KeyValue::bind(*f.js, "two", std::move(cb)); });
    CHECK(gone.error().code == JsErrc::bucket_not_found);
    auto again = f.await<Done>([&](auto cb) { KeyValue::delete_bucket(*f.js, "two", std::move(cb)); });
    CHECK(again.error().code == JsErrc::bucket_not_found);
}

TEST_CASE("kv: a bucket made with discard old is updated to discard new; other differences refuse", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue made = make_bucket(f, "legacy", 3);
    // Turn it into what a pre-2.7.2 client made: discard old.
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("KV_legacy", std::move(cb)); });
    REQUIRE(info);
    StreamConfig old_config = info->config;
    old_config.discard = herald::client::DiscardPolicy::old_messages;
    REQUIRE(f.await<StreamInfo>([&](auto cb) { f.js->update_stream(old_config, std::move(cb)); }));
    KeyValue again = make_bucket(f, "legacy", 3);
    auto after = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("KV_legacy", std::move(cb)); });
    CHECK(after->config.discard == herald::client::DiscardPolicy::new_messages);

    KeyValueConfig other;
    other.bucket = "legacy";
    other.history = 7;
    auto refused = f.await<KeyValue>([&](auto cb) { KeyValue::create_bucket(*f.js, other, std::move(cb)); });
    CHECK(refused.error().code == JsErrc::stream_name_in_use);
}

TEST_CASE("kv: without allow_direct the bucket reads through STREAM.MSG.GET", "[client][kv][sim]") {
    // Goal: the non-direct read path (nats.go uses it when the stream does not allow direct).
    // Method: switch allow_direct off, bind again, and listen for DIRECT.GET requests: none.
    ClientJsFixture f;
    make_bucket(f, "nd", 3);
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("KV_nd", std::move(cb)); });
    StreamConfig config = info->config;
    config.allow_direct = false;
    REQUIRE(f.await<StreamInfo>([&](auto cb) { f.js->update_stream(config, std::move(cb)); }));
    auto kv = f.await<KeyValue>([&](auto cb) { KeyValue::bind(*f.js, "nd", std::move(cb)); });
    REQUIRE(kv);
    CHECK_FALSE(kv->uses_direct_get());
    herald::client::Connection& spy = f.connect();
    std::size_t direct_requests = 0;
    std::size_t msg_get_requests = 0;
    REQUIRE(spy.subscribe("$JS.API.DIRECT.GET.>", [&](const Message&) { ++direct_requests; }));
    REQUIRE(spy.subscribe("$JS.API.STREAM.MSG.GET.KV_nd", [&](const Message&) { ++msg_get_requests; }));
    bool flushed = false;
    spy.flush([&](herald::Status) { flushed = true; });
    REQUIRE(f.wait([&] { return flushed; }));
    put(f, *kv, "k", "v1");
    put(f, *kv, "k", "v2");
    auto entry = get(f, *kv, "k");
    REQUIRE(entry);
    CHECK(entry->value == "v2");
    auto first = f.await<KeyValueEntry>([&](auto cb) { kv->get_revision("k", 1, std::move(cb)); });
    REQUIRE(first);
    CHECK(first->value == "v1");
    CHECK(get(f, *kv, "none").error().code == JsErrc::key_not_found);
    // The spy's copies may still be on their way: its PONG comes after them.
    flushed = false;
    spy.flush([&](herald::Status) { flushed = true; });
    REQUIRE(f.wait([&] { return flushed; }));
    CHECK(direct_requests == 0);
    CHECK(msg_get_requests == 3);
}

// kv.go's useJSPfx path, which needs the server's mapping $JS.<domain>.API.$KV.> -> $KV.> (as
// nats-server's generateJSMappingTable; herald has it since f974b86).
TEST_CASE("kv: behind a JetStream domain, writes go through $JS.<domain>.API.$KV as nats.go's",
          "[client][kv][sim]") {
    // Goal: kv.go's useJSPfx path: with a non-default API prefix, puts and markers are published
    // to <prefix>$KV.<bucket>.<key> and the server's domain mapping stores them under $KV.
    herald::client::JetStreamOptions options;
    options.domain = "hub";
    ClientJsFixture f(1, options, "hub");
    KeyValue kv = make_bucket(f, "d", 2);
    auto revision = f.await<std::uint64_t>([&](auto cb) { kv.put("k", "v", std::move(cb)); });
    INFO((revision ? std::string("ok") : revision.error().message()));
    REQUIRE(revision);
    CHECK(*revision == 1);
    REQUIRE(f.await<Done>([&](auto cb) { kv.delete_key("k", std::nullopt, std::move(cb)); }));
    auto entry = f.await<herald::client::StoredMsg>([&](auto cb) { f.js->get_msg("KV_d", 1, std::move(cb)); });
    REQUIRE(entry);
    CHECK(entry->subject == "$KV.d.k");
    auto history = f.await<std::vector<KeyValueEntry>>([&](auto cb) { kv.history("k", std::move(cb)); });
    REQUIRE(history);
    CHECK(history->size() == 2);
}

TEST_CASE("kv: dropping the last watcher handle stops the watch and deletes its consumer", "[client][kv][sim]") {
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "drop");
    put(f, kv, "k", "v");
    std::size_t seen = 0;
    {
        auto watcher = f.await<KeyWatcher>([&](auto cb) {
            kv.watch_all({}, [&](const KeyValueEntry*) { ++seen; }, std::move(cb));
        });
        REQUIRE(watcher);
        REQUIRE(f.wait([&] { return seen == 2; }));  // the entry and the marker
        auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->consumer_names("KV_drop", std::move(cb)); });
        REQUIRE(names);
        CHECK(names->size() == 1);
    }
    put(f, kv, "k", "w");
    auto names = f.await<std::vector<std::string>>([&](auto cb) { f.js->consumer_names("KV_drop", std::move(cb)); });
    REQUIRE(names);
    CHECK(names->empty());
    CHECK(seen == 2);
}

TEST_CASE("kv: purge_deletes removes old delete markers and keeps recent ones", "[client][kv][sim]") {
    // Goal: kv.go PurgeDeletes: keys whose last entry is a marker lose their history; a marker
    // newer than the threshold stays (keep 1). Method: two deleted keys 10 minutes apart in
    // simulated time, a threshold of 5 minutes, then the stream's per-subject counts.
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "pd", 5);
    put(f, kv, "old", "1");
    put(f, kv, "old", "2");
    REQUIRE(f.await<Done>([&](auto cb) { kv.delete_key("old", std::nullopt, std::move(cb)); }));
    f.world.run_for(Duration::seconds(600));
    put(f, kv, "new", "1");
    REQUIRE(f.await<Done>([&](auto cb) { kv.purge_key("new", std::nullopt, std::move(cb)); }));
    put(f, kv, "live", "1");
    REQUIRE(f.await<Done>([&](auto cb) { kv.purge_deletes(Duration::seconds(300), std::move(cb)); }));
    herald::client::StreamInfoOptions details;
    details.subjects_filter = ">";
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("KV_pd", details, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->state.subjects == std::map<std::string, std::uint64_t>{{"$KV.pd.live", 1}, {"$KV.pd.new", 1}});
    // With 0, every marker goes.
    REQUIRE(f.await<Done>([&](auto cb) { kv.purge_deletes(Duration{}, std::move(cb)); }));
    auto after = f.await<StreamInfo>([&](auto cb) { f.js->stream_info("KV_pd", details, std::move(cb)); });
    CHECK(after->state.subjects == std::map<std::string, std::uint64_t>{{"$KV.pd.live", 1}});
    auto keys = f.await<std::vector<std::string>>([&](auto cb) { kv.keys(std::move(cb)); });
    CHECK(*keys == std::vector<std::string>{"live"});
}

TEST_CASE("kv: a watch goes on after a server restart (its memory consumer is recreated)", "[client][kv][sim]") {
    // Goal: the ordered consumer behind a watch recovers when the server loses it. Method: a
    // restart drops the watch's memory consumer; the client reconnects, misses 3 heartbeats,
    // recreates the consumer after the last revision it saw, and gets only the new updates.
    ClientJsFixture f;
    KeyValue kv = make_bucket(f, "rs");
    put(f, kv, "a", "1");
    WatchLog log;
    start_watch(f, kv, ">", {}, log);
    REQUIRE(f.wait([&] { return log.events.size() == 2; }));
    f.restart_server();
    REQUIRE(f.wait([&] { return f.connection->connected(); }));
    put(f, kv, "b", "2");
    REQUIRE(f.wait([&] { return log.events.size() == 3; }));
    CHECK(log.events == std::vector<std::string>{"put a=1@1", "<init done>", "put b=2@2"});
}
