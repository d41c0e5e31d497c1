#include "engine/client/object_store.h"

#include <algorithm>
#include <map>
#include <utility>

#include "engine/base/assert.h"
#include "engine/client/jetstream_json.h"
#include "engine/client/watch_collector.h"
#include "engine/client/kv.h"
#include "engine/client/nuid.h"
#include "engine/client/sha256.h"

namespace herald::client {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// nats.go 1.22.1 stores the zero time in the meta (it marshals before setting the time); readers
// take the time from the meta message instead.
constexpr std::string_view zero_time = "0001-01-01T00:00:00Z";

template <class T>
void post_error(JetStream& js, JsCallback<T> callback, JsErrc code) {
    js.env().loop.post([callback = std::move(callback), code] { callback(code); });
}

std::string dump(const ordered_json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// object.go ObjectInfo's JSON: the same fields, order and omitempty.
std::string encode_info(const ObjectInfo& info) {
    ordered_json j;
    j["name"] = info.meta.name;
    if (!info.meta.description.empty()) j["description"] = info.meta.description;
    if (!info.meta.headers.fields().empty()) {
        std::map<std::string, std::vector<std::string>> headers;  // Go marshals maps sorted
        for (const auto& [key, value] : info.meta.headers.fields()) headers[key].push_back(value);
        ordered_json h = ordered_json::object();
        for (const auto& [key, values] : headers) h[key] = values;
        j["headers"] = std::move(h);
    }
    if (info.meta.link || info.meta.chunk_size != 0) {
        ordered_json options = ordered_json::object();
        if (info.meta.link) {
            ordered_json link;
            link["bucket"] = info.meta.link->bucket;
            if (!info.meta.link->name.empty()) link["name"] = info.meta.link->name;
            options["link"] = std::move(link);
        }
        if (info.meta.chunk_size != 0) options["max_chunk_size"] = info.meta.chunk_size;
        j["options"] = std::move(options);
    }
    j["bucket"] = info.bucket;
    j["nuid"] = info.nuid;
    j["size"] = info.size;
    j["mtime"] = zero_time;
    j["chunks"] = info.chunks;
    if (!info.digest.empty()) j["digest"] = info.digest;
    if (info.deleted) j["deleted"] = true;
    return dump(j);
}

std::optional<ObjectInfo> decode_info(std::string_view text, std::int64_t time_ns) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    ObjectInfo info;
    info.meta.name = detail::get_str(j, "name");
    info.meta.description = detail::get_str(j, "description");
    const json& headers = detail::get_obj(j, "headers");
    for (const auto& [key, values] : headers.items()) {
        if (!values.is_array()) continue;
        for (const auto& value : values) {
            if (value.is_string()) info.meta.headers.add(key, value.get<std::string>());
        }
    }
    const json& options = detail::get_obj(j, "options");
    if (options.contains("link")) {
        const json& link = detail::get_obj(options, "link");
        info.meta.link = ObjectLink{detail::get_str(link, "bucket"), detail::get_str(link, "name")};
    }
    info.meta.chunk_size = static_cast<std::uint32_t>(detail::get_u64(options, "max_chunk_size"));
    info.bucket = detail::get_str(j, "bucket");
    info.nuid = detail::get_str(j, "nuid");
    info.size = detail::get_u64(j, "size");
    info.chunks = static_cast<std::uint32_t>(detail::get_u64(j, "chunks"));
    info.digest = detail::get_str(j, "digest");
    info.deleted = detail::get_bool(j, "deleted");
    info.mtime_ns = time_ns;
    if (info.meta.name.empty()) return std::nullopt;
    return info;
}

}  // namespace

