#include "engine/jetstream/stream_source.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/api_json.h"
#include "engine/jetstream/consumer_config.h"
#include "engine/protocol/subject.h"
#include "engine/store/errc.h"

namespace herald::jetstream {

namespace {

std::optional<ApiFailure> invalid_config(std::string_view why) {
    return api_failure(ApiError::stream_invalid_config, why);
}

bool read_text(const Json& json, const char* key, std::string& out) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
}

// Matches nats-server hasFilterSubjectOverlap in checkStreamCfg.
bool filter_overlaps(std::string_view filter, const std::vector<std::string>& subjects) {
    if (filter.empty() || subjects.empty()) return true;
    return std::any_of(subjects.begin(), subjects.end(), [&](const std::string& subject) {
        return subjects_collide(subject, filter);
    });
}

// nats-server streamAndSeq: "<origin> <seq>", or the old form, an ack reply subject
// "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...".
std::optional<std::pair<std::string, store::Seq>> parse_source_header(std::string_view value) {
    std::vector<std::string_view> fields;
    const bool ack_form = value.starts_with("$JS.ACK.");
    const char separator = ack_form ? '.' : ' ';
    while (!value.empty()) {
        const std::size_t end = value.find(separator);
        const std::string_view field = value.substr(0, end);
        if (!field.empty() || ack_form) fields.push_back(field);
        if (end == std::string_view::npos) break;
        value.remove_prefix(end + 1);
    }
    std::string_view name;
    std::string_view seq;
    if (ack_form && fields.size() == 9) {
        name = fields[2];
        seq = fields[5];
    } else if (!ack_form && fields.size() == 2) {
        name = fields[0];
        seq = fields[1];
    } else {
        return std::nullopt;
    }
    const auto number = parse_uint(seq);
    if (!number) return std::nullopt;
    return std::pair{std::string(name), *number};
}

}  // namespace

std::optional<StreamSource> parse_stream_source(const Json& json) {
    if (!json.is_object()) return std::nullopt;
    StreamSource source;
    if (!read_text(json, "name", source.name)) return std::nullopt;
    if (!read_text(json, "filter_subject", source.filter_subject)) return std::nullopt;
    if (const auto it = json.find("opt_start_seq"); it != json.end() && !it->is_null()) {
        if (!it->is_number_unsigned()) return std::nullopt;
        source.opt_start_seq = it->get<std::uint64_t>();
    }
    std::string start_time;
    if (!read_text(json, "opt_start_time", start_time)) return std::nullopt;
    if (json.contains("opt_start_time") && !json["opt_start_time"].is_null()) {
        source.opt_start_time_ns = parse_rfc3339(start_time);
        if (!source.opt_start_time_ns) return std::nullopt;
    }
    if (const auto it = json.find("external"); it != json.end() && !it->is_null()) {
        std::string api;
        std::string deliver;
        if (!it->is_object() || !read_text(*it, "api", api) || !read_text(*it, "deliver", deliver))
            return std::nullopt;
        source.external = Json{{"api", api}, {"deliver", deliver}};
    }
    return source;
}

Json stream_source_json(const StreamSource& source) {
    Json json = Json::object();
    json["name"] = source.name;
    if (source.opt_start_seq != 0) json["opt_start_seq"] = source.opt_start_seq;
    if (source.opt_start_time_ns) json["opt_start_time"] = rfc3339_nano(*source.opt_start_time_ns);
    if (!source.filter_subject.empty()) json["filter_subject"] = source.filter_subject;
    if (!source.external.is_null()) json["external"] = source.external;
    return json;
}

bool normalize_stream_sources(StreamConfig& config) {
    if (!config.mirror.is_null()) {
        const auto mirror = parse_stream_source(config.mirror);
        if (!mirror) return false;
        config.mirror = stream_source_json(*mirror);
    }
    if (!config.sources.is_null()) {
        if (!config.sources.is_array()) return false;
        Json sources = Json::array();
        for (const Json& item : config.sources) {
            const auto source = parse_stream_source(item);
            if (!source) return false;
            sources.push_back(stream_source_json(*source));
        }
        // Go marshals an empty slice with omitempty as nothing.
        config.sources = sources.empty() ? Json(nullptr) : std::move(sources);
    }
    return true;
}

