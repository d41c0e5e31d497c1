#include "engine/jetstream/stream.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/api_json.h"
#include "engine/protocol/subject.h"

namespace herald::jetstream {

namespace {

// The NATS/1.0 status replies of DIRECT.GET (nats-server stream.go getDirectRequest).
constexpr std::string_view status_empty_request = "NATS/1.0 408 Empty Request\r\n\r\n";
constexpr std::string_view status_bad_request = "NATS/1.0 408 Bad Request\r\n\r\n";
constexpr std::string_view status_malformed_request = "NATS/1.0 408 Malformed Request\r\n\r\n";
constexpr std::string_view status_not_found = "NATS/1.0 404 Message Not Found\r\n\r\n";
constexpr std::string_view request_info_header = "Nats-Request-Info";  // nats-server ClientInfoHdr.

// nats-server getExpectedLastSeq: a present header that is not a number counts as -1.
std::optional<std::uint64_t> sequence_header(std::string_view headers, std::string_view key) {
    const auto value = header_value(headers, key);
    if (!value || value->empty()) return std::nullopt;
    return parse_uint(*value).value_or(std::numeric_limits<std::uint64_t>::max());
}

}  // namespace

Stream::Stream(io::Env& env,
               core::Broker& broker,
               std::string account,
               std::string domain,
               StreamConfig config,
               std::int64_t created_ns,
               std::unique_ptr<store::StreamStore> store,
               base::Logger log)
    : env_(env),
      broker_(broker),
      account_(std::move(account)),
      domain_(std::move(domain)),
      config_(std::move(config)),
      created_ns_(created_ns),
      store_(std::move(store)),
      log_(std::move(log)) {
    ASSERT(store_ != nullptr);
    acked_seq_ = store_->state().last_seq;  // A recovered store holds only what it kept.
    ASSERT(!config_.name.empty());
    configure();
}

void Stream::configure() {
    // Matches nats-server stream.go: the PubAck is written by hand, with a space after the comma.
    pub_ack_prefix_ = domain_.empty()
                          ? fmt::format("{{\"stream\":{}, \"seq\":", Json(config_.name).dump())
                          : fmt::format("{{\"stream\":{}, \"domain\":{}, \"seq\":",
                                        Json(config_.name).dump(),
                                        Json(domain_).dump());
    republish_.reset();
    republish_headers_only_ = false;
    if (config_.republish.is_object()) {
        republish_ = SubjectTransform::create(config_.republish.value("src", std::string(">")),
                                              config_.republish.value("dest", std::string()));
        ASSERT(republish_.has_value());  // check_stream_config accepted it.
        republish_headers_only_ = config_.republish.value("headers_only", false);
    }
}

Stream::~Stream() {
    stop();
    if (destroyed_hook_) {
        const std::function<void()> hook = std::move(destroyed_hook_);
        hook();
    }
}

Status Stream::start() {
    ASSERT(subscriptions_.empty());
    return subscribe_all();
}

Status Stream::subscribe_all() {
    auto on_message = [this](const protocol::MessageArgs& message, std::string_view payload) {
        on_publish(message, payload);
    };
    for (const std::string& subject : config_.subjects) {
        auto id = broker_.subscribe_internal(account_, subject, "", on_message);
        if (!id) {
            stop();
            return id.error();
        }
        subscriptions_.push_back(*id);
    }
    Status direct = ok();
    if (config_.allow_direct) direct = subscribe_direct(config_.name);
    if (direct && serving_mirror_direct_)
        direct = subscribe_direct(config_.mirror["name"].get<std::string>());
    if (!direct) stop();
    return direct;
}

Status Stream::subscribe_direct(const std::string& stream_name) {
    // Matches nats-server: direct gets are served by a queue group so that replicas and
    // mirrors share them.
    auto on_direct = [this](const protocol::MessageArgs& message, std::string_view payload) {
        on_direct_get(message, payload);
    };
    const std::string direct = "$JS.API.DIRECT.GET." + stream_name;
    for (const std::string& subject : {direct, direct + ".>"}) {
        auto id = broker_.subscribe_internal(account_, subject, "_sys_", on_direct);
        if (!id) return id.error();
        subscriptions_.push_back(*id);
    }
    return ok();
}

void Stream::serve_mirror_direct() {
    // Matches nats-server subscribeToMirrorDirect: a mirror whose origin allows direct gets
    // answers them for the origin too, once it has caught up.
    if (serving_mirror_direct_ || !config_.mirror_direct || !config_.mirror.is_object()) return;
    COVER("jetstream: a mirror serves its origin's direct gets");
    serving_mirror_direct_ = true;
    const Status subscribed = subscribe_direct(config_.mirror["name"].get<std::string>());
    MAYBE(subscribed.has_value());
}

void Stream::rebuild_dedup(std::function<void()> on_done) {
    ASSERT(subscriptions_.empty());
    const store::StreamState state = store_->state();
    if (state.messages == 0) {
        env_.loop.post(std::move(on_done));
        return;
    }
    const std::int64_t horizon_ns = env_.clock.realtime_ns() - config_.duplicate_window_ns;
    rebuild_step(state.last_seq,
                 0,
                 horizon_ns,
                 std::make_shared<std::vector<DedupEntry>>(),
                 std::move(on_done));
}

void Stream::rebuild_step(store::Seq seq,
                          std::size_t scanned,
                          std::int64_t horizon_ns,
                          std::shared_ptr<std::vector<DedupEntry>> found,
                          std::function<void()> on_done) {
    // Walks back from the last message until one is older than the window (or the bound).
    const auto finish = [this, found, on_done] {
        for (auto it = found->rbegin(); it != found->rend(); ++it) {
            if (it->id.empty() || dedup_.contains(it->id)) continue;
            dedup_order_.push_back(it->id);
            dedup_.emplace(it->id, *it);
        }
        on_done();
    };
    if (seq == 0 || seq < store_->state().first_seq || scanned >= dedup_entries_max)
        return finish();
    std::weak_ptr<int> life = life_;
    store_->load(
        seq,
        [this, life, seq, scanned, horizon_ns, found, on_done, finish](
            Result<store::StoredMessage> loaded) {
            if (life.expired()) return;
            if (loaded) {
                if (loaded->timestamp_ns < horizon_ns) return finish();
                const std::string id(
                    header_value(loaded->headers, "Nats-Msg-Id").value_or(std::string_view{}));
                if (seq == store_->state().last_seq) last_msg_id_ = id;
                found->push_back(DedupEntry{id, loaded->seq, loaded->timestamp_ns});
            }
            rebuild_step(seq - 1, scanned + 1, horizon_ns, found, on_done);
        });
}

void Stream::stop() {
    for (const std::uint64_t id : subscriptions_)
        broker_.unsubscribe_internal(id);
    subscriptions_.clear();
}

void Stream::close(std::function<void()> on_closed) {
    stop();
    store_->close([on_closed = std::move(on_closed)](Status) { on_closed(); });
}

Status Stream::update(StreamConfig config) {
    ASSERT(config.name == config_.name);
    stop();
    config_ = std::move(config);
    store_->update_limits(config_.store_limits());
    configure();
    return subscribe_all();
}

Json Stream::info_json(std::string_view subjects_filter) const {
    Json info = Json::object();
    info["config"] = stream_config_json(config_);
    info["created"] = rfc3339_nano(created_ns_);
    info["state"] = state_json(subjects_filter);
    return info;
}

Json Stream::durability_json() const {
    const store::Durability durability = store_->durability();
    Json sync = Json{{"sync", store::sync_mode_name(durability.mode)}};
    if (durability.mode == store::SyncMode::always) sync["group_commit"] = durability.group_commit;
    if (durability.mode == store::SyncMode::interval) sync["sync_interval"] = durability.sync_interval.ns;
    return sync;
}

Json Stream::state_json(std::string_view subjects_filter) const {
    const store::StreamState state = store_->state();
    Json json = Json::object();
    json["messages"] = state.messages;
    json["bytes"] = state.bytes;
    json["first_seq"] = state.first_seq;
    json["first_ts"] = rfc3339_nano(state.first_ts);
    json["last_seq"] = state.last_seq;
    json["last_ts"] = rfc3339_nano(state.last_ts);
    if (state.num_subjects != 0) json["num_subjects"] = state.num_subjects;
    if (!subjects_filter.empty()) {
        Json subjects = Json::object();
        for (const store::SubjectState& subject : store_->subjects_state(subjects_filter)) {
            subjects[subject.subject] = subject.messages;
        }
        if (!subjects.empty()) json["subjects"] = std::move(subjects);
    }
    if (state.num_deleted != 0) json["num_deleted"] = state.num_deleted;
    if (!state.lost.empty()) {
        Json msgs = Json::array();
        for (const store::SeqRange& range : state.lost) {
            for (store::Seq seq = range.first;
                 seq <= range.last && msgs.size() < lost_sequences_max;
                 ++seq) {
                msgs.push_back(seq);
            }
        }
        json["lost"] = Json{{"msgs", std::move(msgs)}, {"bytes", state.lost_bytes}};
    }
    json["consumer_count"] = state.consumer_count;
    return json;
}

void Stream::reply(std::string_view subject, std::string_view headers, std::string_view payload) {
    if (subject.empty()) return;
    const Status status = broker_.publish_internal(account_, subject, "", headers, payload);
    MAYBE(status.has_value());
}

void Stream::send_pub_ack(std::string_view reply_subject, store::Seq seq, bool duplicate) {
    if (config_.no_ack || reply_subject.empty()) return;
    std::string ack = pub_ack_prefix_;
    ack += std::to_string(seq);
    ack += duplicate ? ",\"duplicate\": true}" : "}";
    reply(reply_subject, "", ack);
}

void Stream::send_pub_error(std::string_view reply_subject, const ApiFailure& failure) {
    stats_.rejected += 1;
    if (config_.no_ack || reply_subject.empty()) return;
    Json response = Json::object();
    response["error"] = api_error_json(failure);
    response["stream"] = config_.name;
    response["seq"] = 0;
    reply(reply_subject, "", response.dump());
}

void Stream::on_publish(const protocol::MessageArgs& message, std::string_view payload) {
    // Matches nats-server processInboundJetStreamMsg + processJetStreamMsg (stream.go): the
    // checks run in this order and the first failure is the PubAck error.
    std::string_view headers = payload.substr(0, message.headers ? message.header_size : 0);
    const std::string_view body = payload.substr(headers.size());
    // Matches nats-server: a client may not store the server's own request-info header.
    std::string stripped;
    if (headers.find(request_info_header) != std::string_view::npos) {
        stripped.assign(headers);
        remove_header(stripped, request_info_header);
        headers = stripped;
    }
    const std::string_view reply_subject = message.reply;
    if (config_.sealed) {
        // nats-server answers a sealed stream's publisher even with no_ack.
        stats_.rejected += 1;
        if (!reply_subject.empty()) {
            Json response = Json::object();
            response["error"] = api_error_json(api_failure(ApiError::stream_sealed));
            response["stream"] = config_.name;
            response["seq"] = 0;
            reply(reply_subject, "", response.dump());
        }
        return;
    }
    std::string_view msg_id;
    Rollup rollup = Rollup::none;
    if (!headers.empty()) {
        if (const auto expected = header_value(headers, "Nats-Expected-Stream");
            expected && !expected->empty() && *expected != config_.name) {
            return send_pub_error(reply_subject, api_failure(ApiError::stream_not_match));
        }
        msg_id = header_value(headers, "Nats-Msg-Id").value_or(std::string_view{});
        if (!msg_id.empty()) {
            forget_expired_ids();
            if (const auto it = dedup_.find(msg_id); it != dedup_.end()) {
                stats_.duplicates += 1;
                // The original is not durable yet: no answer (a power loss may still take it;
                // the publisher retries and gets the duplicate ack once it is acknowledged).
                if (it->second.seq > acked_seq_) {
                    COVER("jetstream: a duplicate of a message not yet durable is not answered");
                    return;
                }
                return send_pub_ack(reply_subject, it->second.seq, true);
            }
        }
        if (const auto expected = sequence_header(headers, "Nats-Expected-Last-Subject-Sequence")) {
            store::Seq last = 0;
            for (const store::SubjectState& state : store_->subjects_state(message.subject)) {
                if (state.subject == message.subject) last = state.last_seq;
            }
            if (last != *expected) {
                return send_pub_error(
                    reply_subject,
                    api_failure(ApiError::stream_wrong_last_sequence, std::to_string(last)));
            }
        }
        if (const auto expected = sequence_header(headers, "Nats-Expected-Last-Sequence")) {
            const store::Seq last = store_->state().last_seq;
            if (last != *expected) {
                return send_pub_error(
                    reply_subject,
                    api_failure(ApiError::stream_wrong_last_sequence, std::to_string(last)));
            }
        }
        if (const auto expected = header_value(headers, "Nats-Expected-Last-Msg-Id");
            expected && !expected->empty() && *expected != last_msg_id_) {
            return send_pub_error(reply_subject,
                                  api_failure(ApiError::stream_wrong_last_msg_id, last_msg_id_));
        }
        if (const auto value = header_value(headers, "Nats-Rollup"); value && !value->empty()) {
            if (!config_.allow_rollup_hdrs || config_.deny_purge) {
                return send_pub_error(
                    reply_subject,
                    api_failure(ApiError::stream_rollup_failed, "rollup not permitted"));
            }
            if (*value == "sub") {
                rollup = Rollup::subject;
            } else if (*value == "all") {
                rollup = Rollup::all;
            } else {
                // Matches nats-server 2.9.10: an unknown rollup value drops the message unanswered.
                stats_.rejected += 1;
                return;
            }
        }
    }
    if (config_.max_msg_size >= 0
        && headers.size() + body.size() > static_cast<std::uint64_t>(config_.max_msg_size)) {
        return send_pub_error(reply_subject, api_failure(ApiError::stream_message_exceeds_maximum));
    }
    if (headers.size() > header_size_max) {
        return send_pub_error(reply_subject, api_failure(ApiError::stream_header_exceeds_maximum));
    }
    store_message(message.subject, reply_subject, headers, body, msg_id, rollup);
    check_invariants();
}

void Stream::store_message(std::string_view subject,
                           std::string_view reply_subject,
                           std::string_view headers,
                           std::string_view body,
                           std::string_view msg_id,
                           Rollup rollup,
                           store::Seq seq_wanted,
                           std::int64_t timestamp_ns) {
    const store::Seq last_before = store_->state().last_seq;
    // Republish needs the subject's previous sequence (Nats-Last-Sequence).
    std::optional<std::string> republish_to;
    store::Seq last_on_subject = 0;
    if (republish_) {
        republish_to = republish_->apply(subject);
        if (republish_to) {
            for (const store::SubjectState& state : store_->subjects_state(subject)) {
                if (state.subject == subject) last_on_subject = state.last_seq;
            }
        }
    }
    store::StoreRequest request;
    request.subject = subject;
    request.headers = headers;
    request.payload = body;
    request.seq = seq_wanted;
    request.timestamp_ns = timestamp_ns;
    const std::string previous_msg_id = last_msg_id_;
    const bool interest =
        config_.retention != Retention::interest || (interest_ && interest_(subject));
    // Republished once the store acknowledged it (durable by default), like the PubAck and the
    // consumers: a subscriber never sees a copy of a message a power loss then takes.
    std::shared_ptr<const PendingRepublish> copy;
    if (republish_to && interest) {
        copy = std::make_shared<const PendingRepublish>(PendingRepublish{
            std::move(*republish_to), std::string(subject), std::string(headers), std::string(body),
            last_on_subject});
    }
    std::weak_ptr<int> life = life_;
    if (!interest) {
        // Matches nats-server processJetStreamMsg: with interest retention and no consumer for
        // the subject, the sequence is used (SkipMsg) and acknowledged, but nothing is stored:
        // no limit counts it (it neither pushes out a kept message nor is refused by discard new).
        COVER("jetstream: interest retention drops a message nobody wants");
        const store::Seq skipped = seq_wanted != 0 ? seq_wanted : last_before + 1;
        store_->skip(skipped,
                     skipped,
                     0,
                     [this,
                      life,
                      reply_to = std::string(reply_subject),
                      id = std::string(msg_id),
                      previous_msg_id,
                      skipped](Status status) {
                         if (life.expired()) return;
                         if (!status) return store_failed(reply_to, id, previous_msg_id, status.error());
                         acked_seq_ = std::max(acked_seq_, skipped);
                         send_pub_ack(reply_to, skipped, false);
                     });
    } else {
        store_->store(request,
                      [this,
                       life,
                       reply_to = std::string(reply_subject),
                       id = std::string(msg_id),
                       previous_msg_id,
                       copy = std::move(copy)](Result<store::StoreAck> ack) {
                          if (life.expired()) return;
                          if (!ack) return store_failed(reply_to, id, previous_msg_id, ack.error());
                          stats_.stored += 1;
                          acked_seq_ = std::max(acked_seq_, ack->seq);
                          if (copy) {  // Before the PubAck, as nats-server orders them.
                              republish(copy->destination, copy->subject, copy->headers, copy->body, ack->seq,
                                        copy->last_on_subject);
                          }
                          send_pub_ack(reply_to, ack->seq, false);
                          if (appended_hook_) appended_hook_();
                          if (stored_hook_) stored_hook_(ack->seq, {});  // Consumers deliver it now.
                      });
    }
    const store::Seq seq = store_->state().last_seq;
    if (seq != last_before + 1) return;  // Refused at once (discard new): the callback says why.
    last_msg_id_.assign(msg_id);
    if (!msg_id.empty() && dedup_.size() < dedup_entries_max) {
        dedup_.emplace(std::string(msg_id),
                       DedupEntry{std::string(msg_id), seq, env_.clock.realtime_ns()});
        dedup_order_.emplace_back(msg_id);
    }
    if (!interest) return;  // Skipped: its id is remembered (nats-server storeMsgIdLocked).
    if (rollup != Rollup::none) {
        store::PurgeRequest purge;
        if (rollup == Rollup::subject) purge.filter.assign(subject);
        purge.keep = 1;
        store_->purge(purge, [](Result<std::uint64_t>) {});
    }
    if (stored_hook_) stored_hook_(seq, subject);
}

// A store or skip the store could not make durable: the message id is forgotten again and the
// publisher gets the error.
void Stream::store_failed(const std::string& reply_to,
                          const std::string& id,
                          const std::string& previous_msg_id,
                          std::error_code error) {
    if (const auto it = dedup_.find(id); it != dedup_.end()) dedup_.erase(it);
    if (last_msg_id_ == id) last_msg_id_ = previous_msg_id;
    LOG_DEBUG(log_, "failed to store a message: {}", error.message());
    send_pub_error(reply_to, api_failure(ApiError::stream_store_failed, error.message()));
}

Stream::FedResult Stream::store_fed(std::string_view subject,
                                    std::string_view headers,
                                    std::string_view body,
                                    store::Seq seq,
                                    std::int64_t timestamp_ns) {
    if (config_.sealed) return FedResult::refused;
    const store::Seq last_before = store_->state().last_seq;
    std::string_view msg_id;
    if (seq != 0) {
        // Matches nats-server processInboundMirrorMsg: older sequences are ignored, a gap is
        // skipped (skipMsgs; an empty store is compacted up to it, as processJetStreamMsg does:
        // the same state).
        if (seq <= last_before) return FedResult::duplicate;
        if (seq > last_before + 1) {
            const FedResult skipped = skip_sequences(last_before + 1, seq - 1);
            if (skipped != FedResult::stored) return skipped;
        }
    } else {
        // Matches nats-server processJetStreamMsg for a sourced message: the dedup window and the
        // size limits apply. The expected-sequence headers are not checked: they were the
        // origin's and would stop the feed for good.
        msg_id = header_value(headers, "Nats-Msg-Id").value_or(std::string_view{});
        if (!msg_id.empty()) {
            forget_expired_ids();
            if (dedup_.contains(msg_id)) {
                stats_.duplicates += 1;
                return FedResult::duplicate;
            }
        }
    }
    if ((config_.max_msg_size >= 0
         && headers.size() + body.size() > static_cast<std::uint64_t>(config_.max_msg_size))
        || headers.size() > header_size_max) {
        stats_.rejected += 1;
        return FedResult::refused;
    }
    const store::Seq last = store_->state().last_seq;
    store_message(subject, "", headers, body, msg_id, Rollup::none, seq, timestamp_ns);
    check_invariants();
    return store_->state().last_seq == last + 1 ? FedResult::stored : FedResult::refused;
}

Stream::FedResult Stream::skip_sequences(store::Seq first, store::Seq last) {
    // Matches nats-server skipMsgs (store SkipMsg per sequence) and, for a store that never held
    // anything, processJetStreamMsg's Compact: the store uses the sequences up without storing
    // anything (one durable record), so no limit counts them and no old message is pushed out.
    ASSERT(first <= last);
    ASSERT(first == store_->state().last_seq + 1);
    if (store_->state().messages == 0) {
        COVER("jetstream: a mirror's empty store starts at the origin's sequence");
    } else {
        COVER("jetstream: a mirror skips a gap of deleted origin messages");
    }
    std::weak_ptr<int> life = life_;
    store_->skip(first, last, 0, [this, life, last](Status status) {
        if (life.expired()) return;
        if (!status) {
            LOG_DEBUG(log_, "failed to skip sequences up to {}: {}", last, status.error().message());
            return;
        }
        acked_seq_ = std::max(acked_seq_, last);
    });
    return store_->state().last_seq == last ? FedResult::stored : FedResult::refused;
}

void Stream::republish(std::string_view destination,
                       std::string_view subject,
                       std::string_view headers,
                       std::string_view body,
                       store::Seq seq,
                       store::Seq last_on_subject) {
    // Matches nats-server processJetStreamMsg: the stored headers plus Nats-Stream, Nats-Subject,
    // Nats-Sequence, Nats-Last-Sequence (and Nats-Msg-Size instead of the body if headers_only).
    COVER("jetstream: a stored message is republished");
    std::string block(headers);
    append_header(block, "Nats-Stream", config_.name);
    append_header(block, "Nats-Subject", subject);
    append_header(block, "Nats-Sequence", std::to_string(seq));
    append_header(block, "Nats-Last-Sequence", std::to_string(last_on_subject));
    if (republish_headers_only_) append_header(block, "Nats-Msg-Size", std::to_string(body.size()));
    const Status status = broker_.publish_internal(
        account_, destination, "", block, republish_headers_only_ ? std::string_view{} : body);
    MAYBE(status.has_value());
}

void Stream::forget_expired_ids() {
    const std::int64_t now = env_.clock.realtime_ns();
    while (!dedup_order_.empty()) {
        const auto it = dedup_.find(dedup_order_.front());
        if (it != dedup_.end() && now - it->second.timestamp_ns < config_.duplicate_window_ns)
            break;
        if (it != dedup_.end()) dedup_.erase(it);
        dedup_order_.pop_front();
    }
}

void Stream::on_direct_get(const protocol::MessageArgs& message, std::string_view payload) {
    if (message.reply.empty()) return;
    const std::string_view body = payload.substr(message.headers ? message.header_size : 0);
    // "$JS.API.DIRECT.GET.<stream>[.<subject>]": the stream is this one or, for a mirror, its
    // origin.
    constexpr std::string_view direct_prefix = "$JS.API.DIRECT.GET.";
    const std::size_t name_end = message.subject.find('.', direct_prefix.size());
    const std::string_view prefix = message.subject.substr(0, name_end);
    const std::string reply_subject(message.reply);
    if (message.subject.size() > prefix.size()) {
        // $JS.API.DIRECT.GET.<stream>.<subject>: the last message on that subject.
        if (!body.empty()) return reply(reply_subject, status_bad_request, "");
        return direct_get(
            0, std::string(message.subject.substr(prefix.size() + 1)), "", reply_subject);
    }
    if (body.empty()) return reply(reply_subject, status_empty_request, "");
    const Json request = Json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object())
        return reply(reply_subject, status_malformed_request, "");
    std::uint64_t seq = 0;
    std::string last_for;
    std::string next_for;
    const auto seq_it = request.find("seq");
    if (seq_it != request.end() && !seq_it->is_null()) {
        if (!seq_it->is_number_unsigned())
            return reply(reply_subject, status_malformed_request, "");
        seq = seq_it->get<std::uint64_t>();
    }
    for (const auto& [key, out] :
         {std::pair{"last_by_subj", &last_for}, std::pair{"next_by_subj", &next_for}}) {
        const auto it = request.find(key);
        if (it == request.end() || it->is_null()) continue;
        if (!it->is_string()) return reply(reply_subject, status_malformed_request, "");
        *out = it->get<std::string>();
    }
    if (seq == 0 && last_for.empty() && next_for.empty())
        return reply(reply_subject, status_empty_request, "");
    if ((seq > 0 && !last_for.empty()) || (!last_for.empty() && !next_for.empty())) {
        return reply(reply_subject, status_bad_request, "");
    }
    direct_get(seq, std::move(last_for), std::move(next_for), reply_subject);
}

