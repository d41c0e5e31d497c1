// ObjectStore: objects of any size over JetStream with the layout of nats.go's object.go
// (kv-and-objects.md §3): stream OBJ_<bucket> on $O.<bucket>.C.> (chunks, one subject per object
// version) and $O.<bucket>.M.> (one meta message per object, base64url name, rolled up), with a
// SHA-256 digest. Objects written here are read by nats.go and nats.c, and back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/client/jetstream.h"

namespace herald::client {

inline constexpr std::uint32_t object_chunk_size_default = 128 * 1024;
// Chunk publishes in flight during one put (each waits for its PubAck).
inline constexpr std::size_t object_put_window = 32;

struct ObjectStoreConfig {
    std::string bucket;
    std::string description;
    Duration ttl{};
    std::int64_t max_bytes = -1;
    StorageType storage = StorageType::file;
    int replicas = 1;
    std::optional<Placement> placement;
};

struct ObjectLink {
    std::string bucket;
    std::string name;  // empty = a link to the whole bucket
};

struct ObjectMeta {
    std::string name;
    std::string description;
    Headers headers;
    std::optional<ObjectLink> link;
    std::uint32_t chunk_size = 0;  // 0 = object_chunk_size_default
};

struct ObjectInfo {
    ObjectMeta meta;
    std::string bucket;
    std::string nuid;
    std::uint64_t size = 0;
    std::uint32_t chunks = 0;
    std::string digest;  // "SHA-256=<base64url, padded>"
    bool deleted = false;
    std::int64_t mtime_ns = 0;  // the meta message's stream time
};

struct ObjectResult {
    ObjectInfo info;
    std::string data;
};

struct ObjectStoreStatus {
    std::string bucket;
    std::string description;
    Duration ttl{};
    StorageType storage = StorageType::file;
    int replicas = 1;
    bool sealed = false;
    std::uint64_t size = 0;  // stream bytes
    std::string backing_store = "JetStream";
    StreamInfo info;
};

struct ObjectWatchOptions {
    bool include_history = false;
    bool ignore_deletes = false;
    bool updates_only = false;
};

// A watch handler gets each object's info, then nullptr once when the initial state is done.
using ObjectWatchHandler = std::function<void(const ObjectInfo* info)>;

namespace detail {
struct ObjectWatchState;
}  // namespace detail

// A watch handle; copies share it; the watch stops with stop() or the last copy.
class ObjectWatcher {
public:
    ObjectWatcher() = default;
    void stop();
    bool valid() const;

private:
    friend class ObjectStore;
    std::shared_ptr<detail::ObjectWatchState> state_;
};

// A bound object store. Copyable; its JetStream context must outlive it.
class ObjectStore {
public:
    ObjectStore() = default;

    // Creates OBJ_<bucket> with the stream config nats.go's CreateObjectStore sends.
    static void create_bucket(JetStream& js, const ObjectStoreConfig& config, JsCallback<ObjectStore> callback);
    static void bind(JetStream& js, std::string_view bucket, JsCallback<ObjectStore> callback);
    static void delete_bucket(JetStream& js, std::string_view bucket, JsCallback<Done> callback);

    const std::string& bucket() const { return bucket_; }
    const std::string& stream() const { return stream_; }

    // Stores `data` in chunks (meta.chunk_size, 128 KiB default) under a new NUID, then the meta
    // (Nats-Rollup: sub), then purges the previous version's chunks. On a failure the new chunks
    // are purged. The callback gets the stored info.
    void put(const ObjectMeta& meta, std::string_view data, JsCallback<ObjectInfo> callback) const;
    // Reads an object (following a link) and checks its size, chunk count and digest.
    void get(std::string_view name, JsCallback<ObjectResult> callback) const;
    // object_not_found if missing, or deleted unless `show_deleted`.
    void get_info(std::string_view name, bool show_deleted, JsCallback<ObjectInfo> callback) const;
    // Marks the object deleted (meta with deleted, size 0) and purges its chunks.
    void delete_object(std::string_view name, JsCallback<Done> callback) const;
    // A link named `name` to `target` (an object of any bucket); links to links are refused.
    void add_link(std::string_view name, const ObjectInfo& target, JsCallback<ObjectInfo> callback) const;
    // Infos of the objects not deleted (or all with `show_deleted`); empty if none.
    void list(bool show_deleted, JsCallback<std::vector<ObjectInfo>> callback) const;
    void watch(const ObjectWatchOptions& options, ObjectWatchHandler handler, JsCallback<ObjectWatcher> callback) const;
    void status(JsCallback<ObjectStoreStatus> callback) const;

private:
    void publish_meta(const ObjectInfo& info, JsCallback<PubAck> callback) const;
    std::string meta_subject(std::string_view name) const;

    JetStream* js_ = nullptr;
    std::string bucket_;
    std::string stream_;
};

// "SHA-256=" + base64url(sha256(data)), padded: the digest nats.go stores.
std::string object_digest(std::string_view data);

}  // namespace herald::client