std::string object_digest(std::string_view data) {
    const auto digest = Sha256::of(data);
    return "SHA-256=" + base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string ObjectStore::meta_subject(std::string_view name) const {
    return "$O." + bucket_ + ".M." + base64url_encode(name);
}

// ---------------------------------------------------------------------------------------------
// Buckets.

void ObjectStore::create_bucket(JetStream& js, const ObjectStoreConfig& config, JsCallback<ObjectStore> callback) {
    if (!valid_bucket_name(config.bucket)) return post_error(js, std::move(callback), JsErrc::invalid_argument);
    // object.go CreateObjectStore: only these fields are set; the others go as Go's zero values.
    StreamConfig s;
    s.name = "OBJ_" + config.bucket;
    s.description = config.description;
    s.subjects = {"$O." + config.bucket + ".C.>", "$O." + config.bucket + ".M.>"};
    s.max_consumers = 0;
    s.max_msgs = 0;
    s.max_msgs_per_subject = 0;
    s.max_msg_size = 0;
    s.max_age = config.ttl;
    s.max_bytes = config.max_bytes == 0 ? -1 : config.max_bytes;
    s.storage = config.storage;
    s.num_replicas = config.replicas == 0 ? 1 : config.replicas;
    s.placement = config.placement;
    s.discard = DiscardPolicy::new_messages;
    s.allow_rollup_hdrs = true;
    s.allow_direct = true;
    JetStream* jsp = &js;
    js.add_stream(s, [jsp, bucket = config.bucket, callback = std::move(callback)](JsResult<StreamInfo> info) {
        if (!info) return callback(info.error());
        ObjectStore store;
        store.js_ = jsp;
        store.bucket_ = bucket;
        store.stream_ = "OBJ_" + bucket;
        callback(std::move(store));
    });
}

void ObjectStore::bind(JetStream& js, std::string_view bucket, JsCallback<ObjectStore> callback) {
    if (!valid_bucket_name(bucket)) return post_error(js, std::move(callback), JsErrc::invalid_argument);
    JetStream* jsp = &js;
    std::string name(bucket);
    js.stream_info("OBJ_" + name, [jsp, name, callback = std::move(callback)](JsResult<StreamInfo> info) {
        if (!info) {
            if (info.error().code == JsErrc::stream_not_found) return callback(JsErrc::bucket_not_found);
            return callback(info.error());
        }
        ObjectStore store;
        store.js_ = jsp;
        store.bucket_ = name;
        store.stream_ = "OBJ_" + name;
        callback(std::move(store));
    });
}

void ObjectStore::delete_bucket(JetStream& js, std::string_view bucket, JsCallback<Done> callback) {
    if (!valid_bucket_name(bucket)) return post_error(js, std::move(callback), JsErrc::invalid_argument);
    js.delete_stream("OBJ_" + std::string(bucket), [callback = std::move(callback)](JsResult<Done> done) {
        if (!done && done.error().code == JsErrc::stream_not_found) return callback(JsErrc::bucket_not_found);
        callback(std::move(done));
    });
}

void ObjectStore::status(JsCallback<ObjectStoreStatus> callback) const {
    ASSERT(js_ != nullptr);
    js_->stream_info(stream_, [bucket = bucket_, callback = std::move(callback)](JsResult<StreamInfo> info) {
        if (!info) return callback(info.error());
        ObjectStoreStatus status;
        status.bucket = bucket;
        status.description = info->config.description;
        status.ttl = info->config.max_age;
        status.storage = info->config.storage;
        status.replicas = info->config.num_replicas;
        status.sealed = info->config.sealed;
        status.size = info->state.bytes;
        status.info = std::move(*info);
        callback(std::move(status));
    });
}

// ---------------------------------------------------------------------------------------------
// Info, put, delete, links.

void ObjectStore::get_info(std::string_view name, bool show_deleted, JsCallback<ObjectInfo> callback) const {
    ASSERT(js_ != nullptr);
    if (name.empty()) return post_error(*js_, std::move(callback), JsErrc::invalid_argument);
    // object.go GetInfo reads the last meta message with STREAM.MSG.GET (not DIRECT.GET).
    js_->get_last_msg(stream_, meta_subject(name), [show_deleted, callback = std::move(callback)](JsResult<StoredMsg> msg) {
        if (!msg) {
            if (msg.error().code == JsErrc::message_not_found) return callback(JsErrc::object_not_found);
            return callback(msg.error());
        }
        auto info = decode_info(msg->data, msg->time_ns);
        if (!info) return callback(JsErrc::bad_response);
        if (info->deleted && !show_deleted) return callback(JsErrc::object_not_found);
        callback(std::move(*info));
    });
}

void ObjectStore::publish_meta(const ObjectInfo& info, JsCallback<PubAck> callback) const {
    Headers headers;
    headers.set("Nats-Rollup", "sub");
    js_->publish(meta_subject(info.meta.name), headers, encode_info(info), {}, std::move(callback));
}

namespace {

void purge_subject(JetStream& js, const std::string& stream, std::string subject, std::function<void()> then) {
    PurgeOptions purge;
    purge.filter = std::move(subject);
    js.purge_stream(stream, purge, [then = std::move(then)](JsResult<std::uint64_t>) {
        if (then) then();
    });
}

struct PutOp : std::enable_shared_from_this<PutOp> {
    JetStream* js = nullptr;
    ObjectStore store;
    std::string stream;
    ObjectInfo info;
    std::string data;
    std::string chunk_subject;
    std::size_t chunk_size = object_chunk_size_default;
    std::size_t offset = 0;
    std::size_t in_flight = 0;
    std::optional<JsError> error;
    std::optional<ObjectInfo> existing;
    JsCallback<ObjectInfo> callback;

    void fail(JsError why) {
        // object.go purgePartial: drop the chunks of this attempt.
        auto self = shared_from_this();
        purge_subject(*js, stream, chunk_subject, [self, why] { self->callback(why); });
    }

    void pump() {
        auto self = shared_from_this();
        while (!error && in_flight < object_put_window && offset < data.size()) {
            const std::size_t n = std::min(chunk_size, data.size() - offset);
            ++in_flight;
            js->publish(chunk_subject, std::string_view(data).substr(offset, n), {}, [self](JsResult<PubAck> ack) {
                --self->in_flight;
                if (!ack && !self->error) self->error = ack.error();
                self->pump();
            });
            offset += n;
        }
        if (in_flight > 0) return;
        if (error) return fail(*error);
        if (offset < data.size()) return;  // unreachable: the loop sends until the end
        publish_meta();
    }

    void publish_meta();
};

}  // namespace

void ObjectStore::put(const ObjectMeta& meta, std::string_view data, JsCallback<ObjectInfo> callback) const {
    ASSERT(js_ != nullptr);
    if (meta.name.empty() || meta.link) return post_error(*js_, std::move(callback), JsErrc::invalid_argument);
    auto op = std::make_shared<PutOp>();
    op->js = js_;
    op->store = *this;
    op->stream = stream_;
    op->info.meta = meta;
    if (op->info.meta.chunk_size == 0) op->info.meta.chunk_size = object_chunk_size_default;
    op->chunk_size = op->info.meta.chunk_size;
    op->info.bucket = bucket_;
    op->info.nuid = Nuid(js_->env().random).next();
    op->data = std::string(data);
    op->info.size = data.size();
    op->info.chunks = static_cast<std::uint32_t>((data.size() + op->chunk_size - 1) / op->chunk_size);
    op->info.digest = object_digest(data);
    op->chunk_subject = "$O." + bucket_ + ".C." + op->info.nuid;
    op->callback = std::move(callback);
    get_info(meta.name, true, [op](JsResult<ObjectInfo> existing) {
        if (!existing && existing.error().code != JsErrc::object_not_found) return op->callback(existing.error());
        if (existing) op->existing = std::move(*existing);
        op->pump();
    });
}

void PutOp::publish_meta() {
    auto self = shared_from_this();
    // ObjectStore::publish_meta is private; the op is a friend-free copy of its two lines.
    Headers headers;
    headers.set("Nats-Rollup", "sub");
    js->publish("$O." + info.bucket + ".M." + base64url_encode(info.meta.name), headers, encode_info(info), {},
                [self](JsResult<PubAck> ack) {
                    if (!ack) return self->fail(ack.error());
                    self->info.mtime_ns = self->js->env().clock.realtime_ns();
                    // object.go: delete the previous version's chunks.
                    if (self->existing && !self->existing->deleted && !self->existing->nuid.empty() &&
                        self->existing->nuid != self->info.nuid) {
                        return purge_subject(*self->js, self->stream,
                                             "$O." + self->info.bucket + ".C." + self->existing->nuid,
                                             [self] { self->callback(self->info); });
                    }
                    self->callback(self->info);
                });
}

void ObjectStore::delete_object(std::string_view name, JsCallback<Done> callback) const {
    ASSERT(js_ != nullptr);
    ObjectStore self = *this;
    get_info(name, true, [self, callback = std::move(callback)](JsResult<ObjectInfo> info) mutable {
        if (!info) return callback(info.error());
        if (info->nuid.empty()) return callback(JsErrc::bad_response);
        ObjectInfo deleted = std::move(*info);
        deleted.deleted = true;
        deleted.size = 0;
        deleted.chunks = 0;
        deleted.digest.clear();
        const std::string chunks = "$O." + self.bucket_ + ".C." + deleted.nuid;
        self.publish_meta(deleted, [self, chunks, callback = std::move(callback)](JsResult<PubAck> ack) mutable {
            if (!ack) return callback(ack.error());
            PurgeOptions purge;
            purge.filter = chunks;
            self.js_->purge_stream(self.stream_, purge, [callback = std::move(callback)](JsResult<std::uint64_t> purged) {
                if (!purged) return callback(purged.error());
                callback(Done{});
            });
        });
    });
}

void ObjectStore::add_link(std::string_view name, const ObjectInfo& target, JsCallback<ObjectInfo> callback) const {
    ASSERT(js_ != nullptr);
    if (name.empty() || target.meta.name.empty() || target.bucket.empty()) {
        return post_error(*js_, std::move(callback), JsErrc::invalid_argument);
    }
    // object.go AddLink: no link to a link, nor to a deleted object.
    if (target.meta.link || target.deleted) return post_error(*js_, std::move(callback), JsErrc::invalid_argument);
    ObjectInfo link;
    link.meta.name = std::string(name);
    link.meta.link = ObjectLink{target.bucket, target.meta.name};
    link.bucket = bucket_;
    link.nuid = Nuid(js_->env().random).next();
    ObjectStore self = *this;
    get_info(name, true, [self, link, callback = std::move(callback)](JsResult<ObjectInfo> existing) mutable {
        if (!existing && existing.error().code != JsErrc::object_not_found) return callback(existing.error());
        // An existing object that is not a link is not replaced by one (ErrObjectAlreadyExists).
        if (existing && !existing->meta.link && !existing->deleted) return callback(JsErrc::invalid_argument);
        self.publish_meta(link, [self, link, callback = std::move(callback)](JsResult<PubAck> ack) {
            if (!ack) return callback(ack.error());
            ObjectInfo out = link;
            out.mtime_ns = self.js_->env().clock.realtime_ns();
            callback(std::move(out));
        });
    });
}

// ---------------------------------------------------------------------------------------------
// Get: an ordered consumer over the object's chunk subject, checked against the meta.

namespace {

struct GetOp : std::enable_shared_from_this<GetOp> {
    JetStream* js = nullptr;
    ObjectResult result;
    Sha256 sha;
    std::uint32_t chunks = 0;
    PushSubscription subscription;
    bool subscribed = false;
    bool done = false;
    io::TimerId timer = 0;
    JsCallback<ObjectResult> callback;

    void finish(JsResult<ObjectResult> outcome) {
        if (done) return;
        done = true;
        js->env().loop.cancel(timer);
        if (subscribed) (void)subscription.unsubscribe();
        subscription = PushSubscription();  // its handler owns this op: no cycle back
        auto take = std::move(callback);
        take(std::move(outcome));
    }

    void check() {
        const auto digest = sha.finish();
        const std::string got =
            "SHA-256=" + base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
        if (result.data.size() != result.info.size || chunks != result.info.chunks) {
            return finish(JsErrc::size_mismatch);
        }
        if (!result.info.digest.empty() && got != result.info.digest) return finish(JsErrc::digest_mismatch);
        finish(std::move(result));
    }

    // No chunk for a whole request timeout: the chunks are gone or the link is.
    void arm() {
        js->env().loop.cancel(timer);
        std::weak_ptr<GetOp> weak = shared_from_this();
        timer = js->env().loop.schedule(js->options().timeout, [weak] {
            if (auto self = weak.lock()) self->finish(Errc::timeout);
        });
    }

    void on_chunk(const JsMsg& msg) {
        if (done) return;
        auto meta = msg.metadata();
        if (!meta) return;
        result.data += msg.data();
        sha.update(msg.data());
        ++chunks;
        if (result.data.size() > result.info.size) return finish(JsErrc::size_mismatch);
        if (meta->num_pending == 0) return check();
        arm();
    }
};

}  // namespace

void ObjectStore::get(std::string_view name, JsCallback<ObjectResult> callback) const {
    ASSERT(js_ != nullptr);
    ObjectStore self = *this;
    get_info(name, false, [self, callback = std::move(callback)](JsResult<ObjectInfo> info) mutable {
        if (!info) return callback(info.error());
        if (info->nuid.empty()) return callback(JsErrc::bad_response);
        if (info->meta.link) {
            const ObjectLink link = *info->meta.link;
            if (link.name.empty()) return callback(JsErrc::invalid_argument);  // a link to a bucket
            if (link.bucket == self.bucket_) return self.get(link.name, std::move(callback));
            JetStream* js = self.js_;
            return ObjectStore::bind(*js, link.bucket,
                                     [link, callback = std::move(callback)](JsResult<ObjectStore> other) mutable {
                                         if (!other) return callback(other.error());
                                         other->get(link.name, std::move(callback));
                                     });
        }
        auto op = std::make_shared<GetOp>();
        op->js = self.js_;
        op->result.info = std::move(*info);
        op->callback = std::move(callback);
        if (op->result.info.size == 0) {
            op->check();  // posted: get_info's callback already runs on the loop
            return;
        }
        SubscribeOptions options;
        options.stream = self.stream_;
        options.ordered = true;
        options.config.filter_subject = "$O." + self.bucket_ + ".C." + op->result.info.nuid;
        op->arm();
        self.js_->subscribe(
            options, [op](JsMsg& msg) { op->on_chunk(msg); },
            [op](JsResult<PushSubscription> sub) {
                if (!sub) return op->finish(sub.error());
                if (op->done) {
                    (void)PushSubscription(*sub).unsubscribe();
                    return;
                }
                op->subscription = *sub;
                op->subscribed = true;
                // Nothing stored under the chunk subject although the meta says there is.
                if (sub->initial_pending() == 0 && op->chunks == 0) op->finish(JsErrc::size_mismatch);
            });
    });
}

// ---------------------------------------------------------------------------------------------
// Watch and list.

namespace detail {

struct ObjectWatchState {
    ObjectWatchOptions options;
    ObjectWatchHandler handler;
    PushSubscription subscription;
    bool init_done = false;
    bool stopped = false;

    // The last ObjectWatcher handle gone stops the watch.
    ~ObjectWatchState() {
        if (!stopped) (void)subscription.unsubscribe();
    }

    void mark_done() {
        if (init_done || stopped) return;
        init_done = true;
        handler(nullptr);
    }

    // object.go Watch's update(): the info from the body, the time from the ack reply.
    void on_message(const JsMsg& msg) {
        if (stopped) return;
        auto meta = msg.metadata();
        if (!meta) return;
        auto info = decode_info(msg.data(), meta->timestamp_ns);
        if (!info) return;
        if (!options.ignore_deletes || !info->deleted) handler(&*info);
        if (!init_done && meta->num_pending == 0) mark_done();
    }
};

}  // namespace detail

void ObjectWatcher::stop() {
    if (!state_ || state_->stopped) return;
    state_->stopped = true;
    (void)state_->subscription.unsubscribe();
}

bool ObjectWatcher::valid() const { return state_ && !state_->stopped; }

void ObjectStore::watch(const ObjectWatchOptions& options, ObjectWatchHandler handler,
                        JsCallback<ObjectWatcher> callback) const {
    ASSERT(js_ != nullptr);
    if (!handler) return post_error(*js_, std::move(callback), JsErrc::invalid_argument);
    auto state = std::make_shared<detail::ObjectWatchState>();
    state->options = options;
    state->handler = std::move(handler);
    SubscribeOptions sub;
    sub.stream = stream_;
    sub.ordered = true;
    sub.config.filter_subject = "$O." + bucket_ + ".M.>";
    if (options.updates_only) {
        sub.config.deliver_policy = DeliverPolicy::new_messages;
    } else if (!options.include_history) {
        sub.config.deliver_policy = DeliverPolicy::last_per_subject;
    }
    std::weak_ptr<detail::ObjectWatchState> weak = state;  // the ObjectWatcher handles own it
    js_->subscribe(
        sub,
        [weak](JsMsg& msg) {
            if (auto self = weak.lock()) self->on_message(msg);
        },
        [state, callback = std::move(callback)](JsResult<PushSubscription> subscription) {
            if (!subscription) return callback(subscription.error());
            state->subscription = *subscription;
            if (state->options.updates_only) {
                state->init_done = true;
            } else if (subscription->initial_pending() == 0) {
                state->mark_done();
            }
            ObjectWatcher watcher;
            watcher.state_ = state;
            callback(std::move(watcher));
        });
}

void ObjectStore::list(bool show_deleted, JsCallback<std::vector<ObjectInfo>> callback) const {
    using Collector = detail::WatchCollector<ObjectInfo, ObjectWatcher>;
    auto collector = std::make_shared<Collector>();
    collector->callback = std::move(callback);
    ObjectWatchOptions options;
    options.ignore_deletes = !show_deleted;
    watch(
        options,
        Collector::on_update<ObjectInfo>(collector, [](const ObjectInfo& info) { return info; }),
        Collector::on_ready(collector));
}

}  // namespace herald::client
