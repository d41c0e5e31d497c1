// ObjectStore (engine/client/object_store.h) and its SHA-256 against a herald Server with
// JetStream in one simulated world: the bucket request and the chunk/meta layout as nats.go
// writes them, put/get of multi-chunk objects with digest checks, replacement, delete, links,
// list and watch; corrupt metas are caught. SHA-256 against the FIPS 180 examples.
#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/client/object_store.h"
#include "engine/client/sha256.h"
#include "tests/client/js_fixture.h"

using herald::Duration;
using herald::client::Done;
using herald::client::Headers;
using herald::client::JsErrc;
using herald::client::Message;
using herald::client::ObjectInfo;
using herald::client::ObjectMeta;
using herald::client::ObjectResult;
using herald::client::ObjectStore;
using herald::client::ObjectStoreConfig;
using herald::client::ObjectWatcher;
using herald::client::PubAck;
using herald::client::Sha256;
using herald::client::StoredMsg;
using herald::client::StreamInfo;
using herald::testing::ClientJsFixture;

namespace {

ObjectStore make_store(ClientJsFixture& f, const std::string& bucket) {
    ObjectStoreConfig config;
    config.bucket = bucket;
    auto store = f.await<ObjectStore>([&](auto cb) { ObjectStore::create_bucket(*f.js, config, std::move(cb)); });
    INFO((store ? std::string("ok") : store.error().message()));
    REQUIRE(store);
    return *store;
}

ObjectInfo put(ClientJsFixture& f, const ObjectStore& store, const std::string& name, const std::string& data,
               std::uint32_t chunk_size = 0) {
    ObjectMeta meta;
    meta.name = name;
    meta.chunk_size = chunk_size;
    auto info = f.await<ObjectInfo>([&](auto cb) { store.put(meta, data, std::move(cb)); });
    INFO((info ? std::string("ok") : info.error().message()));
    REQUIRE(info);
    return *info;
}

// Deterministic bytes that differ per position (so a swapped chunk changes the digest).
std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : data) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xFF);
    }
    return data;
}

std::map<std::string, std::uint64_t> subjects(ClientJsFixture& f, const std::string& stream) {
    herald::client::StreamInfoOptions options;
    options.subjects_filter = ">";
    auto info = f.await<StreamInfo>([&](auto cb) { f.js->stream_info(stream, options, std::move(cb)); });
    REQUIRE(info);
    return info->state.subjects;
}

}  // namespace

