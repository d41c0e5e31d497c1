// KeyValue: a KV bucket over JetStream with the layout nats.go's kv.go uses (kv-and-objects.md
// §1): stream KV_<bucket> on $KV.<bucket>.>, revision = stream sequence, deletes and purges as
// KV-Operation markers, watches as ordered push consumers. Data written here is read by nats.go
// and nats.c, and back. Used by the `herald kv` CLI and tests.
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

inline constexpr std::int64_t kv_history_max = 64;

struct KeyValueConfig {
    std::string bucket;
    std::string description;
    std::int32_t max_value_size = -1;
    std::int64_t history = 1;  // 1..64
    Duration ttl{};            // 0 = keep forever
    std::int64_t max_bytes = -1;
    StorageType storage = StorageType::file;
    int replicas = 1;
    std::optional<Placement> placement;
    std::optional<RePublish> republish;
};

enum class KeyValueOp { put, del, purge };

struct KeyValueEntry {
    std::string bucket;
    std::string key;
    std::string value;
    std::uint64_t revision = 0;
    std::int64_t created_ns = 0;  // Unix nanoseconds of the stored message
    std::uint64_t delta = 0;      // messages still pending after this one (watch only)
    KeyValueOp op = KeyValueOp::put;
};

struct KeyValueStatus {
    std::string bucket;
    std::uint64_t values = 0;   // messages in the bucket, history included
    std::int64_t history = 0;
    Duration ttl{};
    std::uint64_t bytes = 0;
    std::string backing_store = "JetStream";
    StreamInfo info;
};

struct WatchOptions {
    bool include_history = false;  // every revision, not only the last per key
    bool ignore_deletes = false;   // skip delete and purge markers
    bool meta_only = false;        // headers only: entries without values
    bool updates_only = false;     // only changes after the watch starts (no initial values, no marker)
};

// A watch handler gets each entry, then nullptr once when the initial values are done (as nats.go
// sends nil on its channel): right away for an empty bucket, never with updates_only.
using KeyWatchHandler = std::function<void(const KeyValueEntry* entry)>;

namespace detail {
struct WatchState;
}  // namespace detail

// A watch handle; copies share the watch. The watch runs until stop() or until the last copy is
// gone (a dropped watcher stops, it does not leak).
class KeyWatcher {
public:
    KeyWatcher() = default;
    // Stops delivery and deletes the watch's consumer.
    void stop();
    bool valid() const;

private:
    friend class KeyValue;
    std::shared_ptr<detail::WatchState> state_;
};

// A bound bucket. Copyable; it keeps a pointer to its JetStream context, which must outlive it.
class KeyValue {
public:
    KeyValue() = default;

    // Creates the bucket's stream with the config nats.go sends (INFO first, as nats.go); an
    // existing bucket whose only difference is the discard policy is updated (pre-2.7.2 buckets).
    static void create_bucket(JetStream& js, const KeyValueConfig& config, JsCallback<KeyValue> callback);
    // Binds an existing bucket (bucket_not_found, or bad_bucket if it is no KV stream).
    static void bind(JetStream& js, std::string_view bucket, JsCallback<KeyValue> callback);
    static void delete_bucket(JetStream& js, std::string_view bucket, JsCallback<Done> callback);
    // Names of the KV buckets (streams KV_* on $KV.*.>).
    static void bucket_names(JetStream& js, JsCallback<std::vector<std::string>> callback);

    const std::string& bucket() const { return bucket_; }
    const std::string& stream() const { return stream_; }
    // DIRECT.GET is used when the stream allows it (as nats.go), else STREAM.MSG.GET.
    bool uses_direct_get() const { return direct_; }

    // The latest value; key_not_found if none or if the last entry is a delete or purge.
    void get(std::string_view key, JsCallback<KeyValueEntry> callback) const;
    // The entry at `revision`; key_not_found if that revision is not this key (or a marker).
    void get_revision(std::string_view key, std::uint64_t revision, JsCallback<KeyValueEntry> callback) const;
    // The callbacks get the new revision.
    void put(std::string_view key, std::string_view value, JsCallback<std::uint64_t> callback) const;
    // Only if the key has no value (never written, or deleted/purged): else key_exists.
    void create(std::string_view key, std::string_view value, JsCallback<std::uint64_t> callback) const;
    // Only if the key's latest revision is `last_revision`: else wrong_last_sequence.
    void update(std::string_view key, std::string_view value, std::uint64_t last_revision,
                JsCallback<std::uint64_t> callback) const;
    // A delete marker (history kept); a purge marker removes the key's earlier revisions. With
    // `last_revision`, only if that is the key's latest revision.
    void delete_key(std::string_view key, std::optional<std::uint64_t> last_revision,
                    JsCallback<Done> callback) const;
    void purge_key(std::string_view key, std::optional<std::uint64_t> last_revision,
                   JsCallback<Done> callback) const;
    // Keys with a value now (deleted keys are skipped); empty if none.
    void keys(JsCallback<std::vector<std::string>> callback) const;
    // Every stored revision of `key`, oldest first, markers included; key_not_found if none.
    void history(std::string_view key, JsCallback<std::vector<KeyValueEntry>> callback) const;
    // Watches keys matching `pattern` (may hold * and >); `handler` as KeyWatchHandler says.
    void watch(std::string_view pattern, const WatchOptions& options, KeyWatchHandler handler,
               JsCallback<KeyWatcher> callback) const;
    void watch_all(const WatchOptions& options, KeyWatchHandler handler, JsCallback<KeyWatcher> callback) const {
        watch(">", options, std::move(handler), std::move(callback));
    }
    void status(JsCallback<KeyValueStatus> callback) const;
    // kv.go PurgeDeletes: every key whose last entry is a delete or purge marker is purged from
    // the stream; a marker younger than `older_than` (default 30 minutes; 0 = all) is kept.
    void purge_deletes(std::optional<Duration> older_than, JsCallback<Done> callback) const;

private:
    static KeyValue from_info(JetStream& js, const std::string& bucket, const StreamInfo& info);
    void publish_marker(std::string_view key, std::string_view op, std::optional<std::uint64_t> last_revision,
                        JsCallback<Done> callback) const;
    void get_entry(std::string_view key, std::uint64_t revision,
                   std::function<void(JsResult<KeyValueEntry>, bool deleted)> callback) const;

    JetStream* js_ = nullptr;
    std::string bucket_;
    std::string stream_;
    std::string prefix_;      // $KV.<bucket>.
    std::string put_prefix_;  // prefix_, behind the API prefix when that is not $JS.API.
    bool direct_ = false;
};

// Bucket names: ^[a-zA-Z0-9_-]+$. Keys: ^[-/_=.a-zA-Z0-9]+$, not starting or ending with '.'.
bool valid_bucket_name(std::string_view bucket);
bool valid_key(std::string_view key);

}  // namespace herald::client
