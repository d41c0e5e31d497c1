// Stream: one JetStream stream of one account on this node. It owns its StreamStore, captures
// publishes on its subjects through internal subscriptions, applies the publish rules of
// nats-server processJetStreamMsg (expected headers, Nats-Msg-Id dedup, rollup, size limits) and
// answers with a PubAck; with allow_direct it also serves $JS.API.DIRECT.GET. Used by JetStream,
// which owns it and handles the $JS.API requests about it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/log.h"
#include "engine/core/broker.h"
#include "engine/io/io.h"
#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/stream_config.h"
#include "engine/jetstream/subject_transform.h"
#include "engine/store/stream_store.h"

namespace herald::jetstream {

inline constexpr std::uint64_t header_size_max = 65535;    // nats-server math.MaxUint16.
inline constexpr std::size_t dedup_entries_max = 1 << 20;  // Bound on remembered Nats-Msg-Ids.
inline constexpr std::size_t lost_sequences_max = 10'000;  // Of state.lost.msgs in StreamInfo.
// The subject of the placeholders a mirror stored (and deleted at once) to skip sequences before
// the store could skip (StreamStore::skip); a crash between the two could leave some at the tail.
// A store written by such a build may still hold them: they are removed when the mirror starts.
inline constexpr std::string_view mirror_skip_subject = "_HERALD.mirror.skipped";

// Lifecycle: built by JetStream around an open store, then start() subscribes its subjects;
// stop() unsubscribes; close() closes the store (the stream is then destroyed). Runs on the
// node's loop. Invariants: subscribed only between start() and stop(); every dedup entry names a
// sequence not above the store's last_seq.
class Stream {
public:
    // `interest` answers "does any consumer want this subject" for interest retention; the
    // consumer layer installs it (until then there are no consumers: nothing is kept).
    using InterestCheck = std::function<bool(std::string_view subject)>;

    // `domain` is the JetStream domain PubAcks name (empty: none).
    Stream(io::Env& env,
           core::Broker& broker,
           std::string account,
           std::string domain,
           StreamConfig config,
           std::int64_t created_ns,
           std::unique_ptr<store::StreamStore> store,
           base::Logger log);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    Status start();
    // Refills the Nats-Msg-Id window and the last msg id from the stored messages younger than
    // duplicate_window (nats-server rebuildDedupe), for a stream recovered from disk. Call
    // before start(); `on_done` runs on the loop.
    void rebuild_dedup(std::function<void()> on_done);
    void stop();
    void close(std::function<void()> on_closed);

    // A checked update (check_stream_update passed): new subjects, limits and direct get.
    Status update(StreamConfig config);

    const std::string& name() const { return config_.name; }
    const std::string& account() const { return account_; }
    const StreamConfig& config() const { return config_; }
    std::int64_t created_ns() const { return created_ns_; }
    store::StreamStore& store() { return *store_; }
    const store::StreamStore& store() const { return *store_; }
    void set_interest_check(InterestCheck interest) { interest_ = std::move(interest); }
    // The consumers' seams: `stored` runs once a published message is kept (it is visible in the
    // store), `destroyed` when the stream object goes away (deleted or shut down).
    using StoredHook = std::function<void(store::Seq seq, std::string_view subject)>;
    void set_stored_hook(StoredHook hook) { stored_hook_ = std::move(hook); }
    void set_destroyed_hook(std::function<void()> hook) { destroyed_hook_ = std::move(hook); }
    // The mirrors' and sources' seam (stream_source.h): runs when a message kept (published or
    // fed) is acknowledged by the store, so that feeds reading this stream wake up.
    void set_appended_hook(std::function<void()> hook) { appended_hook_ = std::move(hook); }
    // The highest sequence the store has acknowledged (durable as its mode promises): feeds copy
    // nothing beyond it, so a crash cannot leave a copy of a message its origin lost.
    store::Seq acked_seq() const { return acked_seq_; }