TEST_CASE("sha256: the FIPS 180 examples", "[client][object]") {
    CHECK(Sha256::hex(Sha256::of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(Sha256::hex(Sha256::of("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(Sha256::hex(Sha256::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed in uneven pieces to cross block boundaries.
    Sha256 sha;
    const std::string piece(997, 'a');
    std::size_t fed = 0;
    while (fed + piece.size() <= 1'000'000) {
        sha.update(piece);
        fed += piece.size();
    }
    sha.update(std::string(1'000'000 - fed, 'a'));
    CHECK(Sha256::hex(sha.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // 55, 56 and 64 bytes: the padding edge cases.
    CHECK(Sha256::hex(Sha256::of(std::string(55, 'x'))) != Sha256::hex(Sha256::of(std::string(56, 'x'))));
    CHECK(Sha256::hex(Sha256::of(std::string(64, 'a'))) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("object store: digests and names are encoded as nats.go encodes them", "[client][object]") {
    CHECK(herald::client::object_digest("hello") == "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
    CHECK(herald::client::object_digest("") == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
    CHECK(herald::client::base64url_encode("file.txt") == "ZmlsZS50eHQ=");
    CHECK(herald::client::base64url_encode("a/b c") == "YS9iIGM=");
}

TEST_CASE("object store: create_bucket sends nats.go's stream config", "[client][object][sim]") {
    ClientJsFixture f;
    herald::client::Connection& spy = f.connect();
    std::vector<std::string> requests;
    REQUIRE(spy.subscribe("$JS.API.STREAM.CREATE.OBJ_files", [&](const Message& m) { requests.push_back(m.payload); }));
    bool flushed = false;
    spy.flush([&](herald::Status) { flushed = true; });
    REQUIRE(f.wait([&] { return flushed; }));
    make_store(f, "files");
    REQUIRE(requests.size() == 1);
    CHECK(requests[0] ==
          R"({"name":"OBJ_files","subjects":["$O.files.C.>","$O.files.M.>"],"retention":"limits","max_consumers":0,)"
          R"("max_msgs":0,"max_bytes":-1,"discard":"new","max_age":0,"max_msgs_per_subject":0,"storage":"file",)"
          R"("num_replicas":1,"allow_rollup_hdrs":true,"allow_direct":true,"mirror_direct":false})");
}

TEST_CASE("object store: a multi-chunk object round-trips with nats.go's chunk and meta layout", "[client][object][sim]") {
    // Goal: chunks on $O.<b>.C.<nuid>, one meta on $O.<b>.M.<base64url name> with the ObjectInfo
    // JSON nats.go writes, and a get that reassembles and verifies the object.
    // Method: a 300 KiB + 7 object (3 chunks of 128 KiB), then read the stream directly.
    ClientJsFixture f;
    ObjectStore store = make_store(f, "files");
    const std::string data = pattern(300 * 1024 + 7);
    ObjectInfo info = put(f, store, "file.txt", data);
    CHECK(info.size == data.size());
    CHECK(info.chunks == 3);
    CHECK(info.digest == herald::client::object_digest(data));
    CHECK(info.nuid.size() == 22);
    CHECK(info.bucket == "files");

    const auto stored = subjects(f, "OBJ_files");
    CHECK(stored == std::map<std::string, std::uint64_t>{{"$O.files.C." + info.nuid, 3}, {"$O.files.M.ZmlsZS50eHQ=", 1}});
    auto meta = f.await<StoredMsg>([&](auto cb) { f.js->get_last_msg("OBJ_files", "$O.files.M.ZmlsZS50eHQ=", std::move(cb)); });
    REQUIRE(meta);
    CHECK(meta->headers.get("Nats-Rollup") == "sub");
    CHECK(meta->data == R"({"name":"file.txt","options":{"max_chunk_size":131072},"bucket":"files","nuid":")" + info.nuid +
                            R"(","size":307207,"mtime":"0001-01-01T00:00:00Z","chunks":3,"digest":")" + info.digest +
                            R"("})");
    auto first_chunk = f.await<StoredMsg>([&](auto cb) { f.js->get_msg("OBJ_files", 1, std::move(cb)); });
    REQUIRE(first_chunk);
    CHECK(first_chunk->data.size() == 131072);
    CHECK(first_chunk->headers.empty());

    auto got = f.await<ObjectResult>([&](auto cb) { store.get("file.txt", std::move(cb)); });
    INFO((got ? std::string("ok") : got.error().message()));
    REQUIRE(got);
    CHECK(got->data == data);
    CHECK(got->info.size == data.size());
    CHECK(got->info.mtime_ns == meta->time_ns);

    auto missing = f.await<ObjectResult>([&](auto cb) { store.get("nope", std::move(cb)); });
    CHECK(missing.error().code == JsErrc::object_not_found);
}

TEST_CASE("object store: a new version replaces the old chunks; empty objects; small chunk sizes", "[client][object][sim]") {
    ClientJsFixture f;
    ObjectStore store = make_store(f, "v");
    ObjectInfo first = put(f, store, "doc", pattern(1000), 256);
    CHECK(first.chunks == 4);
    ObjectInfo second = put(f, store, "doc", "second version", 256);
    CHECK(second.nuid != first.nuid);
    CHECK(subjects(f, "OBJ_v") ==
          std::map<std::string, std::uint64_t>{{"$O.v.C." + second.nuid, 1}, {"$O.v.M.ZG9j", 1}});
    auto got = f.await<ObjectResult>([&](auto cb) { store.get("doc", std::move(cb)); });
    REQUIRE(got);
    CHECK(got->data == "second version");

    ObjectInfo empty = put(f, store, "empty", "");
    CHECK(empty.size == 0);
    CHECK(empty.chunks == 0);
    CHECK(empty.digest == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
    auto got_empty = f.await<ObjectResult>([&](auto cb) { store.get("empty", std::move(cb)); });
    REQUIRE(got_empty);
    CHECK(got_empty->data.empty());

    // More chunks than the put window (32) in flight.
    const std::string many = pattern(100 * 64 + 1);
    ObjectInfo big = put(f, store, "many", many, 64);
    CHECK(big.chunks == 101);
    auto got_many = f.await<ObjectResult>([&](auto cb) { store.get("many", std::move(cb)); });
    REQUIRE(got_many);
    CHECK(got_many->data == many);
}

TEST_CASE("object store: delete, info, list and links", "[client][object][sim]") {
    ClientJsFixture f;
    ObjectStore store = make_store(f, "docs");
    ObjectMeta meta;
    meta.name = "a.txt";
    meta.description = "first";
    meta.headers.add("Content-Type", "text/plain");
    auto a = f.await<ObjectInfo>([&](auto cb) { store.put(meta, "AAA", std::move(cb)); });
    REQUIRE(a);
    put(f, store, "b.txt", "BBB");
    auto info = f.await<ObjectInfo>([&](auto cb) { store.get_info("a.txt", false, std::move(cb)); });
    REQUIRE(info);
    CHECK(info->meta.description == "first");
    CHECK(info->meta.headers.get("Content-Type") == "text/plain");
    CHECK(info->size == 3);
    CHECK(info->mtime_ns > 0);

    auto link = f.await<ObjectInfo>([&](auto cb) { store.add_link("latest", *a, std::move(cb)); });
    REQUIRE(link);
    auto via_link = f.await<ObjectResult>([&](auto cb) { store.get("latest", std::move(cb)); });
    REQUIRE(via_link);
    CHECK(via_link->data == "AAA");
    auto link_to_link = f.await<ObjectInfo>([&](auto cb) { store.add_link("l2", *link, std::move(cb)); });
    CHECK(link_to_link.error().code == JsErrc::invalid_argument);

    auto list = f.await<std::vector<ObjectInfo>>([&](auto cb) { store.list(false, std::move(cb)); });
    REQUIRE(list);
    std::vector<std::string> names;
    for (const auto& o : *list) names.push_back(o.meta.name);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"a.txt", "b.txt", "latest"});

    REQUIRE(f.await<Done>([&](auto cb) { store.delete_object("b.txt", std::move(cb)); }));
    auto gone = f.await<ObjectResult>([&](auto cb) { store.get("b.txt", std::move(cb)); });
    CHECK(gone.error().code == JsErrc::object_not_found);
    auto shown = f.await<ObjectInfo>([&](auto cb) { store.get_info("b.txt", true, std::move(cb)); });
    REQUIRE(shown);
    CHECK(shown->deleted);
    CHECK(shown->size == 0);
    CHECK(shown->digest.empty());
    for (const auto& [subject, count] : subjects(f, "OBJ_docs")) {
        CHECK(subject.rfind("$O.docs.C." + shown->nuid, 0) == std::string::npos);  // its chunks were purged
    }
    auto after = f.await<std::vector<ObjectInfo>>([&](auto cb) { store.list(false, std::move(cb)); });
    REQUIRE(after);
    CHECK(after->size() == 2);
    auto with_deleted = f.await<std::vector<ObjectInfo>>([&](auto cb) { store.list(true, std::move(cb)); });
    REQUIRE(with_deleted);
    CHECK(with_deleted->size() == 3);

    auto status = f.await<herald::client::ObjectStoreStatus>([&](auto cb) { store.status(std::move(cb)); });
    REQUIRE(status);
    CHECK(status->bucket == "docs");
    CHECK(status->size > 0);

    auto empty_list = f.await<std::vector<ObjectInfo>>([&](auto cb) { make_store(f, "none").list(false, std::move(cb)); });
    REQUIRE(empty_list);
    CHECK(empty_list->empty());
    REQUIRE(f.await<Done>([&](auto cb) { ObjectStore::delete_bucket(*f.js, "none", std::move(cb)); }));
    auto unbound = f.await<ObjectStore>([&](auto cb) { ObjectStore::bind(*f.js, "none", std::move(cb)); });
    CHECK(unbound.error().code == JsErrc::bucket_not_found);
}

TEST_CASE("object store: a watch sends the current objects, the marker, then changes", "[client][object][sim]") {
    ClientJsFixture f;
    ObjectStore store = make_store(f, "w");
    put(f, store, "one", "1");
    put(f, store, "two", "2");
    std::vector<std::string> events;
    auto watcher = f.await<ObjectWatcher>([&](auto cb) {
        store.watch({}, [&](const ObjectInfo* info) {
            events.push_back(info == nullptr ? "<init done>" : info->meta.name + (info->deleted ? " deleted" : ""));
        }, std::move(cb));
    });
    REQUIRE(watcher);
    REQUIRE(f.wait([&] { return events.size() == 3; }));
    CHECK(events == std::vector<std::string>{"one", "two", "<init done>"});
    put(f, store, "three", "3");
    REQUIRE(f.await<Done>([&](auto cb) { store.delete_object("one", std::move(cb)); }));
    REQUIRE(f.wait([&] { return events.size() == 5; }));
    CHECK(events[3] == "three");
    CHECK(events[4] == "one deleted");
    watcher->stop();
    put(f, store, "four", "4");
    f.world.run_for(Duration::milliseconds(100));
    CHECK(events.size() == 5);
}

TEST_CASE("object store: a get detects a digest or size that does not match the chunks", "[client][object][sim]") {
    // Goal: corruption is reported, not returned. Method: rewrite the meta (rollup) with a wrong
    // digest, then with a wrong size, keeping the real chunks.
    ClientJsFixture f;
    ObjectStore store = make_store(f, "c");
    const std::string data = pattern(5000);
    ObjectInfo info = put(f, store, "obj", data, 1024);
    auto meta = f.await<StoredMsg>([&](auto cb) { f.js->get_last_msg("OBJ_c", "$O.c.M.b2Jq", std::move(cb)); });
    REQUIRE(meta);
    Headers rollup{{"Nats-Rollup", "sub"}};
    std::string bad_digest = meta->data;
    const auto at = bad_digest.find(info.digest);
    REQUIRE(at != std::string::npos);
    bad_digest.replace(at, info.digest.size(), herald::client::object_digest("something else"));
    REQUIRE(f.await<PubAck>([&](auto cb) { f.js->publish("$O.c.M.b2Jq", rollup, bad_digest, {}, std::move(cb)); }));
    auto corrupt = f.await<ObjectResult>([&](auto cb) { store.get("obj", std::move(cb)); });
    REQUIRE_FALSE(corrupt);
    CHECK(corrupt.error().code == JsErrc::digest_mismatch);

    std::string bad_size = meta->data;
    const auto size_at = bad_size.find("\"size\":5000");
    REQUIRE(size_at != std::string::npos);
    bad_size.replace(size_at, 11, "\"size\":5001");
    REQUIRE(f.await<PubAck>([&](auto cb) { f.js->publish("$O.c.M.b2Jq", rollup, bad_size, {}, std::move(cb)); }));
    auto short_read = f.await<ObjectResult>([&](auto cb) { store.get("obj", std::move(cb)); });
    REQUIRE_FALSE(short_read);
    CHECK(short_read.error().code == JsErrc::size_mismatch);
}
