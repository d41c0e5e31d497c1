// Herald's JetStream, KV and object store client (engine/client) on the real Env (AsioEnv) next to
// the official NATS C client (nats.c 3.4.1 kvStore_*, js_*), against a real server process: the
// same binary runs against nats-server and herald-server (HERALD_TEST_SERVER). Data written by one
// client is read by the other, which proves both use the same stream layout. Every wait is
// bounded (a loop timer for our client, nats.c's own timeouts for it); no sleeps.
#include <nats/nats.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/client/client.h"
#include "engine/client/jetstream.h"
#include "engine/client/kv.h"
#include "engine/client/object_store.h"
#include "engine/client/sha256.h"
#include "engine/io/asio/asio_env.h"
#include "tests/interop/js_support.h"
#include "tests/interop/nats_support.h"
#include "tests/support/server_process.h"

namespace {

namespace client = herald::client;
namespace interop = herald::interop;
using herald::Duration;
using herald::test::ServerOptions;
using herald::test::ServerProcess;

constexpr Duration wait_bound = Duration::seconds(10);
constexpr std::size_t handlers_max = 50'000'000;

struct KvDeleter {
    void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
};
struct EntryDeleter {
    void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};
using KvStore = std::unique_ptr<kvStore, KvDeleter>;
using KvEntry = std::unique_ptr<kvEntry, EntryDeleter>;

// One JetStream server process; our client on an AsioEnv and a nats.c connection beside it.
struct Fixture {
    explicit Fixture(std::string domain = {})
        : domain_(std::move(domain)),
          server{ServerOptions{domain_.empty() ? std::string() : "jetstream { domain: " + domain_ + " }",
                               {"-js", "-sd", store.path()}}} {
        client::Options options;
        options.servers = {server.url()};
        ours = std::make_unique<client::Connection>(asio.env(), options);
        bool done = false;
        herald::Status status = client::Errc::timeout;
        ours->connect([&](herald::Status s) {
            done = true;
            status = s;
        });
        REQUIRE(wait([&] { return done; }));
        REQUIRE(status);
        client::JetStreamOptions our_js;
        our_js.domain = domain_;
        js = std::make_unique<client::JetStream>(asio.env(), *ours, our_js);
        jsOptions js_options;
        REQUIRE_OK(jsOptions_Init(&js_options));
        js_options.Wait = interop::wait_ms;
        if (!domain_.empty()) js_options.Domain = domain_.c_str();
        jsCtx* raw = nullptr;
        REQUIRE_OK(natsConnection_JetStream(&raw, theirs.get(), &js_options));
        cjs.reset(raw);
    }
    ~Fixture() {
        js.reset();
        ours.reset();
    }

    // Runs our loop until `done()` or `bound` of loop time passed.
    bool wait(const std::function<bool()>& done, Duration bound = wait_bound) {
        bool expired = false;
        const auto timer = asio.env().loop.schedule(bound, [&expired] { expired = true; });
        asio.run_until([&] { return expired || done(); }, handlers_max);
        asio.env().loop.cancel(timer);
        return done();
    }

    template <class T>
    client::JsResult<T> await(const std::function<void(client::JsCallback<T>)>& op) {
        std::optional<client::JsResult<T>> result;
        op([&](client::JsResult<T> r) { result.emplace(std::move(r)); });
        REQUIRE(wait([&] { return result.has_value(); }));
        INFO((*result ? std::string("ok") : result->error().message()));
        return std::move(*result);
    }

    KvStore bind_theirs(const char* bucket) {
        kvStore* kv = nullptr;
        REQUIRE_OK(js_KeyValue(&kv, cjs.get(), bucket));
        return KvStore(kv);
    }

    std::string domain_;
    interop::TempDir store;
    ServerProcess server;
    herald::io::AsioEnv asio;
    std::unique_ptr<client::Connection> ours;
    std::unique_ptr<client::JetStream> js;
    interop::Connection theirs = interop::connect(server.url());
    interop::JsCtx cjs;
};

std::string value_of(kvEntry* entry) {
    return std::string(static_cast<const char*>(kvEntry_Value(entry)), static_cast<std::size_t>(kvEntry_ValueLen(entry)));
}

std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    std::uint32_t x = 88172645u;
    for (auto& c : data) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xFF);
    }
    return data;
}

}  // namespace

