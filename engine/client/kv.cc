#include "engine/client/kv.h"

#include <algorithm>
#include <utility>

#include "engine/base/assert.h"
#include "engine/client/jetstream_json.h"
#include "engine/client/watch_collector.h"

namespace herald::client {

namespace {

constexpr std::string_view kv_operation = "KV-Operation";
constexpr std::string_view op_del = "DEL";
constexpr std::string_view op_purge = "PURGE";

bool bucket_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

KeyValueOp op_of(const Headers& headers) {
    const auto op = headers.get(kv_operation);
    if (op == op_del) return KeyValueOp::del;
    if (op == op_purge) return KeyValueOp::purge;
    return KeyValueOp::put;
}

// kv.go CreateKeyValue's stream config.
StreamConfig bucket_stream_config(const KeyValueConfig& c) {
    StreamConfig s;
    s.name = "KV_" + c.bucket;
    s.description = c.description;
    s.subjects = {"$KV." + c.bucket + ".>"};
    s.max_msgs_per_subject = c.history < 1 ? 1 : c.history;
    s.max_bytes = c.max_bytes == 0 ? -1 : c.max_bytes;
    s.max_age = c.ttl;
    s.max_msg_size = c.max_value_size == 0 ? -1 : c.max_value_size;
    s.storage = c.storage;
    s.num_replicas = c.replicas == 0 ? 1 : c.replicas;
    s.placement = c.placement;
    s.allow_rollup_hdrs = true;
    s.deny_delete = true;
    // The server's duplicate window defaults to 2 minutes, or the TTL when that is shorter.
    s.duplicate_window = Duration::seconds(120);
    if (c.ttl.ns != 0 && c.ttl < s.duplicate_window) s.duplicate_window = c.ttl;
    s.max_msgs = -1;
    s.max_consumers = -1;
    s.allow_direct = true;
    s.republish = c.republish;
    s.discard = DiscardPolicy::new_messages;  // servers >= 2.7.2
    return s;
}

}  // namespace

bool valid_bucket_name(std::string_view bucket) {
    return !bucket.empty() && std::all_of(bucket.begin(), bucket.end(), bucket_char);
}

bool valid_key(std::string_view key) {
    if (key.empty() || key.front() == '.' || key.back() == '.') return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '/' ||
               c == '_' || c == '=' || c == '.';
    });
}

// ---------------------------------------------------------------------------------------------
// Buckets.

KeyValue KeyValue::from_info(JetStream& js, const std::string& bucket, const StreamInfo& info) {
    KeyValue kv;
    kv.js_ = &js;
    kv.bucket_ = bucket;
    kv.stream_ = "KV_" + bucket;
    kv.prefix_ = "$KV." + bucket + ".";
    // kv.go useJSPfx: behind an API prefix other than the default (a domain or an import), puts
    // go to <prefix>$KV.<bucket>.<key> and the server's domain mapping brings them home.
    kv.put_prefix_ = js.api_prefix() == "$JS.API." ? kv.prefix_ : js.api_prefix() + kv.prefix_;
    kv.direct_ = info.config.allow_direct;
    return kv;
}