std::vector<StreamSource> stream_sources_of(const StreamConfig& config) {
    std::vector<StreamSource> sources;
    if (!config.mirror.is_null()) {
        auto mirror = parse_stream_source(config.mirror);
        ASSERT(mirror.has_value());  // Normalized when parsed.
        sources.push_back(std::move(*mirror));
    }
    if (config.sources.is_array()) {
        for (const Json& item : config.sources) {
            auto source = parse_stream_source(item);
            ASSERT(source.has_value());
            sources.push_back(std::move(*source));
        }
    }
    return sources;
}

std::optional<ApiFailure> check_sources_config(const StreamConfig& config) {
    // Matches nats-server checkStreamCfg's mirror pre-checks, in its order.
    const bool mirror = !config.mirror.is_null();
    if (mirror && !config.subjects.empty()) return api_failure(ApiError::mirror_with_subjects);
    if (mirror && !config.sources.is_null()) return api_failure(ApiError::mirror_with_sources);
    std::set<std::string, std::less<>> names;
    for (const StreamSource& source : stream_sources_of(config)) {
        // Herald serves origins in the same account only: an external one is refused, not
        // ignored.
        if (!source.external.is_null()) {
            return invalid_config(
                "stream mirrors and sources from another account or domain (external) are not "
                "supported by this server");
        }
        if (!is_valid_name(source.name)) {
            return invalid_config(mirror ? "stream mirror name is not valid"
                                         : "stream source name is not valid");
        }
        if (!source.filter_subject.empty() && !protocol::is_valid_subject(source.filter_subject)) {
            return invalid_config(fmt::format("stream {} filter subject '{}' is not valid",
                                              mirror ? "mirror" : "source",
                                              source.filter_subject));
        }
        // As nats-server 2.10 (2.9 silently kept only one of them).
        if (!names.insert(source.name).second)
            return invalid_config("duplicate source configuration detected");
    }
    return std::nullopt;
}

std::optional<ApiFailure> check_sources_against(StreamConfig& config,
                                                const StreamConfigLookup& lookup) {
    // Matches nats-server checkStreamCfg with the account's streams at hand.
    std::vector<std::string> origin_subjects;
    if (!config.mirror.is_null()) {
        const StreamSource mirror = stream_sources_of(config).front();
        if (const StreamConfig* origin = lookup(mirror.name)) {
            origin_subjects = origin->subjects;
            if (config.max_msg_size > 0 && origin->max_msg_size > 0
                && config.max_msg_size < origin->max_msg_size) {
                return api_failure(ApiError::mirror_max_message_size_too_big);
            }
            if (!filter_overlaps(mirror.filter_subject, origin->subjects)) {
                return invalid_config(fmt::format(
                    "mirror '{}' filter subject '{}' does not overlap with any origin stream "
                    "subject",
                    mirror.name,
                    mirror.filter_subject));
            }
            config.mirror_direct = origin->allow_direct;
        }
    }
    if (config.sources.is_array()) {
        for (const StreamSource& source : stream_sources_of(config)) {
            const StreamConfig* origin = lookup(source.name);
            if (origin == nullptr) continue;
            origin_subjects.insert(
                origin_subjects.end(), origin->subjects.begin(), origin->subjects.end());
            if (config.max_msg_size > 0 && origin->max_msg_size > 0
                && config.max_msg_size < origin->max_msg_size) {
                return api_failure(ApiError::source_max_message_size_too_big);
            }
            // nats-server checks against the subjects of every origin seen so far.
            if (!filter_overlaps(source.filter_subject, origin_subjects)) {
                return invalid_config(fmt::format(
                    "source '{}' filter subject '{}' does not overlap with any origin stream "
                    "subject",
                    source.name,
                    source.filter_subject));
            }
        }
    }
    // nats-server's cycle check: a breadth-first walk over sources and mirrors; a name seen twice
    // is a cycle (as there, a diamond counts too).
    std::vector<StreamConfig> to_visit{config};
    std::set<std::string, std::less<>> visited;
    for (std::size_t i = 0; i < to_visit.size(); ++i) {
        const StreamConfig current = to_visit[i];
        visited.insert(current.name);
        for (const StreamSource& source : stream_sources_of(current)) {
            if (visited.contains(source.name)) return invalid_config("detected cycle");
            if (const StreamConfig* next = lookup(source.name)) to_visit.push_back(*next);
        }
    }
    return std::nullopt;
}

// StreamFeeds.

StreamFeeds::StreamFeeds(io::Env& env, Lookup lookup, base::Logger log)
    : env_(env), lookup_(std::move(lookup)), log_(std::move(log)) {}

StreamFeeds::~StreamFeeds() {
    shutdown();
}