TEST_CASE("kv interop: entries written by our KeyValue are read by nats.c's kvStore", "[interop][kv]") {
    Fixture f;
    client::KeyValueConfig config;
    config.bucket = "cfg";
    config.history = 5;
    auto kv = f.await<client::KeyValue>([&](auto cb) { client::KeyValue::create_bucket(*f.js, config, std::move(cb)); });
    REQUIRE(kv);
    const auto put = [&](const char* key, const char* value) {
        auto revision = f.await<std::uint64_t>([&](auto cb) { kv->put(key, value, std::move(cb)); });
        REQUIRE(revision);
        return *revision;
    };
    CHECK(put("app.port", "4222") == 1);
    CHECK(put("app.host", "localhost") == 2);
    CHECK(put("app.port", "4223") == 3);
    REQUIRE(f.await<client::Done>([&](auto cb) { kv->delete_key("app.host", std::nullopt, std::move(cb)); }));
    auto created = f.await<std::uint64_t>([&](auto cb) { kv->create("user", "ann", std::move(cb)); });
    REQUIRE(created);

    KvStore theirs = f.bind_theirs("cfg");
    kvEntry* raw = nullptr;
    REQUIRE_OK(kvStore_Get(&raw, theirs.get(), "app.port"));
    KvEntry port(raw);
    CHECK(value_of(port.get()) == "4223");
    CHECK(kvEntry_Revision(port.get()) == 3);
    CHECK(kvEntry_Operation(port.get()) == kvOp_Put);
    raw = nullptr;
    CHECK(interop::status_text(kvStore_Get(&raw, theirs.get(), "app.host")) == interop::status_text(NATS_NOT_FOUND));
    KvEntry(raw).reset();

    kvEntryList history;
    REQUIRE_OK(kvStore_History(&history, theirs.get(), "app.port", nullptr));
    REQUIRE(history.Count == 2);
    CHECK(value_of(history.Entries[0]) == "4222");
    CHECK(value_of(history.Entries[1]) == "4223");
    kvEntryList_Destroy(&history);
    REQUIRE_OK(kvStore_History(&history, theirs.get(), "app.host", nullptr));
    REQUIRE(history.Count == 2);
    CHECK(kvEntry_Operation(history.Entries[1]) == kvOp_Delete);
    kvEntryList_Destroy(&history);

    kvKeysList keys;
    REQUIRE_OK(kvStore_Keys(&keys, theirs.get(), nullptr));
    std::set<std::string> names;
    for (int i = 0; i < keys.Count; ++i) names.insert(keys.Keys[i]);
    kvKeysList_Destroy(&keys);
    CHECK(names == std::set<std::string>{"app.port", "user"});

    // nats.c updates at our revision; we see its write.
    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_UpdateString(&revision, theirs.get(), "user", "bob", *created));
    auto entry = f.await<client::KeyValueEntry>([&](auto cb) { kv->get("user", std::move(cb)); });
    REQUIRE(entry);
    CHECK(entry->value == "bob");
    CHECK(entry->revision == revision);
}