void KeyValue::create_bucket(JetStream& js, const KeyValueConfig& config, JsCallback<KeyValue> callback) {
    auto post = [&js](JsCallback<KeyValue> cb, JsErrc code) {
        js.env().loop.post([cb = std::move(cb), code] { cb(code); });
    };
    if (!valid_bucket_name(config.bucket)) return post(std::move(callback), JsErrc::invalid_argument);
    if (config.history > kv_history_max) return post(std::move(callback), JsErrc::history_too_large);
    JetStream* jsp = &js;
    const StreamConfig stream_config = bucket_stream_config(config);
    const std::string bucket = config.bucket;
    js.account_info([jsp, stream_config, bucket, callback = std::move(callback)](JsResult<AccountInfo> account) mutable {
        if (!account) return callback(account.error());
        jsp->add_stream(stream_config, [jsp, stream_config, bucket,
                                        callback = std::move(callback)](JsResult<StreamInfo> created) mutable {
            if (created) return callback(from_info(*jsp, bucket, *created));
            if (created.error().code != JsErrc::stream_name_in_use) return callback(created.error());
            // kv.go: a bucket made before discard "new" existed differs only in discard; update it.
            JsError in_use = created.error();
            jsp->stream_info(stream_config.name, [jsp, stream_config, bucket, in_use,
                                                  callback = std::move(callback)](JsResult<StreamInfo> info) mutable {
                if (!info) return callback(in_use);
                StreamConfig existing = info->config;
                existing.discard = stream_config.discard;
                if (detail::encode_stream_config(existing) != detail::encode_stream_config(stream_config)) {
                    return callback(in_use);
                }
                jsp->update_stream(stream_config, [jsp, bucket, callback = std::move(callback)](JsResult<StreamInfo> updated) {
                    if (!updated) return callback(updated.error());
                    callback(from_info(*jsp, bucket, *updated));
                });
            });
        });
    });
}

void KeyValue::bind(JetStream& js, std::string_view bucket, JsCallback<KeyValue> callback) {
    if (!valid_bucket_name(bucket)) {
        js.env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    JetStream* jsp = &js;
    std::string name(bucket);
    js.stream_info("KV_" + name, [jsp, name, callback = std::move(callback)](JsResult<StreamInfo> info) {
        if (!info) {
            if (info.error().code == JsErrc::stream_not_found) return callback(JsErrc::bucket_not_found);
            return callback(info.error());
        }
        if (info->config.max_msgs_per_subject < 1) return callback(JsErrc::bad_bucket);
        callback(from_info(*jsp, name, *info));
    });
}

void KeyValue::delete_bucket(JetStream& js, std::string_view bucket, JsCallback<Done> callback) {
    if (!valid_bucket_name(bucket)) {
        js.env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    js.delete_stream("KV_" + std::string(bucket), [callback = std::move(callback)](JsResult<Done> done) {
        if (!done && done.error().code == JsErrc::stream_not_found) return callback(JsErrc::bucket_not_found);
        callback(std::move(done));
    });
}

void KeyValue::bucket_names(JetStream& js, JsCallback<std::vector<std::string>> callback) {
    js.stream_names("$KV.*.>", [callback = std::move(callback)](JsResult<std::vector<std::string>> names) {
        if (!names) return callback(names.error());
        std::vector<std::string> buckets;
        for (const auto& name : *names) {
            if (name.rfind("KV_", 0) == 0) buckets.push_back(name.substr(3));
        }
        callback(std::move(buckets));
    });
}

void KeyValue::status(JsCallback<KeyValueStatus> callback) const {
    ASSERT(js_ != nullptr);
    js_->stream_info(stream_, [bucket = bucket_, callback = std::move(callback)](JsResult<StreamInfo> info) {
        if (!info) return callback(info.error());
        KeyValueStatus status;
        status.bucket = bucket;
        status.values = info->state.messages;
        status.history = info->config.max_msgs_per_subject;
        status.ttl = info->config.max_age;
        status.bytes = info->state.bytes;
        status.info = std::move(*info);
        callback(std::move(status));
    });
}

// ---------------------------------------------------------------------------------------------
// Reads.

void KeyValue::get_entry(std::string_view key, std::uint64_t revision,
                         std::function<void(JsResult<KeyValueEntry>, bool deleted)> callback) const {
    ASSERT(js_ != nullptr);
    if (!valid_key(key)) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument, false); });
        return;
    }
    const std::string subject = prefix_ + std::string(key);
    auto done = [bucket = bucket_, key = std::string(key), subject, revision,
                 callback = std::move(callback)](JsResult<StoredMsg> msg) {
        if (!msg) {
            if (msg.error().code == JsErrc::message_not_found) return callback(JsErrc::key_not_found, false);
            return callback(msg.error(), false);
        }
        // kv.go: a revision read must be of this key.
        if (revision != 0 && msg->subject != subject) return callback(JsErrc::key_not_found, false);
        KeyValueEntry entry;
        entry.bucket = bucket;
        entry.key = key;
        entry.value = std::move(msg->data);
        entry.revision = msg->sequence;
        entry.created_ns = msg->time_ns;
        entry.op = op_of(msg->headers);
        const bool deleted = entry.op != KeyValueOp::put;
        callback(std::move(entry), deleted);
    };
    if (revision == 0) {
        if (direct_) return js_->direct_get_last(stream_, subject, std::move(done));
        return js_->get_last_msg(stream_, subject, std::move(done));
    }
    MsgGetRequest request;
    request.seq = revision;
    if (direct_) return js_->direct_get(stream_, request, std::move(done));
    js_->get_msg(stream_, request, std::move(done));
}

