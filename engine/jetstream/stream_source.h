// Stream mirrors and sources on one node (nats-server 2.9 stream.go: setupMirrorConsumer,
// processInboundMirrorMsg, setupSourceConsumers, processInboundSourceMsg). A mirror copies an
// origin stream of the same account with the origin's sequence numbers and timestamps; a stream
// with sources copies the messages of one or more origins under new sequences, each with a
// `Nats-Stream-Source: <origin> <origin seq>` header. Herald needs no internal consumer for a local
// origin: a feed reads the origin's store from its position and then follows its appends. The
// position is derived from the target's own store (a mirror's last sequence, the last
// Nats-Stream-Source header of each source), so it survives restarts with the messages. Every
// copy enters the target through Stream::store_fed: with RAFT, only a leader would run feeds and
// store_fed would become a proposal carrying the origin's sequence and time, as nats-server
// proposes mirrored messages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/base/log.h"
#include "engine/io/io.h"
#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/stream.h"
#include "engine/jetstream/stream_config.h"

namespace herald::jetstream {

inline constexpr std::string_view stream_source_header = "Nats-Stream-Source";  // JSStreamSource.
// nats-server sourceHealthCheckInterval: how often a live feed counts as heard from ("active").
inline constexpr Duration source_health_check_interval = Duration::seconds(1);
// Sequences of the target scanned back for Nats-Stream-Source headers when sources start.
inline constexpr std::uint64_t source_scan_max = 1'000'000;
// Loads of the origin's store a search by opt_start_time may make (a binary search).
inline constexpr std::uint32_t time_seek_steps_max = 128;
// nats-server dgetCaughtUpThresh: a mirror this close to its origin serves its direct gets.
inline constexpr std::uint64_t mirror_direct_lag_max = 10;

// nats-server StreamSource, as json.Unmarshal reads it.
struct StreamSource {
    std::string name;
    std::uint64_t opt_start_seq = 0;
    std::optional<std::int64_t> opt_start_time_ns;
    std::string filter_subject;
    Json external;  // {"api","deliver"} or null.
};

// Parses one StreamSource object; nullopt when a field has the wrong type (400/10025).
std::optional<StreamSource> parse_stream_source(const Json& json);
// StreamSource as nats-server marshals it (omitempty).
Json stream_source_json(const StreamSource& source);
// Rewrites config.mirror / config.sources into nats-server's form (unknown fields dropped, empty
// sources = none). False when they do not unmarshal.
bool normalize_stream_sources(StreamConfig& config);
// The sources of a config (the mirror, or each source), already normalized.
std::vector<StreamSource> stream_sources_of(const StreamConfig& config);

// checkStreamCfg's mirror and source rules that need no other stream (10034, 10031, external,
// names, duplicates).
std::optional<ApiFailure> check_sources_config(const StreamConfig& config);

// checkStreamCfg's rules against the account's other streams (10030, 10046, filter overlap,
// cycles); sets mirror_direct from the origin's allow_direct as nats-server does.
using StreamConfigLookup = std::function<const StreamConfig*(std::string_view name)>;
std::optional<ApiFailure> check_sources_against(StreamConfig& config,
                                                const StreamConfigLookup& lookup);

// StreamFeeds: every mirror and source feed of the node, owned by JetStream. Lifecycle:
// JetStream calls on_started() when a stream is installed (created or recovered), on_updated()
// after a stream update, on_removed() before a deleted stream closes, and shutdown() first when
// it stops. Runs on the node's loop; store callbacks are guarded by a life token and a per-feed
// generation (a feed whose origin went away ignores loads still in flight). Invariants: a feed's
// target stream exists while the feed does; at most one origin load per feed is in flight.
class StreamFeeds {
public:
    using Lookup = std::function<Stream*(std::string_view account, std::string_view name)>;

    StreamFeeds(io::Env& env, Lookup lookup, base::Logger log);
    ~StreamFeeds();
    StreamFeeds(const StreamFeeds&) = delete;
    StreamFeeds& operator=(const StreamFeeds&) = delete;

    void on_started(std::string_view account, Stream& stream);
    void on_updated(std::string_view account, Stream& stream);
    void on_removed(std::string_view account, Stream& stream);
    void shutdown();

    // Adds "mirror" / "sources" (StreamSourceInfo) to a StreamInfo object, as nats-server's
    // mirrorInfo / sourcesInfo.
    void add_info(std::string_view account, const Stream& stream, Json& info) const;

    struct Stats {
        std::uint64_t copied = 0;      // Messages stored into a mirror or a sourcing stream.
        std::uint64_t duplicates = 0;  // Sourced messages dropped by the Nats-Msg-Id window.
        std::uint64_t refused = 0;     // Messages the target did not take (limits, size, failure).
    };
    const Stats& stats() const { return stats_; }
    void check_invariants() const;

private:
    enum class Phase : std::uint8_t { scanning, seeking, copying, waiting, missing };
    struct Feed {
        std::string account;
        std::string target_name;
        Stream* target = nullptr;
        bool mirror = false;
        StreamSource source;
        Phase phase = Phase::scanning;
        store::Seq next_seq = 1;                   // Next origin sequence to copy.
        std::optional<std::int64_t> seek_time_ns;  // Start at the first message this young.
        bool in_flight = false;                    // An origin load is outstanding.
        bool wake_pending = false;                 // The origin grew while it was.
        std::uint64_t generation = 0;
        std::uint64_t lag = 0;            // Kept for the info while the origin is missing.
        std::int64_t last_active_ns = 0;  // 0 = never heard from the origin.
        std::optional<ApiFailure> error;
        io::TimerId timer = 0;
    };
    using Key = std::tuple<std::string, std::string, std::string>;  // Account, target, origin.

    void add_feed(std::string_view account,
                  Stream& target,
                  const StreamSource& source,
                  bool mirror);
    void remove_feed(const Key& key);
    void start_positions(std::string_view account, Stream& target, bool time_fallback);
    void scan_step(std::string account,
                   std::string target,
                   store::Seq seq,
                   std::uint64_t scanned,
                   bool time_fallback);
    void scan_done(const std::string& account, const std::string& target, bool time_fallback);
    void pump(const Key& key);
    void on_loaded(const Key& key, std::uint64_t generation, Result<store::StoredMessage> loaded);
    Stream::FedResult copy(Feed& feed, const store::StoredMessage& message);
    void seek_step(const Key& key,
                   std::uint64_t generation,
                   store::Seq low,
                   store::Seq high,
                   std::uint32_t steps);
    void wake(std::string_view account, std::string_view origin);
    void set_missing(Feed& feed);
    void arm_timer(const Key& key);
    Feed* find(const Key& key);
    Json info_of(const Feed& feed) const;
    static std::uint64_t lag_of(const Feed& feed, const Stream& origin);

    io::Env& env_;
    Lookup lookup_;
    base::Logger log_;
    std::map<Key, std::unique_ptr<Feed>> feeds_;
    Stats stats_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::jetstream