TEST_CASE("kv interop: a bucket and entries written by nats.c are read and watched by our KeyValue", "[interop][kv]") {
    Fixture f;
    kvConfig config;
    REQUIRE_OK(kvConfig_Init(&config));
    config.Bucket = "nc";
    config.History = 3;
    kvStore* raw = nullptr;
    REQUIRE_OK(js_CreateKeyValue(&raw, f.cjs.get(), &config));
    KvStore theirs(raw);
    std::uint64_t revision = 0;
    REQUIRE_OK(kvStore_PutString(&revision, theirs.get(), "x", "1"));
    REQUIRE_OK(kvStore_PutString(&revision, theirs.get(), "x", "2"));
    REQUIRE_OK(kvStore_PutString(&revision, theirs.get(), "y", "1"));
    REQUIRE_OK(kvStore_Delete(theirs.get(), "y"));
    REQUIRE_OK(kvStore_PutString(&revision, theirs.get(), "z", "1"));
    REQUIRE_OK(kvStore_Purge(theirs.get(), "z", nullptr));

    auto kv = f.await<client::KeyValue>([&](auto cb) { client::KeyValue::bind(*f.js, "nc", std::move(cb)); });
    REQUIRE(kv);
    CHECK(kv->uses_direct_get());
    auto x = f.await<client::KeyValueEntry>([&](auto cb) { kv->get("x", std::move(cb)); });
    REQUIRE(x);
    CHECK(x->value == "2");
    CHECK(x->revision == 2);
    auto y = f.await<client::KeyValueEntry>([&](auto cb) { kv->get("y", std::move(cb)); });
    CHECK(y.error().code == client::JsErrc::key_not_found);
    auto z = f.await<client::KeyValueEntry>([&](auto cb) { kv->get("z", std::move(cb)); });
    CHECK(z.error().code == client::JsErrc::key_not_found);
    auto history = f.await<std::vector<client::KeyValueEntry>>([&](auto cb) { kv->history("y", std::move(cb)); });
    REQUIRE(history);
    REQUIRE(history->size() == 2);
    CHECK(history->at(1).op == client::KeyValueOp::del);
    auto keys = f.await<std::vector<std::string>>([&](auto cb) { kv->keys(std::move(cb)); });
    REQUIRE(keys);
    CHECK(*keys == std::vector<std::string>{"x"});

    // Creating the same bucket with our client is idempotent: the stream configs are equal.
    client::KeyValueConfig ours;
    ours.bucket = "nc";
    ours.history = 3;
    auto again = f.await<client::KeyValue>([&](auto cb) { client::KeyValue::create_bucket(*f.js, ours, std::move(cb)); });
    CHECK(again);

    std::vector<std::string> events;
    auto watcher = f.await<client::KeyWatcher>([&](auto cb) {
        kv->watch_all({}, [&](const client::KeyValueEntry* e) {
            events.push_back(e == nullptr ? "<init done>" : e->key + "=" + e->value);
        }, std::move(cb));
    });
    REQUIRE(watcher);
    REQUIRE(f.wait([&] { return events.size() == 4; }));
    CHECK(events == std::vector<std::string>{"x=2", "y=", "z=", "<init done>"});
    REQUIRE_OK(kvStore_PutString(&revision, theirs.get(), "w", "new"));
    REQUIRE(f.wait([&] { return events.size() == 5; }));
    CHECK(events[4] == "w=new");
    watcher->stop();
}