void KeyValue::get(std::string_view key, JsCallback<KeyValueEntry> callback) const {
    get_entry(key, 0, [callback = std::move(callback)](JsResult<KeyValueEntry> entry, bool deleted) {
        if (entry && deleted) return callback(JsErrc::key_not_found);
        callback(std::move(entry));
    });
}

void KeyValue::get_revision(std::string_view key, std::uint64_t revision, JsCallback<KeyValueEntry> callback) const {
    if (revision == 0) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    get_entry(key, revision, [callback = std::move(callback)](JsResult<KeyValueEntry> entry, bool deleted) {
        if (entry && deleted) return callback(JsErrc::key_not_found);
        callback(std::move(entry));
    });
}

// ---------------------------------------------------------------------------------------------
// Writes.

namespace {
JsCallback<PubAck> revision_of(JsCallback<std::uint64_t> callback) {
    return [callback = std::move(callback)](JsResult<PubAck> ack) {
        if (!ack) return callback(ack.error());
        callback(ack->sequence);
    };
}
}  // namespace

void KeyValue::put(std::string_view key, std::string_view value, JsCallback<std::uint64_t> callback) const {
    ASSERT(js_ != nullptr);
    if (!valid_key(key)) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    js_->publish(put_prefix_ + std::string(key), value, {}, revision_of(std::move(callback)));
}

void KeyValue::update(std::string_view key, std::string_view value, std::uint64_t last_revision,
                      JsCallback<std::uint64_t> callback) const {
    ASSERT(js_ != nullptr);
    if (!valid_key(key)) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    PublishOptions options;
    options.expected_last_subject_sequence = last_revision;
    js_->publish(put_prefix_ + std::string(key), value, options, revision_of(std::move(callback)));
}

void KeyValue::create(std::string_view key, std::string_view value, JsCallback<std::uint64_t> callback) const {
    // kv.go Create: update at revision 0; if that fails and the last entry is a delete or purge
    // marker, update at the marker's revision; otherwise the key exists.
    KeyValue self = *this;
    std::string k(key);
    std::string v(value);
    update(key, value, 0, [self, k, v, callback = std::move(callback)](JsResult<std::uint64_t> revision) mutable {
        if (revision) return callback(std::move(revision));
        if (revision.error().code != JsErrc::wrong_last_sequence) return callback(std::move(revision));
        JsError first = revision.error();
        self.get_entry(k, 0, [self, k, v, first, callback = std::move(callback)](JsResult<KeyValueEntry> entry,
                                                                                   bool deleted) mutable {
            if (entry && deleted) return self.update(k, v, entry->revision, std::move(callback));
            JsError exists = first;
            exists.code = make_error_code(JsErrc::key_exists);
            callback(std::move(exists));
        });
    });
}

void KeyValue::publish_marker(std::string_view key, std::string_view op, std::optional<std::uint64_t> last_revision,
                              JsCallback<Done> callback) const {
    ASSERT(js_ != nullptr);
    if (!valid_key(key)) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    Headers headers;
    headers.set(std::string(kv_operation), std::string(op));
    if (op == op_purge) headers.set("Nats-Rollup", "sub");
    PublishOptions options;
    options.expected_last_subject_sequence = last_revision;
    js_->publish(put_prefix_ + std::string(key), headers, "", options,
                 [callback = std::move(callback)](JsResult<PubAck> ack) {
                     if (!ack) return callback(ack.error());
                     callback(Done{});
                 });
}