void StreamFeeds::shutdown() {
    for (auto& [key, feed] : feeds_) {
        if (feed->timer != 0) env_.loop.cancel(feed->timer);
    }
    feeds_.clear();
    life_ = std::make_shared<int>(0);  // Callbacks in flight find nothing.
}

StreamFeeds::Feed* StreamFeeds::find(const Key& key) {
    const auto it = feeds_.find(key);
    return it == feeds_.end() ? nullptr : it->second.get();
}

void StreamFeeds::on_started(std::string_view account, Stream& stream) {
    std::weak_ptr<int> life = life_;
    stream.set_appended_hook([this, life, account = std::string(account), name = stream.name()] {
        if (!life.expired()) wake(account, name);
    });
    const StreamConfig& config = stream.config();
    const bool mirror = !config.mirror.is_null();
    const std::vector<StreamSource> sources = stream_sources_of(config);
    for (const StreamSource& source : sources)
        add_feed(account, stream, source, mirror);
    if (!sources.empty()) start_positions(account, stream, true);
    // Feeds that waited for this stream as their origin go on.
    wake(account, stream.name());
    check_invariants();
}

void StreamFeeds::add_feed(std::string_view account,
                           Stream& target,
                           const StreamSource& source,
                           bool mirror) {
    Key key{std::string(account), target.name(), source.name};
    ASSERT(!feeds_.contains(key));
    auto feed = std::make_unique<Feed>();
    feed->account = std::get<0>(key);
    feed->target_name = target.name();
    feed->target = &target;
    feed->mirror = mirror;
    feed->source = source;
    feed->phase = Phase::scanning;
    feeds_.emplace(key, std::move(feed));
    arm_timer(key);
}

void StreamFeeds::remove_feed(const Key& key) {
    const auto it = feeds_.find(key);
    if (it == feeds_.end()) return;
    if (it->second->timer != 0) env_.loop.cancel(it->second->timer);
    feeds_.erase(it);
}

void StreamFeeds::on_updated(std::string_view account, Stream& stream) {
    // Matches nats-server stream.update: sources may come and go; a mirror never changes.
    const StreamConfig& config = stream.config();
    if (!config.mirror.is_null()) return;
    const std::vector<StreamSource> sources = stream_sources_of(config);
    std::vector<Key> gone;
    for (const auto& [key, feed] : feeds_) {
        if (feed->account != account || feed->target != &stream) continue;
        const std::string& origin = feed->source.name;
        const bool kept = std::any_of(sources.begin(), sources.end(), [&](const StreamSource& s) {
            return s.name == origin;
        });
        if (!kept) gone.push_back(key);
    }
    for (const Key& key : gone)
        remove_feed(key);
    bool added = false;
    for (const StreamSource& source : sources) {
        const Key key{std::string(account), stream.name(), source.name};
        Feed* feed = find(key);
        if (feed == nullptr) {
            add_feed(account, stream, source, false);
            added = true;
            continue;
        }
        const std::string old_filter = feed->source.filter_subject;
        feed->source = source;
        if (old_filter == source.filter_subject) continue;
        // A filter that overlaps the old one goes on from the same position; one that does not
        // starts with the messages stored from now on (nats-server update).
        const bool overlap = old_filter.empty() || source.filter_subject.empty()
                             || protocol::subject_is_subset(old_filter, source.filter_subject)
                             || protocol::subject_is_subset(source.filter_subject, old_filter);
        if (!overlap) feed->seek_time_ns = env_.clock.realtime_ns();
        feed->generation += 1;
        feed->in_flight = false;
        if (feed->phase != Phase::scanning) feed->phase = Phase::copying;
        pump(key);
    }
    if (added) start_positions(account, stream, false);
    check_invariants();
}

void StreamFeeds::on_removed(std::string_view account, Stream& stream) {
    std::vector<Key> gone;
    for (auto& [key, feed] : feeds_) {
        if (feed->account != account) continue;
        if (feed->target == &stream) {
            gone.push_back(key);
        } else if (feed->source.name == stream.name()) {
            // Matches nats-server: the feed stops and its info shows the consumer create error.
            COVER("jetstream: a mirror or source loses its origin");
            set_missing(*feed);
        }
    }
    for (const Key& key : gone)
        remove_feed(key);
    stream.set_appended_hook({});
    check_invariants();
}

void StreamFeeds::set_missing(Feed& feed) {
    feed.phase = Phase::missing;
    feed.error = api_failure(ApiError::stream_not_found);
    feed.in_flight = false;
    feed.wake_pending = false;
    feed.generation += 1;  // Loads of the old origin still in flight are ignored.
}