    // A message a mirror or source feed brings in (nats-server processInboundMirrorMsg /
    // processInboundSourceMsg, then processJetStreamMsg). A mirror's (`seq` != 0) keeps the
    // origin's sequence and time; the sequences skipped before it are used up first (a store
    // skip: no limit counts them). A sourced one (`seq` 0) passes the Nats-Msg-Id window and the
    // size limits.
    enum class FedResult : std::uint8_t { stored, duplicate, refused };
    // A mirror with mirror_direct that caught up starts answering its origin's direct gets.
    void serve_mirror_direct();
    FedResult store_fed(std::string_view subject,
                        std::string_view headers,
                        std::string_view body,
                        store::Seq seq,
                        std::int64_t timestamp_ns);

    // {"config":..,"created":..,"state":..}; the subjects map when `subjects_filter` is set.
    Json info_json(std::string_view subjects_filter = {}) const;
    Json state_json(std::string_view subjects_filter) const;
    // Herald's own STREAM.INFO field (issue 5 point 7): how a PubAck relates to the disk.
    // {"sync":"always","group_commit":true} = acked after fsync; {"sync":"interval",
    // "sync_interval":ns} = lazy; {"sync":"memory"} = not on disk.
    Json durability_json() const;

    // A message published on one of the stream's subjects (processInboundJetStreamMsg).
    void on_publish(const protocol::MessageArgs& message, std::string_view payload);
    // $JS.API.DIRECT.GET.<stream>[.<subject>] (processDirectGetRequest).
    void on_direct_get(const protocol::MessageArgs& message, std::string_view payload);

    struct Stats {
        std::uint64_t stored = 0;
        std::uint64_t duplicates = 0;
        std::uint64_t rejected = 0;
    };
    const Stats& stats() const { return stats_; }
    void check_invariants() const;

private:
    struct DedupEntry {
        std::string id;
        store::Seq seq = 0;
        std::int64_t timestamp_ns = 0;
    };
    void reply(std::string_view subject, std::string_view headers, std::string_view payload);
    void send_pub_ack(std::string_view reply_subject, store::Seq seq, bool duplicate);
    void send_pub_error(std::string_view reply_subject, const ApiFailure& failure);
    enum class Rollup : std::uint8_t { none, subject, all };
    void store_message(std::string_view subject,
                       std::string_view reply,
                       std::string_view headers,
                       std::string_view body,
                       std::string_view msg_id,
                       Rollup rollup,
                       store::Seq seq = 0,
                       std::int64_t timestamp_ns = 0);
    FedResult skip_sequences(store::Seq first, store::Seq last);
    void store_failed(const std::string& reply_to,
                      const std::string& id,
                      const std::string& previous_msg_id,
                      std::error_code error);
    void forget_expired_ids();
    void direct_get(store::Seq seq,
                    std::string last_for,
                    std::string next_for,
                    std::string reply_subject);
    Status subscribe_all();
    Status subscribe_direct(const std::string& stream_name);
    void configure();  // Derived state of config_: PubAck prefix, republish transform.
    // A republish waiting for its message's store acknowledgement.
    struct PendingRepublish {
        std::string destination;
        std::string subject;
        std::string headers;
        std::string body;
        store::Seq last_on_subject = 0;
    };
    void republish(std::string_view destination,
                   std::string_view subject,
                   std::string_view headers,
                   std::string_view body,
                   store::Seq seq,
                   store::Seq last_on_subject);
    void rebuild_step(store::Seq seq,
                      std::size_t scanned,
                      std::int64_t horizon_ns,
                      std::shared_ptr<std::vector<DedupEntry>> found,
                      std::function<void()> on_done);

    io::Env& env_;
    core::Broker& broker_;
    std::string account_;
    std::string domain_;
    StreamConfig config_;
    std::int64_t created_ns_ = 0;
    std::unique_ptr<store::StreamStore> store_;
    base::Logger log_;
    InterestCheck interest_;
    StoredHook stored_hook_;
    std::function<void()> destroyed_hook_;
    std::function<void()> appended_hook_;
    store::Seq acked_seq_ = 0;
    bool serving_mirror_direct_ = false;
    std::vector<std::uint64_t> subscriptions_;
    std::map<std::string, DedupEntry, std::less<>> dedup_;  // By Nats-Msg-Id.
    std::deque<std::string> dedup_order_;                   // Ids, oldest first.
    std::string last_msg_id_;
    std::optional<SubjectTransform> republish_;
    bool republish_headers_only_ = false;
    std::string pub_ack_prefix_;  // {"stream":"S", "seq":
    Stats stats_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::jetstream