void KeyValue::delete_key(std::string_view key, std::optional<std::uint64_t> last_revision,
                          JsCallback<Done> callback) const {
    publish_marker(key, op_del, last_revision, std::move(callback));
}

void KeyValue::purge_key(std::string_view key, std::optional<std::uint64_t> last_revision,
                         JsCallback<Done> callback) const {
    publish_marker(key, op_purge, last_revision, std::move(callback));
}

// ---------------------------------------------------------------------------------------------
// Watch.

namespace detail {

struct WatchState {
    std::string bucket;
    std::string prefix;
    WatchOptions options;
    KeyWatchHandler handler;
    PushSubscription subscription;
    bool init_done = false;
    std::uint64_t init_pending = 0;
    std::uint64_t received = 0;
    bool stopped = false;

    // The last KeyWatcher handle gone stops the watch.
    ~WatchState() {
        if (!stopped) (void)subscription.unsubscribe();
    }

    void mark_done() {
        if (init_done) return;
        init_done = true;
        handler(nullptr);
    }

    // kv.go Watch's update(): the entry from the subject, the KV-Operation header and the ack
    // reply tokens; the initial values end when the pending count says so.
    void on_message(const JsMsg& msg) {
        if (stopped) return;
        auto meta = msg.metadata();
        if (!meta) return;
        if (msg.subject().size() <= prefix.size()) return;
        KeyValueEntry entry;
        entry.bucket = bucket;
        entry.key = msg.subject().substr(prefix.size());
        entry.value = msg.data();
        entry.revision = meta->stream_sequence;
        entry.created_ns = meta->timestamp_ns;
        entry.delta = meta->num_pending;
        entry.op = op_of(msg.headers());
        if (!options.ignore_deletes || entry.op == KeyValueOp::put) handler(&entry);
        if (stopped || init_done) return;
        ++received;
        if (init_pending == 0) init_pending = entry.delta;
        if (received > init_pending || entry.delta == 0) mark_done();
    }
};

}  // namespace detail

void KeyWatcher::stop() {
    if (!state_ || state_->stopped) return;
    state_->stopped = true;
    (void)state_->subscription.unsubscribe();
}

bool KeyWatcher::valid() const { return state_ && !state_->stopped; }

void KeyValue::watch(std::string_view pattern, const WatchOptions& options, KeyWatchHandler handler,
                     JsCallback<KeyWatcher> callback) const {
    ASSERT(js_ != nullptr);
    if (pattern.empty() || !handler) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    auto state = std::make_shared<detail::WatchState>();
    state->bucket = bucket_;
    state->prefix = prefix_;
    state->options = options;
    state->handler = std::move(handler);
    SubscribeOptions sub;
    sub.stream = stream_;
    sub.ordered = true;
    sub.config.filter_subject = prefix_ + std::string(pattern);
    if (options.updates_only) {
        sub.config.deliver_policy = DeliverPolicy::new_messages;
    } else if (!options.include_history) {
        sub.config.deliver_policy = DeliverPolicy::last_per_subject;
    }
    sub.config.headers_only = options.meta_only;
    // The consumer's handler holds the state weakly: the KeyWatcher handles own it (a strong
    // reference here would make a cycle through state->subscription).
    std::weak_ptr<detail::WatchState> weak = state;
    js_->subscribe(
        sub,
        [weak](JsMsg& msg) {
            if (auto self = weak.lock()) self->on_message(msg);
        },
        [state, callback = std::move(callback)](JsResult<PushSubscription> subscription) {
            if (!subscription) return callback(subscription.error());
            state->subscription = *subscription;
            KeyWatcher watcher;
            watcher.state_ = state;
            // kv.go: nothing pending at creation means the initial values are done (none);
            // updates_only has no initial values and no marker.
            if (state->options.updates_only) {
                state->init_done = true;
            } else if (subscription->initial_pending() == 0) {
                state->mark_done();
            }
            callback(std::move(watcher));
        });
}

