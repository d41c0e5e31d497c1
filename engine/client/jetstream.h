// JetStream: the client side of the $JS.API (stream and consumer management, publish with PubAck,
// pull fetch, push and ordered push subscriptions, acks) over a Connection, as nats.go's js.go and
// jsm.go speak it. Used by the `herald` CLI, KeyValue (kv.h) and ObjectStore (object_store.h).
// Plain structs only: the JSON (nlohmann) stays in jetstream.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "engine/base/time.h"
#include "engine/client/client.h"
#include "engine/io/io.h"

namespace herald::client {

// Errors of JetStream, KV and the object store (client side). API errors keep the server's
// code/err_code/description in JsError::api; the most common ones get their own value so callers
// can test them (nats.go ErrStreamNotFound, ErrKeyNotFound, ...).
enum class JsErrc {
    ok = 0,
    api_error,              // any other {"error":{...}} from the server (see JsError::api)
    not_enabled,            // no responders on $JS.API, or 10039/10076
    stream_not_found,       // 10059
    consumer_not_found,     // 10014
    message_not_found,      // 10037, or DIRECT.GET 404
    stream_name_in_use,     // 10058
    wrong_last_sequence,    // 10071
    wrong_last_msg_id,      // 10070
    bad_response,           // a reply that is not the expected JSON
    no_stream_response,     // a JetStream publish nobody answered (no stream matches)
    too_many_pending,       // publish_async past max_pending_async outstanding acks
    invalid_argument,       // bad stream/consumer/bucket/key/object name or option
    consumer_deleted,       // 409 Consumer Deleted while fetching or subscribed
    pull_status,            // another 409 status to a pull request (description in api)
    already_acked,          // a second ack of the same message (nats.go ErrMsgAlreadyAckd)
    no_reply,               // ack of a message that has no reply subject (not from JetStream)
    // KV
    bad_bucket,             // the stream is not a KV bucket (max_msgs_per_subject < 1)
    key_not_found,          // no value, or the last entry is a delete/purge
    key_exists,             // create() of a key that has a value
    history_too_large,      // history > 64
    // Object store
    object_not_found,
    digest_mismatch,        // the chunks read do not hash to the stored digest
    size_mismatch,          // the chunks read do not add up to the stored size or chunk count
    bucket_not_found,       // KV or object bucket does not exist
};

const std::error_category& js_errc_category();
inline std::error_code make_error_code(JsErrc e) { return {static_cast<int>(e), js_errc_category()}; }

// The {"error":{...}} object of an API reply or PubAck (jetstream-api.md §1).
struct ApiError {
    int code = 0;           // HTTP-like: 400, 404, 500, 503
    int err_code = 0;       // JetStream error code: 10059 ...
    std::string description;
};

// An error of a JetStream operation: a code (JsErrc, or client::Errc for timeout/no responders/
// connection errors) and, for server API errors, what the server said.
struct JsError {
    std::error_code code;
    ApiError api;
    std::string message() const;
};

// Result of a JetStream operation: a value or a JsError. Names follow herald::Result.
template <class T>
class [[nodiscard]] JsResult {
public:
    // NOLINTBEGIN(google-explicit-constructor)
    JsResult(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    JsResult(JsError error) : storage_(std::in_place_index<1>, std::move(error)) {}
    JsResult(std::error_code code) : storage_(std::in_place_index<1>, JsError{code, {}}) {}
    JsResult(JsErrc code) : JsResult(make_error_code(code)) {}
    JsResult(Errc code) : JsResult(make_error_code(code)) {}
    // NOLINTEND(google-explicit-constructor)
    bool has_value() const { return storage_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(storage_); }
    const T& value() const& { return std::get<0>(storage_); }
    T&& value() && { return std::get<0>(std::move(storage_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    const JsError& error() const { return std::get<1>(storage_); }

private:
    std::variant<T, JsError> storage_;
};

struct Done {};  // the value of an operation that returns nothing
using JsStatus = JsResult<Done>;

template <class T>
using JsCallback = std::function<void(JsResult<T>)>;

// ---- Streams (jetstream-api.md §3, §4; field names and omitempty as nats.go jsm.go) ----

enum class RetentionPolicy { limits, interest, workqueue };
enum class DiscardPolicy { old_messages, new_messages };  // "old", "new"
enum class StorageType { file, memory };

struct Placement {
    std::string cluster;
    std::vector<std::string> tags;
};

struct StreamSource {
    std::string name;
    std::uint64_t opt_start_seq = 0;
    std::string opt_start_time;  // RFC 3339, empty = none
    std::string filter_subject;
    std::string external_api;      // external.api (empty = no external)
    std::string external_deliver;  // external.deliver
};

struct RePublish {
    std::string source;  // "src"
    std::string destination;
    bool headers_only = false;
};

// Encoded as nats.go's StreamConfig: fields in its order, omitempty where it has it, so a stream
// made here (e.g. a KV bucket) gets byte-for-byte the request nats.go sends.
struct StreamConfig {
    std::string name;
    std::string description;
    std::vector<std::string> subjects;
    RetentionPolicy retention = RetentionPolicy::limits;
    std::int64_t max_consumers = -1;
    std::int64_t max_msgs = -1;
    std::int64_t max_bytes = -1;
    DiscardPolicy discard = DiscardPolicy::old_messages;
    bool discard_new_per_subject = false;
    Duration max_age{};                     // 0 = unlimited
    std::int64_t max_msgs_per_subject = -1;
    std::int32_t max_msg_size = -1;         // omitted when 0
    StorageType storage = StorageType::file;
    int num_replicas = 1;
    bool no_ack = false;
    std::string template_owner;
    Duration duplicate_window{};            // omitted when 0 (server default 2m)
    std::optional<Placement> placement;
    std::optional<StreamSource> mirror;
    std::vector<StreamSource> sources;
    bool sealed = false;
    bool deny_delete = false;
    bool deny_purge = false;
    bool allow_rollup_hdrs = false;
    std::optional<RePublish> republish;
    bool allow_direct = false;
    bool mirror_direct = false;
};

struct StreamState {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t first_seq = 0;
    std::string first_ts;
    std::uint64_t last_seq = 0;
    std::string last_ts;
    std::uint64_t consumer_count = 0;
    std::uint64_t num_deleted = 0;
    std::uint64_t num_subjects = 0;
    std::map<std::string, std::uint64_t> subjects;  // only with StreamInfoOptions::subjects_filter
    std::vector<std::uint64_t> deleted;             // only with deleted_details
};

struct StreamInfo {
    StreamConfig config;
    std::string created;  // RFC 3339
    StreamState state;
    std::string domain;
    bool did_create = false;  // the create request made it (not an idempotent re-create)
    std::string json;         // the server's reply as received
};

struct StreamInfoOptions {
    std::string subjects_filter;  // fill state.subjects for these subjects
    bool deleted_details = false;
};

// STREAM.PURGE: everything, or only `filter`, and/or below `seq`, or all but the last `keep`.
struct PurgeOptions {
    std::string filter;
    std::uint64_t seq = 0;
    std::uint64_t keep = 0;
};

// A message read back from a stream (STREAM.MSG.GET or DIRECT.GET).
struct StoredMsg {
    std::string subject;
    std::uint64_t sequence = 0;
    Headers headers;  // stored headers (DIRECT.GET adds Nats-Stream, Nats-Subject, ...)
    std::string data;
    std::string time;  // RFC 3339
    std::int64_t time_ns = 0;  // `time` as Unix nanoseconds
};

// One of seq / last_by_subject / next_by_subject (with seq as the start).
struct MsgGetRequest {
    std::uint64_t seq = 0;
    std::string last_by_subject;
    std::string next_by_subject;
};

// ---- Consumers (jetstream-api.md §7; as nats.go js.go ConsumerConfig) ----

enum class DeliverPolicy { all, last, new_messages, by_start_sequence, by_start_time, last_per_subject };
enum class AckPolicy { none, all, explicit_ack };
enum class ReplayPolicy { instant, original };

struct ConsumerConfig {
    std::string durable_name;
    std::string name;
    std::string description;
    DeliverPolicy deliver_policy = DeliverPolicy::all;
    std::uint64_t opt_start_seq = 0;
    std::string opt_start_time;  // RFC 3339, empty = none
    AckPolicy ack_policy = AckPolicy::explicit_ack;
    Duration ack_wait{};
    std::int64_t max_deliver = 0;  // 0 = omitted (server default -1)
    std::vector<Duration> backoff;
    std::string filter_subject;
    ReplayPolicy replay_policy = ReplayPolicy::instant;
    std::uint64_t rate_limit_bps = 0;
    std::string sample_freq;
    std::int64_t max_waiting = 0;
    std::int64_t max_ack_pending = 0;
    bool flow_control = false;
    Duration idle_heartbeat{};
    bool headers_only = false;
    std::int64_t max_batch = 0;
    Duration max_expires{};
    std::int64_t max_bytes = 0;
    std::string deliver_subject;  // set = push consumer
    std::string deliver_group;
    Duration inactive_threshold{};
    int num_replicas = 0;  // always sent; 0 = as the stream
    bool mem_storage = false;
};

struct SequenceInfo {
    std::uint64_t consumer_seq = 0;
    std::uint64_t stream_seq = 0;
    std::string last_active;
};

struct ConsumerInfo {
    std::string stream_name;
    std::string name;
    std::string created;
    ConsumerConfig config;
    SequenceInfo delivered;
    SequenceInfo ack_floor;
    std::uint64_t num_ack_pending = 0;
    std::uint64_t num_redelivered = 0;
    std::uint64_t num_waiting = 0;
    std::uint64_t num_pending = 0;
    bool push_bound = false;
    std::string json;
};

struct AccountLimits {
    std::int64_t max_memory = -1;
    std::int64_t max_storage = -1;
    std::int64_t max_streams = -1;
    std::int64_t max_consumers = -1;
};

struct AccountInfo {
    std::uint64_t memory = 0;
    std::uint64_t storage = 0;
    std::uint64_t streams = 0;
    std::uint64_t consumers = 0;
    std::string domain;
    AccountLimits limits;
    std::uint64_t api_total = 0;
    std::uint64_t api_errors = 0;
    std::string json;
};

// ---- Publishing (jetstream-api.md §5) ----

struct PubAck {
    std::string stream;
    std::uint64_t sequence = 0;
    std::string domain;
    bool duplicate = false;
};

// Header options of a JetStream publish (nats.go MsgId, ExpectStream, ExpectLastSequence, ...).
struct PublishOptions {
    std::string msg_id;                                       // Nats-Msg-Id
    std::string expected_stream;                              // Nats-Expected-Stream
    std::optional<std::uint64_t> expected_last_sequence;      // Nats-Expected-Last-Sequence
    std::optional<std::uint64_t> expected_last_subject_sequence;  // ...-Last-Subject-Sequence
    std::string expected_last_msg_id;                         // Nats-Expected-Last-Msg-Id
    std::optional<Duration> timeout;                          // default JetStreamOptions::timeout
};

// ---- Received messages and acks (jetstream-api.md §10) ----

// What the $JS.ACK reply subject of a delivered message says. Both forms are read:
// v1 $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (9 tokens) and
// v2 $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.
// <random> (12 tokens, domain "_" = none).
struct MsgMetadata {
    std::string domain;
    std::string stream;
    std::string consumer;
    std::uint64_t num_delivered = 0;
    std::uint64_t stream_sequence = 0;
    std::uint64_t consumer_sequence = 0;
    std::int64_t timestamp_ns = 0;
    std::uint64_t num_pending = 0;
};
// Parses a $JS.ACK reply subject; JsErrc::invalid_argument if it is not one.
JsResult<MsgMetadata> parse_ack_subject(std::string_view reply);

// A message delivered by a JetStream consumer, with its ack operations. It keeps a pointer to the
// Connection it came from: ack only while that Connection lives.
class JsMsg {
public:
    JsMsg() = default;
    JsMsg(Connection* connection, const Message& message);

    const std::string& subject() const { return subject_; }
    const std::string& reply() const { return reply_; }
    const Headers& headers() const { return headers_; }
    const std::string& data() const { return data_; }
    JsResult<MsgMetadata> metadata() const { return parse_ack_subject(reply_); }

    // Each publishes its payload to the reply subject; a message is acknowledged once (the second
    // ack, nak or term fails with JsErrc::already_acked; in_progress may repeat).
    JsStatus ack();                                   // +ACK
    JsStatus nak(std::optional<Duration> delay = {});  // -NAK, -NAK {"delay":ns}
    JsStatus in_progress();                            // +WPI
    JsStatus term();                                   // +TERM
    // +ACK with a reply: the callback runs when the server confirmed the ack (double ack).
    void ack_sync(Duration timeout, JsCallback<Done> callback);
    bool acked() const { return acked_; }

private:
    JsStatus send_ack(std::string_view payload, bool final);

    Connection* connection_ = nullptr;
    std::string subject_;
    std::string reply_;
    Headers headers_;
    std::string data_;
    bool acked_ = false;
};

using JsMsgHandler = std::function<void(JsMsg&)>;

// ---- Subscriptions ----

struct FetchOptions {
    std::size_t batch = 1;
    Duration expires = Duration::seconds(5);  // how long the server holds the request
    bool no_wait = false;  // answer at once with what is there (404 No Messages when nothing)
    std::int64_t max_bytes = 0;
};

namespace detail {
struct PullState;
struct PushState;
struct JsCtx;
}  // namespace detail

// A pull consumer bound to a stream; fetch() sends CONSUMER.MSG.NEXT requests. Copyable handle.
class PullSubscription {
public:
    PullSubscription() = default;
    // Collects up to `batch` messages; the callback runs once with the messages (possibly none)
    // when the batch is full, the server says 404 No Messages or 408 Request Timeout, or the
    // request expired; a 409 status (Consumer Deleted, Exceeded MaxWaiting ...) is an error
    // unless some messages already came. Several fetches may be in flight (each its own inbox).
    void fetch(FetchOptions options, JsCallback<std::vector<JsMsg>> callback);
    const std::string& stream() const;
    const std::string& consumer() const;
    bool valid() const { return state_ != nullptr; }

private:
    friend class JetStream;
    std::shared_ptr<detail::PullState> state_;
};

struct SubscribeOptions {
    std::string stream;    // required (nats.go finds it by subject; we bind explicitly)
    std::string consumer;  // bind to this existing consumer (its deliver subject) instead of creating
    ConsumerConfig config;  // for a new consumer; deliver_subject is filled with a new inbox
    // Deliver group (also set in config.deliver_group). As nats.go, the members share one durable
    // (config.durable_name, or the queue name): the first creates it, the others bind to it.
    std::string queue;
    // nats.go OrderedConsumer(): ephemeral, ack none, flow control, 5s heartbeats, memory, R1;
    // on a consumer sequence gap or 3 missed heartbeats it recreates the consumer from the last
    // stream sequence + 1 on a new inbox.
    bool ordered = false;
    // Without manual_ack, a message is acked after the handler returns (unless the consumer is
    // ack none or the handler acked it), as nats.go.
    bool manual_ack = false;
};

// A push subscription. Copyable handle; unsubscribe() stops delivery and deletes the consumer if
// this subscription created an ephemeral one.
class PushSubscription {
public:
    PushSubscription() = default;
    Status unsubscribe();
    bool valid() const;
    const std::string& stream() const;
    // The consumer's current name (an ordered subscription's name changes when it resets).
    std::string consumer() const;
    // ConsumerInfo::num_pending at creation (KV watch uses it to know when initial values end).
    std::uint64_t initial_pending() const;
    std::uint64_t delivered() const;
    std::uint64_t resets() const;  // ordered subscriptions: consumers recreated after a gap

private:
    friend class JetStream;
    std::shared_ptr<detail::PushState> state_;
};

// ---- The context ----

struct JetStreamOptions {
    // "$JS.API." by default; a domain makes it "$JS.<domain>.API.".
    std::string api_prefix;
    std::string domain;
    Duration timeout = Duration::seconds(5);  // each API request
    // publish_async refuses (too_many_pending) past this many unanswered publishes.
    std::size_t max_pending_async = 4000;
    // A publish answered by 503 no responders is retried (the stream may be starting), as
    // nats.go: attempts after the first, spaced by publish_retry_wait.
    std::uint32_t publish_retry_attempts = 2;
    Duration publish_retry_wait = Duration::milliseconds(250);
};

// A JetStream context over one Connection. Lifecycle: make it after the Connection, destroy it
// before; all calls run on the Env's loop and report through callbacks that never run inline.
// Callbacks may outlive the JetStream object (they keep what they need), not the Connection.
class JetStream {
public:
    JetStream(io::Env& env, Connection& connection, JetStreamOptions options = {});
    ~JetStream();
    JetStream(const JetStream&) = delete;
    JetStream& operator=(const JetStream&) = delete;

    const std::string& api_prefix() const;
    Connection& connection() const;
    io::Env& env() const;
    const JetStreamOptions& options() const;

    // $JS.API.INFO.
    void account_info(JsCallback<AccountInfo> callback);

    // Streams.
    void add_stream(const StreamConfig& config, JsCallback<StreamInfo> callback);
    void update_stream(const StreamConfig& config, JsCallback<StreamInfo> callback);
    void stream_info(std::string_view stream, JsCallback<StreamInfo> callback);
    void stream_info(std::string_view stream, const StreamInfoOptions& options,
                     JsCallback<StreamInfo> callback);
    void delete_stream(std::string_view stream, JsCallback<Done> callback);
    // The callback gets the number of messages purged.
    void purge_stream(std::string_view stream, const PurgeOptions& options,
                      JsCallback<std::uint64_t> callback);
    // Every page of STREAM.NAMES / STREAM.LIST (optionally only streams that hold `subject`).
    void stream_names(std::string_view subject, JsCallback<std::vector<std::string>> callback);
    void streams(std::string_view subject, JsCallback<std::vector<StreamInfo>> callback);

    // Messages.
    void get_msg(std::string_view stream, const MsgGetRequest& request, JsCallback<StoredMsg> callback);
    void get_msg(std::string_view stream, std::uint64_t seq, JsCallback<StoredMsg> callback);
    void get_last_msg(std::string_view stream, std::string_view subject, JsCallback<StoredMsg> callback);
    void delete_msg(std::string_view stream, std::uint64_t seq, bool no_erase, JsCallback<Done> callback);
    // DIRECT.GET (the stream needs allow_direct); message_not_found on 404.
    void direct_get(std::string_view stream, const MsgGetRequest& request, JsCallback<StoredMsg> callback);
    // DIRECT.GET.<stream>.<subject> with an empty body: the last message on that subject.
    void direct_get_last(std::string_view stream, std::string_view subject, JsCallback<StoredMsg> callback);

    // Consumers. add_consumer uses CONSUMER.CREATE.<stream>[.<name>[.<filter>]] (2.9 forms) or
    // CONSUMER.CREATE.<stream> for an ephemeral without a name, as nats.go.
    void add_consumer(std::string_view stream, const ConsumerConfig& config, JsCallback<ConsumerInfo> callback);
    void update_consumer(std::string_view stream, const ConsumerConfig& config, JsCallback<ConsumerInfo> callback);
    void consumer_info(std::string_view stream, std::string_view consumer, JsCallback<ConsumerInfo> callback);
    void delete_consumer(std::string_view stream, std::string_view consumer, JsCallback<Done> callback);
    void consumer_names(std::string_view stream, JsCallback<std::vector<std::string>> callback);
    void consumers(std::string_view stream, JsCallback<std::vector<ConsumerInfo>> callback);

    // Publishes and waits for the PubAck (a PubAck error is a JsError with the server's api).
    void publish(std::string_view subject, std::string_view payload, const PublishOptions& options,
                 JsCallback<PubAck> callback);
    void publish(std::string_view subject, const Headers& headers, std::string_view payload,
                 const PublishOptions& options, JsCallback<PubAck> callback);
    // The same without waiting: fails at once with too_many_pending when max_pending_async acks
    // are outstanding; otherwise `callback` (may be empty) runs with the PubAck or error later.
    JsStatus publish_async(std::string_view subject, const Headers& headers, std::string_view payload,
                           const PublishOptions& options, JsCallback<PubAck> callback);
    std::size_t publish_async_pending() const;
    // Runs `callback` once no async publish is outstanding (at once, posted, if none is).
    void publish_async_complete(std::function<void()> callback);

    // Pull: binds to an existing pull consumer `consumer` of `stream` (CONSUMER.INFO checks it).
    void pull_subscribe(std::string_view stream, std::string_view consumer,
                        JsCallback<PullSubscription> callback);
    // Pull: creates (or updates) the consumer from `config` (durable_name or name required), then binds.
    void pull_subscribe(std::string_view stream, const ConsumerConfig& config,
                        JsCallback<PullSubscription> callback);

    // Push: subscribes a new inbox and creates the consumer (or binds to options.consumer).
    // `handler` runs for every data message; heartbeats and flow control are answered here.
    void subscribe(const SubscribeOptions& options, JsMsgHandler handler,
                   JsCallback<PushSubscription> callback);

private:
    std::shared_ptr<detail::JsCtx> ctx_;
};

// Unix nanoseconds of an RFC 3339 time ("2026-11-26T11:42:31.80978211Z", offsets allowed);
// nullopt if it is not one or lies outside int64 nanoseconds (1677..2262, e.g. Go's zero time
// "0001-01-01T00:00:00Z"). And back, in Go's RFC3339Nano form (UTC, trailing zeros trimmed).
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text);
std::string format_rfc3339_ns(std::int64_t unix_ns);

// Names: a stream/consumer name (no '.', '*', '>', whitespace, '/', '\\'; 1..255 chars).
bool valid_stream_name(std::string_view name);

}  // namespace herald::client

template <>
struct std::is_error_code_enum<herald::client::JsErrc> : std::true_type {};