TEST_CASE("object interop: an object written by our ObjectStore is read back through nats.c", "[interop][object]") {
    // nats.c 3.4.1 has no object store API, so it reads the layout by hand: the meta message by
    // last-by-subject, then the chunks with an ordered consumer, as nats.go's Get does.
    Fixture f;
    client::ObjectStoreConfig config;
    config.bucket = "files";
    auto store = f.await<client::ObjectStore>([&](auto cb) { client::ObjectStore::create_bucket(*f.js, config, std::move(cb)); });
    REQUIRE(store);
    const std::string data = pattern(300 * 1024 + 11);
    client::ObjectMeta meta;
    meta.name = "file.txt";
    auto info = f.await<client::ObjectInfo>([&](auto cb) { store->put(meta, data, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->chunks == 3);

    natsMsg* raw = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_GetLastMsg(&raw, f.cjs.get(), "OBJ_files", "$O.files.M.ZmlsZS50eHQ=", nullptr, &error));
    interop::Message meta_msg(raw);
    const char* rollup = nullptr;
    REQUIRE_OK(natsMsgHeader_Get(meta_msg.get(), "Nats-Rollup", &rollup));
    CHECK(std::string(rollup) == "sub");
    const auto json = nlohmann::json::parse(
        std::string(natsMsg_GetData(meta_msg.get()), static_cast<std::size_t>(natsMsg_GetDataLength(meta_msg.get()))),
        nullptr, false);
    REQUIRE(json.is_object());
    CHECK(json.value("name", "") == "file.txt");
    CHECK(json.value("bucket", "") == "files");
    CHECK(json.value("size", 0u) == data.size());
    CHECK(json.value("chunks", 0u) == 3u);
    const std::string nuid = json.value("nuid", "");
    const std::string digest = json.value("digest", "");
    CHECK(digest == client::object_digest(data));

    jsSubOptions options;
    REQUIRE_OK(jsSubOptions_Init(&options));
    options.Stream = "OBJ_files";
    options.Ordered = true;
    natsSubscription* sub_raw = nullptr;
    const std::string chunk_subject = "$O.files.C." + nuid;
    REQUIRE_OK(js_SubscribeSync(&sub_raw, f.cjs.get(), chunk_subject.c_str(), nullptr, &options, &error));
    interop::Subscription sub(sub_raw);
    std::string read;
    for (int i = 0; i < 3; ++i) {
        natsMsg* chunk = nullptr;
        REQUIRE_OK(natsSubscription_NextMsg(&chunk, sub.get(), interop::wait_ms));
        interop::Message owned(chunk);
        read.append(natsMsg_GetData(chunk), static_cast<std::size_t>(natsMsg_GetDataLength(chunk)));
    }
    CHECK(read == data);
    CHECK(client::object_digest(read) == digest);
}

TEST_CASE("object interop: an object laid out by hand as nats.go writes it is read by our ObjectStore", "[interop][object]") {
    // The digest below is SHA-256("hello") in padded base64url, computed outside this code.
    Fixture f;
    jsStreamConfig config;
    REQUIRE_OK(jsStreamConfig_Init(&config));
    config.Name = "OBJ_raw";
    const char* subjects[] = {"$O.raw.C.>", "$O.raw.M.>"};
    config.Subjects = subjects;
    config.SubjectsLen = 2;
    config.Discard = js_DiscardNew;
    config.AllowRollup = true;
    config.AllowDirect = true;
    jsStreamInfo* si = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    REQUIRE_OK(js_AddStream(&si, f.cjs.get(), &config, nullptr, &error));
    jsStreamInfo_Destroy(si);
    const char* nuid = "ABCDEFGHIJKLMNOPQRSTUV";
    const std::string chunk_subject = std::string("$O.raw.C.") + nuid;
    jsPubAck* ack = nullptr;
    REQUIRE_OK(js_Publish(&ack, f.cjs.get(), chunk_subject.c_str(), "hel", 3, nullptr, &error));
    jsPubAck_Destroy(ack);
    REQUIRE_OK(js_Publish(&ack, f.cjs.get(), chunk_subject.c_str(), "lo", 2, nullptr, &error));
    jsPubAck_Destroy(ack);
    const std::string meta = std::string(R"({"name":"greeting","options":{"max_chunk_size":3},"bucket":"raw","nuid":")") +
                             nuid + R"(","size":5,"mtime":"0001-01-01T00:00:00Z","chunks":2,)" +
                             R"("digest":"SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="})";
    natsMsg* msg = nullptr;
    REQUIRE_OK(natsMsg_Create(&msg, "$O.raw.M.Z3JlZXRpbmc=", nullptr, meta.data(), static_cast<int>(meta.size())));
    interop::Message owned(msg);
    REQUIRE_OK(natsMsgHeader_Set(msg, "Nats-Rollup", "sub"));
    REQUIRE_OK(js_PublishMsg(&ack, f.cjs.get(), msg, nullptr, &error));
    jsPubAck_Destroy(ack);

    auto store = f.await<client::ObjectStore>([&](auto cb) { client::ObjectStore::bind(*f.js, "raw", std::move(cb)); });
    REQUIRE(store);
    auto got = f.await<client::ObjectResult>([&](auto cb) { store->get("greeting", std::move(cb)); });
    REQUIRE(got);
    CHECK(got->data == "hello");
    CHECK(got->info.chunks == 2);
    CHECK(got->info.meta.chunk_size == 3);
    auto list = f.await<std::vector<client::ObjectInfo>>([&](auto cb) { store->list(false, std::move(cb)); });
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK(list->at(0).meta.name == "greeting");
}