namespace {

template <class Item>
using Collector = detail::WatchCollector<Item, KeyWatcher>;

}  // namespace

void KeyValue::keys(JsCallback<std::vector<std::string>> callback) const {
    auto collector = std::make_shared<Collector<std::string>>();
    collector->callback = std::move(callback);
    WatchOptions options;
    options.ignore_deletes = true;
    options.meta_only = true;
    watch_all(
        options,
        Collector<std::string>::on_update<KeyValueEntry>(collector, [](const KeyValueEntry& entry) { return entry.key; }),
        Collector<std::string>::on_ready(collector));
}

void KeyValue::history(std::string_view key, JsCallback<std::vector<KeyValueEntry>> callback) const {
    if (!valid_key(key)) {
        js_->env().loop.post([callback = std::move(callback)] { callback(JsErrc::invalid_argument); });
        return;
    }
    auto collector = std::make_shared<Collector<KeyValueEntry>>();
    collector->callback = [callback = std::move(callback)](JsResult<std::vector<KeyValueEntry>> entries) {
        if (entries && entries->empty()) return callback(JsErrc::key_not_found);
        callback(std::move(entries));
    };
    WatchOptions options;
    options.include_history = true;
    watch(
        key, options,
        Collector<KeyValueEntry>::on_update<KeyValueEntry>(collector, [](const KeyValueEntry& entry) { return entry; }),
        Collector<KeyValueEntry>::on_ready(collector));
}

namespace {

// Purges the markers one after the other, then reports.
struct MarkerPurge : std::enable_shared_from_this<MarkerPurge> {
    JetStream* js = nullptr;
    std::string stream;
    std::string prefix;
    std::vector<KeyValueEntry> markers;
    std::int64_t keep_newer_than_ns = 0;  // created after this: keep the marker (keep 1)
    bool keep_recent = false;
    std::size_t next = 0;
    JsCallback<Done> callback;

    void step() {
        if (next == markers.size()) return callback(Done{});
        const KeyValueEntry& marker = markers[next++];
        PurgeOptions purge;
        purge.filter = prefix + marker.key;
        purge.keep = keep_recent && marker.created_ns > keep_newer_than_ns ? 1 : 0;
        auto self = shared_from_this();
        js->purge_stream(stream, purge, [self](JsResult<std::uint64_t> purged) {
            if (!purged) return self->callback(purged.error());
            self->step();
        });
    }
};

}  // namespace

void KeyValue::purge_deletes(std::optional<Duration> older_than, JsCallback<Done> callback) const {
    ASSERT(js_ != nullptr);
    auto purge = std::make_shared<MarkerPurge>();
    purge->js = js_;
    purge->stream = stream_;
    purge->prefix = prefix_;
    const Duration threshold = older_than.value_or(Duration::seconds(30 * 60));
    purge->keep_recent = threshold.ns != 0;
    purge->keep_newer_than_ns = js_->env().clock.realtime_ns() - static_cast<std::int64_t>(threshold.ns);
    purge->callback = std::move(callback);
    auto collector = std::make_shared<Collector<KeyValueEntry>>();
    collector->callback = [purge](JsResult<std::vector<KeyValueEntry>> entries) {
        if (!entries) return purge->callback(entries.error());
        for (auto& entry : *entries) {
            if (entry.op != KeyValueOp::put) purge->markers.push_back(std::move(entry));
        }
        purge->step();
    };
    watch_all(
        {},
        Collector<KeyValueEntry>::on_update<KeyValueEntry>(collector, [](const KeyValueEntry& entry) { return entry; }),
        Collector<KeyValueEntry>::on_ready(collector));
}

}  // namespace herald::client