void StreamFeeds::start_positions(std::string_view account, Stream& target, bool time_fallback) {
    const store::StreamState state = target.store().state();
    for (auto& [key, feed] : feeds_) {
        if (feed->account != account || feed->target != &target || !feed->mirror) continue;
        if (!target.store().subjects_state(mirror_skip_subject).empty()) {
            // A store written before mirrors skipped gaps with StreamStore::skip may hold
            // placeholders of a gap whose delete markers a crash lost (mirror_skip_subject).
            COVER("jetstream: a mirror removes placeholders a crash left behind");
            store::PurgeRequest purge;
            purge.filter = mirror_skip_subject;
            target.store().purge(purge, [](Result<std::uint64_t>) {});
        }
        // Matches nats-server setupMirrorConsumer: the start options count only for a mirror
        // that never stored anything; otherwise it goes on after its last sequence.
        if (state.last_seq == 0 && state.messages == 0) {
            if (feed->source.opt_start_seq > 0) {
                feed->next_seq = feed->source.opt_start_seq;
            } else if (feed->source.opt_start_time_ns) {
                feed->seek_time_ns = feed->source.opt_start_time_ns;
            }
        } else {
            feed->next_seq = state.last_seq + 1;
        }
        feed->phase = Phase::copying;
        pump(key);
        return;
    }
    // Sources: nats-server startingSequenceForSources scans back for each source's newest
    // Nats-Stream-Source header.
    if (state.messages == 0) return scan_done(std::string(account), target.name(), time_fallback);
    scan_step(std::string(account), target.name(), state.last_seq, 0, time_fallback);
}

void StreamFeeds::scan_step(std::string account,
                            std::string target,
                            store::Seq seq,
                            std::uint64_t scanned,
                            bool time_fallback) {
    Stream* stream = lookup_(account, target);
    if (stream == nullptr) return;
    const bool scanning = std::any_of(feeds_.begin(), feeds_.end(), [&](const auto& entry) {
        const Feed& feed = *entry.second;
        return feed.target == stream && feed.account == account && feed.phase == Phase::scanning;
    });
    if (!scanning) return;
    if (seq == 0 || seq < stream->store().state().first_seq || scanned >= source_scan_max)
        return scan_done(account, target, time_fallback);
    std::weak_ptr<int> life = life_;
    stream->store().load(
        seq,
        [this, life, stream, account, target, seq, scanned, time_fallback](
            Result<store::StoredMessage> loaded) {
            if (life.expired() || lookup_(account, target) != stream) return;
            if (loaded && !loaded->headers.empty()) {
                const auto value = header_value(loaded->headers, stream_source_header);
                const auto parsed = value ? parse_source_header(*value) : std::nullopt;
                if (parsed) {
                    const Key key{account, target, parsed->first};
                    Feed* feed = find(key);
                    if (feed != nullptr && feed->target == stream
                        && feed->phase == Phase::scanning) {
                        feed->next_seq = parsed->second + 1;
                        feed->phase = Phase::copying;
                        pump(key);
                    }
                }
            }
            scan_step(account, target, seq - 1, scanned + 1, time_fallback);
        });
}

void StreamFeeds::scan_done(const std::string& account,
                            const std::string& target,
                            bool time_fallback) {
    Stream* stream = lookup_(account, target);
    if (stream == nullptr) return;
    const store::StreamState state = stream->store().state();
    std::vector<Key> ready;
    for (auto& [key, feed] : feeds_) {
        if (feed->account != account || feed->target != stream || feed->phase != Phase::scanning)
            continue;
        // Matches nats-server setSourceConsumer for a source with no header found: the start
        // options, else (after a restart) the messages since this stream's last one.
        const std::optional<std::int64_t> since =
            time_fallback && state.last_ts != 0 ? std::optional(state.last_ts) : std::nullopt;
        feed->next_seq = 1;
        if (feed->source.opt_start_seq > 0) {
            feed->next_seq = feed->source.opt_start_seq;
        } else if (feed->source.opt_start_time_ns) {
            feed->seek_time_ns = std::max(*feed->source.opt_start_time_ns, since.value_or(0));
        } else if (since) {
            COVER("jetstream: a source starts by time after its messages are gone");
            feed->seek_time_ns = since;
        }
        feed->phase = Phase::copying;
        ready.push_back(key);
    }
    for (const Key& key : ready)
        pump(key);
}