TEST_CASE("jetstream interop: our client's publish, fetch, acks and ordered push work on the real server", "[interop][jetstream]") {
    Fixture f;
    client::StreamConfig stream;
    stream.name = "ORDERS";
    stream.subjects = {"orders.>"};
    REQUIRE(f.await<client::StreamInfo>([&](auto cb) { f.js->add_stream(stream, std::move(cb)); }));
    for (int i = 1; i <= 5; ++i) {
        client::PublishOptions options;
        options.msg_id = "id-" + std::to_string(i);
        auto ack = f.await<client::PubAck>([&](auto cb) {
            f.js->publish("orders.new", std::to_string(i), options, std::move(cb));
        });
        REQUIRE(ack);
        CHECK(ack->sequence == static_cast<std::uint64_t>(i));
    }
    client::PublishOptions duplicate;
    duplicate.msg_id = "id-5";
    auto dup = f.await<client::PubAck>([&](auto cb) { f.js->publish("orders.new", "5", duplicate, std::move(cb)); });
    REQUIRE(dup);
    CHECK(dup->duplicate);
    client::PublishOptions wrong;
    wrong.expected_last_sequence = 1;
    auto refused = f.await<client::PubAck>([&](auto cb) { f.js->publish("orders.new", "x", wrong, std::move(cb)); });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().api.err_code == 10071);

    client::ConsumerConfig durable;
    durable.durable_name = "PULL";
    auto pull = f.await<client::PullSubscription>([&](auto cb) { f.js->pull_subscribe("ORDERS", durable, std::move(cb)); });
    REQUIRE(pull);
    auto batch = f.await<std::vector<client::JsMsg>>([&](auto cb) {
        pull->fetch(client::FetchOptions{3, Duration::seconds(2), false, 0}, std::move(cb));
    });
    REQUIRE(batch);
    REQUIRE(batch->size() == 3);
    CHECK(batch->at(0).metadata()->num_pending == 4);
    for (auto& m : *batch) REQUIRE(m.ack());
    auto sync = f.await<std::vector<client::JsMsg>>([&](auto cb) {
        pull->fetch(client::FetchOptions{1, Duration::seconds(2), false, 0}, std::move(cb));
    });
    REQUIRE(sync);
    REQUIRE(sync->size() == 1);
    auto confirmed = f.await<client::Done>([&](auto cb) { sync->at(0).ack_sync(Duration::seconds(2), std::move(cb)); });
    CHECK(confirmed);
    auto none = f.await<std::vector<client::JsMsg>>([&](auto cb) {
        pull->fetch(client::FetchOptions{5, Duration::seconds(1), true, 0}, std::move(cb));
    });
    REQUIRE(none);
    CHECK(none->size() == 1);  // no_wait: the one left, then 404/408

    std::vector<std::string> got;
    client::SubscribeOptions ordered;
    ordered.stream = "ORDERS";
    ordered.ordered = true;
    auto sub = f.await<client::PushSubscription>([&](auto cb) {
        f.js->subscribe(ordered, [&](client::JsMsg& m) { got.push_back(m.data()); }, std::move(cb));
    });
    REQUIRE(sub);
    REQUIRE(f.wait([&] { return got.size() == 5; }));
    CHECK(got == std::vector<std::string>{"1", "2", "3", "4", "5"});
    REQUIRE(sub->unsubscribe());

    // A fetch from a consumer that is gone: nobody answers, the fetch ends at its own bound.
    REQUIRE(f.await<client::Done>([&](auto cb) { f.js->delete_consumer("ORDERS", "PULL", std::move(cb)); }));
    auto gone = f.await<std::vector<client::JsMsg>>([&](auto cb) {
        pull->fetch(client::FetchOptions{1, Duration::milliseconds(500), false, 0}, std::move(cb));
    });
    REQUIRE_FALSE(gone);
    INFO(gone.error().message());
    CHECK(gone.error().code == client::Errc::timeout);
}

// Our KV's prefixed writes ($JS.<domain>.API.$KV...) are what nats.c reads, through the server's
// domain mapping.
TEST_CASE("kv interop: behind a JetStream domain our KeyValue and nats.c's share a bucket", "[interop][kv]") {
    Fixture f("hub");
    client::KeyValueConfig config;
    config.bucket = "dom";
    auto kv = f.await<client::KeyValue>([&](auto cb) { client::KeyValue::create_bucket(*f.js, config, std::move(cb)); });
    REQUIRE(kv);
    auto revision = f.await<std::uint64_t>([&](auto cb) { kv->put("k", "ours", std::move(cb)); });
    REQUIRE(revision);
    KvStore theirs = f.bind_theirs("dom");
    kvEntry* raw = nullptr;
    REQUIRE_OK(kvStore_Get(&raw, theirs.get(), "k"));
    KvEntry entry(raw);
    CHECK(value_of(entry.get()) == "ours");
    std::uint64_t their_revision = 0;
    REQUIRE_OK(kvStore_PutString(&their_revision, theirs.get(), "k", "theirs"));
    auto read = f.await<client::KeyValueEntry>([&](auto cb) { kv->get("k", std::move(cb)); });
    REQUIRE(read);
    CHECK(read->value == "theirs");
}