void Stream::direct_get(store::Seq seq,
                        std::string last_for,
                        std::string next_for,
                        std::string reply_subject) {
    std::weak_ptr<int> life = life_;
    auto on_loaded = [this, life, reply_subject](Result<store::StoredMessage> loaded) {
        if (life.expired()) return;
        if (!loaded) return reply(reply_subject, status_not_found, "");
        // Matches nats-server getDirectRequest: the stored headers plus four of ours.
        std::string headers = loaded->headers;
        append_header(headers, "Nats-Stream", config_.name);
        append_header(headers, "Nats-Subject", loaded->subject);
        append_header(headers, "Nats-Sequence", std::to_string(loaded->seq));
        append_header(headers, "Nats-Time-Stamp", rfc3339_nano(loaded->timestamp_ns));
        reply(reply_subject, headers, loaded->payload);
    };
    if (!next_for.empty()) return store_->load_next(next_for, seq, on_loaded);
    if (!last_for.empty()) return store_->load_last(last_for, on_loaded);
    store_->load(seq, on_loaded);
}

void Stream::check_invariants() const {
    ASSERT(dedup_.size() <= dedup_entries_max);
    ASSERT(dedup_order_.size() >= dedup_.size());
    if (config_.sealed) ASSERT(config_.deny_delete && config_.deny_purge);
    EXPENSIVE_ASSERT(std::all_of(dedup_.begin(), dedup_.end(), [&](const auto& entry) {
        return entry.first == entry.second.id && entry.second.seq <= store_->state().last_seq;
    }));
}

}  // namespace herald::jetstream