void StreamFeeds::wake(std::string_view account, std::string_view origin) {
    for (auto& [key, feed] : feeds_) {
        if (feed->source.name != origin || feed->account != account) continue;
        if (feed->phase == Phase::missing) {
            COVER("jetstream: a mirror or source finds its origin again");
            feed->error.reset();
            feed->phase = Phase::copying;
        }
        if (feed->phase == Phase::waiting || feed->phase == Phase::copying) pump(key);
    }
}

void StreamFeeds::pump(const Key& key) {
    Feed* feed = find(key);
    if (feed == nullptr || feed->phase == Phase::scanning || feed->phase == Phase::missing) return;
    if (feed->in_flight) {
        feed->wake_pending = true;
        return;
    }
    Stream* origin = lookup_(feed->account, feed->source.name);
    if (origin == nullptr) return set_missing(*feed);
    feed->in_flight = true;
    feed->wake_pending = false;
    const std::uint64_t generation = feed->generation;
    if (feed->seek_time_ns) {
        feed->phase = Phase::seeking;
        const store::StreamState state = origin->store().state();
        return seek_step(
            key, generation, std::max<store::Seq>(state.first_seq, 1), state.last_seq + 1, 0);
    }
    feed->phase = Phase::copying;
    std::weak_ptr<int> life = life_;
    origin->store().load_next(feed->source.filter_subject,
                              feed->next_seq,
                              [this, life, key, generation](Result<store::StoredMessage> loaded) {
                                  if (life.expired()) return;
                                  on_loaded(key, generation, std::move(loaded));
                              });
}

void StreamFeeds::seek_step(const Key& key,
                            std::uint64_t generation,
                            store::Seq low,
                            store::Seq high,
                            std::uint32_t steps) {
    // A binary search for the first message stored at or after seek_time_ns (stored times grow
    // with the sequence), as a consumer's deliver_policy by_start_time finds it.
    Feed* feed = find(key);
    if (feed == nullptr || feed->generation != generation) return;
    ASSERT(feed->seek_time_ns.has_value());
    Stream* origin = lookup_(feed->account, feed->source.name);
    if (origin == nullptr) return set_missing(*feed);
    if (low >= high || steps >= time_seek_steps_max) {
        feed->next_seq = low;
        feed->seek_time_ns.reset();
        feed->in_flight = false;
        feed->phase = Phase::copying;
        return pump(key);
    }
    const store::Seq middle = low + (high - low) / 2;
    const std::int64_t wanted_ns = *feed->seek_time_ns;
    std::weak_ptr<int> life = life_;
    origin->store().load_next("",
                              middle,
                              [this, life, key, generation, low, high, middle, steps, wanted_ns](
                                  Result<store::StoredMessage> loaded) {
                                  if (life.expired()) return;
                                  if (!loaded || loaded->timestamp_ns >= wanted_ns)
                                      return seek_step(key, generation, low, middle, steps + 1);
                                  seek_step(key, generation, loaded->seq + 1, high, steps + 1);
                              });
}

void StreamFeeds::on_loaded(const Key& key,
                            std::uint64_t generation,
                            Result<store::StoredMessage> loaded) {
    Feed* feed = find(key);
    if (feed == nullptr || feed->generation != generation) return;
    ASSERT(feed->in_flight);
    feed->in_flight = false;
    Stream* origin = lookup_(feed->account, feed->source.name);
    if (origin == nullptr) return set_missing(*feed);
    const std::int64_t now_ns = env_.clock.realtime_ns();
    if (!loaded) {
        // Caught up (end_of_stream), or a store that cannot answer now: wait for the next append
        // or the health check.
        MAYBE(loaded.error() == store::Errc::end_of_stream);
        feed->phase = Phase::waiting;
        feed->lag = 0;
        feed->last_active_ns = now_ns;
        feed->error.reset();
        if (feed->mirror) feed->target->serve_mirror_direct();
        if (feed->wake_pending) pump(key);
        return;
    }
    if (loaded->seq > origin->acked_seq()) {
        // Not durable in the origin yet: its acknowledgement wakes the feed.
        feed->phase = Phase::waiting;
        if (feed->wake_pending) pump(key);
        return;
    }
    const Stream::FedResult result = copy(*feed, *loaded);
    // store_fed may have run hooks that changed feeds_: look the feed up again.
    feed = find(key);
    if (feed == nullptr || feed->generation != generation) return;
    switch (result) {
        case Stream::FedResult::stored:
            stats_.copied += 1;
            break;
        case Stream::FedResult::duplicate:
            stats_.duplicates += 1;
            break;
        case Stream::FedResult::refused:
            // Matches nats-server: a message the target refuses is skipped (a restart fetches it
            // again, since the position comes from what the target kept).
            stats_.refused += 1;
            LOG_DEBUG(log_,
                      "'{} > {}' did not take message {} of '{}'",
                      feed->account,
                      feed->target_name,
                      loaded->seq,
                      feed->source.name);
            break;
    }
    feed->next_seq = loaded->seq + 1;
    feed->last_active_ns = now_ns;
    feed->error.reset();
    feed->lag = lag_of(*feed, *origin);
    if (feed->mirror && feed->lag < mirror_direct_lag_max) feed->target->serve_mirror_direct();
    pump(key);
}

Stream::FedResult StreamFeeds::copy(Feed& feed, const store::StoredMessage& message) {
    if (feed.mirror) {
        return feed.target->store_fed(
            message.subject, message.headers, message.payload, message.seq, message.timestamp_ns);
    }
    // Matches nats-server processInboundSourceMsg: a daisy-chained header is replaced.
    std::string headers = message.headers;
    remove_header(headers, stream_source_header);
    append_header(
        headers, stream_source_header, fmt::format("{} {}", feed.source.name, message.seq));
    return feed.target->store_fed(message.subject, headers, message.payload, 0, 0);
}

void StreamFeeds::arm_timer(const Key& key) {
    Feed* feed = find(key);
    ASSERT(feed != nullptr);
    std::weak_ptr<int> life = life_;
    feed->timer = env_.loop.schedule(source_health_check_interval, [this, life, key] {
        if (life.expired()) return;
        Feed* found = find(key);
        if (found == nullptr) return;
        found->timer = 0;
        // The health check: a feed whose origin is there counts as heard from (nats-server's
        // idle heartbeats); a waiting or missing one looks again.
        if (found->phase != Phase::missing && lookup_(found->account, found->source.name))
            found->last_active_ns = env_.clock.realtime_ns();
        if (found->phase == Phase::waiting) pump(key);
        if (found->phase == Phase::missing && lookup_(found->account, found->source.name)) {
            found->error.reset();
            found->phase = Phase::copying;
            pump(key);
        }
        arm_timer(key);
    });
}

std::uint64_t StreamFeeds::lag_of(const Feed& feed, const Stream& origin) {
    // The origin's messages matching the filter that the feed has still to copy (nats-server
    // reports the pending count of its source consumer).
    const store::Seq last = origin.store().state().last_seq;
    if (feed.phase == Phase::scanning || feed.seek_time_ns || feed.next_seq > last) return 0;
    return origin.store().count_matching(feed.source.filter_subject, feed.next_seq, last);
}

Json StreamFeeds::info_of(const Feed& feed) const {
    // nats-server StreamSourceInfo: name, external (never here), lag, active (-1 when never
    // heard from), error.
    Json info = Json::object();
    info["name"] = feed.source.name;
    Stream* origin =
        feed.phase == Phase::missing ? nullptr : lookup_(feed.account, feed.source.name);
    info["lag"] = origin != nullptr ? lag_of(feed, *origin) : feed.lag;
    info["active"] =
        feed.last_active_ns == 0
            ? std::int64_t{-1}
            : std::max<std::int64_t>(0, env_.clock.realtime_ns() - feed.last_active_ns);
    if (feed.error) info["error"] = api_error_json(*feed.error);
    return info;
}

void StreamFeeds::add_info(std::string_view account, const Stream& stream, Json& info) const {
    const StreamConfig& config = stream.config();
    Json sources = Json::array();
    for (const StreamSource& source : stream_sources_of(config)) {
        const auto it = feeds_.find(Key{std::string(account), stream.name(), source.name});
        if (it == feeds_.end()) continue;
        if (it->second->mirror) {
            info["mirror"] = info_of(*it->second);
        } else {
            sources.push_back(info_of(*it->second));
        }
    }
    if (!sources.empty()) info["sources"] = std::move(sources);
}

void StreamFeeds::check_invariants() const {
    for (const auto& [key, feed] : feeds_) {
        ASSERT(feed->target != nullptr);
        ASSERT(std::get<2>(key) == feed->source.name);
        if (feed->phase == Phase::missing) ASSERT(!feed->in_flight);
        if (feed->phase == Phase::scanning) ASSERT(!feed->in_flight);
    }
}

}  // namespace herald::jetstream
