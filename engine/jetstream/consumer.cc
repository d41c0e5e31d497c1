#include "engine/jetstream/consumer.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "engine/base/assert.h"
#include "engine/jetstream/api_json.h"
#include "engine/protocol/subject.h"

namespace herald::jetstream {

namespace {

Duration after(std::int64_t ns) {
    return Duration::nanoseconds(ns > 0 ? static_cast<std::uint64_t>(ns) : 0);
}

std::string_view trim(std::string_view text) {
    while (!text.empty()
           && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r'
               || text.front() == '\n')) {
        text.remove_prefix(1);
    }
    while (!text.empty()
           && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'
               || text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

// Go time.ParseDuration for the forms clients send ("5s", "1.5m", "300ms", "2h45m").
std::optional<std::int64_t> parse_go_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    bool negative = false;
    if (text.front() == '-' || text.front() == '+') {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text == "0") return 0;
    double total = 0;
    while (!text.empty()) {
        std::size_t i = 0;
        double value = 0;
        bool any = false;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            value = value * 10 + (text[i] - '0');
            any = true;
            ++i;
        }
        if (i < text.size() && text[i] == '.') {
            ++i;
            double scale = 0.1;
            while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
                value += (text[i] - '0') * scale;
                scale /= 10;
                any = true;
                ++i;
            }
        }
        if (!any) return std::nullopt;
        std::size_t j = i;
        while (j < text.size() && !(text[j] >= '0' && text[j] <= '9') && text[j] != '.')
            ++j;
        const std::string_view unit = text.substr(i, j - i);
        double scale = 0;
        if (unit == "ns")
            scale = 1;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
            scale = 1e3;
        else if (unit == "ms")
            scale = 1e6;
        else if (unit == "s")
            scale = 1e9;
        else if (unit == "m")
            scale = 60e9;
        else if (unit == "h")
            scale = 3600e9;
        else
            return std::nullopt;
        total += value * scale;
        text.remove_prefix(j);
    }
    if (total > 9.2e18) return std::nullopt;
    const auto ns = static_cast<std::int64_t>(total);
    return negative ? -ns : ns;
}

// Go time.Duration.String ("500ms", "1s", "1m30s", "1h0m0s").
std::string go_duration(std::int64_t ns) {
    if (ns == 0) return "0s";
    const auto trimmed = [](std::int64_t whole, std::int64_t fraction, int digits) {
        std::string text = std::to_string(whole);
        if (fraction == 0) return text;
        std::string frac = fmt::format("{:0{}}", fraction, digits);
        while (!frac.empty() && frac.back() == '0')
            frac.pop_back();
        return text + "." + frac;
    };
    if (ns < 1'000) return std::to_string(ns) + "ns";
    if (ns < 1'000'000) return trimmed(ns / 1'000, ns % 1'000, 3) + "\xC2\xB5s";
    if (ns < 1'000'000'000) return trimmed(ns / 1'000'000, ns % 1'000'000, 6) + "ms";
    const std::int64_t hours = ns / 3'600'000'000'000;
    const std::int64_t minutes = (ns / 60'000'000'000) % 60;
    const std::string seconds = trimmed((ns / 1'000'000'000) % 60, ns % 1'000'000'000, 9) + "s";
    if (hours > 0) return fmt::format("{}h{}m{}", hours, minutes, seconds);
    if (minutes > 0) return fmt::format("{}m{}", minutes, seconds);
    return seconds;
}

std::uint64_t as_u64(std::int64_t value) {
    return value > 0 ? static_cast<std::uint64_t>(value) : 0;
}

// The ack wait of a message redelivered `redeliveries` times so far: with backoff its step (the
// last entry repeating), as nats-server checkPending takes BackOff[rdc].
std::int64_t ack_wait_of(const ConsumerConfig& config, std::uint64_t redeliveries) {
    if (config.backoff_ns.empty()) return config.ack_wait_ns;
    return config.backoff_ns[std::min<std::size_t>(static_cast<std::size_t>(redeliveries),
                                                   config.backoff_ns.size() - 1)];
}

}  // namespace

Consumer::Consumer(io::Env& env,
                   core::Broker& broker,
                   Stream& stream,
                   std::string name,
                   ConsumerConfig config,
                   std::int64_t created_ns,
                   std::unique_ptr<store::ConsumerStore> state_store,
                   ConsumerEvents events,
                   base::Logger log)
    : env_(env),
      broker_(broker),
      stream_(stream),
      name_(std::move(name)),
      config_(std::move(config)),
      created_ns_(created_ns),
      state_store_(std::move(state_store)),
      events_(std::move(events)),
      log_(std::move(log)) {
    ASSERT(state_store_ != nullptr);
    ack_prefix_ = "$JS.ACK." + stream_.name() + "." + name_ + ".";
}

Consumer::~Consumer() {
    stop(false);
}

Status Consumer::start(bool recovered) {
    ASSERT(stopped_);
    const store::ConsumerState& saved = state_store_->state();
    if (recovered || saved.delivered.stream_seq > 0 || saved.ack_floor.stream_seq > 0
        || !saved.pending.empty()) {
        // Resume where the durable state says (nats-server readStoredState).
        next_seq_ = saved.delivered.stream_seq + 1;
        next_consumer_seq_ = saved.delivered.consumer_seq + 1;
        ack_floor_ = saved.ack_floor;
        redelivered_ = saved.redelivered;
        // A power loss can take messages the consumer was given before the stream made them
        // durable (its state fsync finished first); new messages then reuse their sequences.
        // Resume at the stream's end, not past it, or those new messages are never delivered.
        const store::Seq stream_last = stream_.store().state().last_seq;
        if (next_seq_ > stream_last + 1) {
            COVER("jetstream: a consumer resumes past the stream's end and steps back");
            next_seq_ = stream_last + 1;
            ack_floor_.stream_seq = std::min(ack_floor_.stream_seq, stream_last);
            std::erase_if(redelivered_, [stream_last](const auto& entry) { return entry.first > stream_last; });
        }
        // Each pending message is redelivered when its ack_wait runs out, counted from its
        // delivery before the restart.
        const std::int64_t now = env_.clock.realtime_ns();
        for (const auto& [seq, pending] : saved.pending) {
            if (seq > stream_last) continue;
            Pending& entry = pending_[seq];
            entry = Pending{pending.consumer_seq, pending.timestamp_ns, {}, 0, 0};
            // With backoff, the wait of the delivery it is in.
            const auto counted = redelivered_.find(seq);
            const std::int64_t wait =
                ack_wait_of(config_, counted == redelivered_.end() ? 0 : counted->second);
            start_ack_timer(
                seq, entry, std::max<std::int64_t>(0, pending.timestamp_ns + wait - now));
        }
    } else {
        select_start();
        // Matches nats-server SetStarting: the start position is stored at once, so a restart
        // before the first delivery resumes there instead of choosing again from a stream that
        // has grown meanwhile (deliver new would skip what was published in between).
        save_state();
    }
    std::weak_ptr<int> life = life_;
    const auto subscribed = broker_.subscribe_internal(
        stream_.account(),
        ack_prefix_ + ">",
        "",
        [this, life](const protocol::MessageArgs& message, std::string_view payload) {
            if (!life.expired()) on_ack(message, payload);
        });
    if (!subscribed) return herald::unexpected(subscribed.error());
    subscriptions_.push_back(*subscribed);
    if (config_.flow_control) {
        const auto fc = broker_.subscribe_internal(
            stream_.account(),
            "$JS.FC." + stream_.name() + "." + name_ + ".*",
            "",
            [this, life](const protocol::MessageArgs&, std::string_view) {
                if (!life.expired()) on_flow_control_reply();
            });
        if (!fc) return herald::unexpected(fc.error());
        subscriptions_.push_back(*fc);
    }
    stopped_ = false;
    arm_push_heartbeat();
    arm_inactivity();
    env_.loop.post([this, life] {
        if (!life.expired()) kick();
    });
    return {};
}

void Consumer::stop(bool deleted) {
    if (stopped_) return;
    stopped_ = true;
    if (save_posted_ && !deleted) save_state();  // What changed since the last save, before the store goes.
    for (const std::uint64_t id : subscriptions_)
        broker_.unsubscribe_internal(id);
    subscriptions_.clear();
    for (auto& [seq, pending] : pending_)
        pending.timer = 0;
    stop_ack_timer();
    env_.loop.cancel(heartbeat_timer_);
    env_.loop.cancel(inactivity_timer_);
    env_.loop.cancel(interest_timer_);
    env_.loop.cancel(replay_timer_);
    env_.loop.cancel(rate_timer_);
    rate_timer_ = 0;
    if (replay_timer_ != 0) loading_ = false;
    replay_timer_ = 0;
    std::deque<PullRequest> waiting = std::move(waiting_);
    waiting_.clear();
    for (const PullRequest& request : waiting) {
        env_.loop.cancel(request.expiry_timer);
        env_.loop.cancel(request.heartbeat_timer);
        if (deleted) send_status(request.reply, "", "NATS/1.0 409 Consumer Deleted\r\n\r\n");
    }
}

void Consumer::flush(std::function<void()> on_flushed) {
    ASSERT(stopped_);
    write_state([on_flushed = std::move(on_flushed)](Status) { on_flushed(); });
}

void Consumer::update(ConsumerConfig config) {
    const bool filter_changed = config.filter_subject != config_.filter_subject;
    config_ = std::move(config);
    if (filter_changed) COVER("jetstream: a consumer's filter subject was updated");
    arm_inactivity();
    kick();
}

void Consumer::select_start() {
    // nats-server selectStartingSeqNo.
    const store::StreamState state = stream_.store().state();
    store::Seq seq = 0;
    if (config_.opt_start_seq == 0) {
        switch (config_.deliver_policy) {
            case DeliverPolicy::all:
                seq = state.first_seq;
                break;
            case DeliverPolicy::last:
                seq = state.last_seq;
                if (!config_.filter_subject.empty()) {
                    seq = 0;
                    for (const store::SubjectState& subject :
                         stream_.store().subjects_state(config_.filter_subject)) {
                        seq = std::max(seq, subject.last_seq);
                    }
                }
                break;
            case DeliverPolicy::last_per_subject: {
                std::vector<store::Seq> lasts;
                for (const store::SubjectState& subject :
                     stream_.store().subjects_state(config_.filter_subject)) {
                    lasts.push_back(subject.last_seq);
                }
                std::sort(lasts.begin(), lasts.end());
                if (!lasts.empty()) {
                    last_per_subject_.assign(lasts.begin(), lasts.end());
                    last_per_subject_resume_ = state.last_seq;
                    seq = lasts.front();
                } else {
                    seq = state.last_seq;
                }
                break;
            }
            case DeliverPolicy::by_start_time: {
                // GetSeqFromTime: the first message stored at or after the time; binary search
                // would need timestamps by seq, so this asks the store's state: all if before the
                // first.
                const std::int64_t start = config_.opt_start_time_ns.value_or(0);
                seq = start <= state.first_ts ? state.first_seq
                                              : (start > state.last_ts ? state.last_seq + 1 : 0);
                if (seq == 0)
                    seq = state.first_seq;  // Refined by skipping older messages when loaded.
                break;
            }
            case DeliverPolicy::new_messages:
            case DeliverPolicy::by_start_sequence:
                seq = state.last_seq + 1;
                break;
        }
    } else {
        seq = config_.opt_start_seq;
    }
    if (state.first_seq == 0) {
        seq = 1;
    } else if (seq < state.first_seq) {
        seq = state.first_seq;
    } else if (seq > state.last_seq) {
        seq = state.last_seq + 1;
    }
    next_seq_ = seq;
    next_consumer_seq_ = 1;
    // nats-server sets asflr = sseq - 1 here but then applies the store's state, whose ack floor
    // is still zero: a new consumer reports ack_floor {0, 0} until its first ack.
    ack_floor_ = store::SequencePair{0, 0};
}

bool Consumer::wants(std::string_view subject) const {
    return config_.filter_subject.empty()
           || protocol::subject_matches(config_.filter_subject, subject);
}

bool Consumer::acknowledged(store::Seq seq) const {
    if (seq <= ack_floor_.stream_seq) return true;
    if (seq >= next_seq_) return false;
    if (!last_per_subject_.empty()) return false;
    return !pending_.contains(seq);
}

std::uint64_t Consumer::num_pending() const {
    // nats-server streamNumPending: the messages matching the filter from the consumer's
    // position on; for last_per_subject, the last-per-subject messages not yet delivered plus
    // what came after them.
    const store::StreamState state = stream_.store().state();
    if (state.messages == 0 || next_seq_ > state.last_seq) return 0;
    const store::Seq from = last_per_subject_.empty() ? next_seq_ : last_per_subject_resume_ + 1;
    return last_per_subject_.size() + count_from(from);
}

// Exact count of matching messages at or after `from`, without walking the stream per
// delivery: the cached count follows the position and the new messages by counting only the
// difference (one or a few messages per delivery); it is recounted only when a removal may have
// touched what it counted (nats-server decStreamPending), i.e. not for retention or limits that
// drop messages below the position.
std::uint64_t Consumer::count_from(store::Seq from) const {
    const store::StreamStore& store = stream_.store();
    const store::Seq last = store.state().last_seq;
    const std::string_view filter = config_.filter_subject;
    PendingCount& cached = pending_count_;
    if (cached.store == &store && last >= cached.last &&
        store.removed_below(cached.removals, std::min(from, cached.from))) {
        if (last > cached.last) cached.count += store.count_matching(filter, cached.last + 1, last);
        if (from > cached.from) {
            const std::uint64_t passed = store.count_matching(filter, cached.from, from - 1);
            ASSERT(passed <= cached.count);
            cached.count -= passed;
        } else if (from < cached.from) {
            cached.count += store.count_matching(filter, from, cached.from - 1);
        }
    } else {
        cached.count = store.count_matching(filter, from, last);
    }
    cached.store = &store;
    cached.from = from;
    cached.last = last;
    cached.removals = store.removals();
    return cached.count;
}

Json Consumer::info_json() const {
    Json info = Json::object();
    info["stream_name"] = stream_.name();
    info["name"] = name_;
    info["created"] = rfc3339_nano(created_ns_);
    info["config"] = consumer_config_json(config_);
    info["delivered"] =
        Json{{"consumer_seq", next_consumer_seq_ - 1}, {"stream_seq", next_seq_ - 1}};
    if (last_delivery_ns_ != 0) info["delivered"]["last_active"] = rfc3339_nano(last_delivery_ns_);
    info["ack_floor"] =
        Json{{"consumer_seq", ack_floor_.consumer_seq}, {"stream_seq", ack_floor_.stream_seq}};
    if (last_ack_ns_ != 0) info["ack_floor"]["last_active"] = rfc3339_nano(last_ack_ns_);
    info["num_ack_pending"] = pending_.size();
    info["num_redelivered"] = redelivered_.size();
    info["num_waiting"] = waiting_.size();
    info["num_pending"] = num_pending();
    if (config_.push() && reply_has_interest(config_.deliver_subject)) info["push_bound"] = true;
    return info;
}

bool Consumer::reply_has_interest(std::string_view subject) const {
    core::Account* account = broker_.find_account(stream_.account());
    if (account == nullptr) return false;
    return !account->sublist().match(subject)->empty();
}

void Consumer::send_status(std::string_view subject,
                           std::string_view reply,
                           std::string_view headers) {
    const Status status = broker_.publish_internal(stream_.account(), subject, reply, headers, "");
    MAYBE(status.has_value());
}

// ---- Delivery ----

bool Consumer::has_target() {
    if (stopped_) return false;
    if (!config_.push()) return !waiting_.empty();
    if (!flow_control_reply_.empty()) return false;
    if (reply_has_interest(config_.deliver_subject)) return true;
    // Matches nats-server: a push consumer whose deliver subject has no interest is inactive and
    // sends nothing. The broker has no interest callbacks, so it looks again a little later.
    if (interest_timer_ == 0) {
        std::weak_ptr<int> life = life_;
        interest_timer_ = env_.loop.schedule(interest_poll, [this, life] {
            if (life.expired()) return;
            interest_timer_ = 0;
            kick();
        });
    }
    return false;
}

void Consumer::kick() {
    if (kicking_) {
        kick_again_ = true;
        return;
    }
    const std::weak_ptr<int> life = life_;
    kicking_ = true;
    std::size_t rounds = 0;
    do {
        kick_again_ = false;
        kick_once();
        if (life.expired()) return;
    } while (kick_again_ && ++rounds < kick_rounds_max);
    kicking_ = false;
    if (kick_again_) {
        COVER("jetstream: a kick yields the loop after kick_rounds_max deliveries");
        kick_again_ = false;
        env_.loop.post([this, life] {
            if (life.expired()) return;
            kick();
        });
    }
}

void Consumer::kick_once() {
    if (stopped_ || loading_ || !has_target()) return;
    if (config_.push() && config_.rate_limit_bps > 0) {
        // rate_limit_bps: the next message waits until the bits sent so far are paid for.
        const std::uint64_t now = env_.clock.monotonic().ns;
        if (now < rate_next_ns_) {
            if (rate_timer_ == 0) {
                std::weak_ptr<int> alive = life_;
                rate_timer_ =
                    env_.loop.schedule(Duration::nanoseconds(rate_next_ns_ - now), [this, alive] {
                        if (alive.expired()) return;
                        rate_timer_ = 0;
                        kick();
                    });
            }
            return;
        }
    }
    std::weak_ptr<int> life = life_;
    // Redeliveries first (nats-server getNextMsg).
    while (!redeliver_.empty()) {
        const store::Seq seq = redeliver_.front();
        redeliver_.pop_front();
        const auto it = pending_.find(seq);
        if (it == pending_.end()) continue;
        const std::uint64_t deliveries = redelivered_[seq] + 1;  // So far.
        if (config_.max_deliver > 0 && deliveries >= as_u64(config_.max_deliver)) {
            // Matches nats-server: past max_deliver the message leaves pending (advisory
            // MAX_DELIVERIES) and is not sent again.
            COVER("jetstream: a message reached max_deliver");
            pending_.erase(it);
            save_state();  // Else a restart brings it back as pending.
            continue;
        }
        loading_ = true;
        stream_.store().load(seq, [this, life, seq](Result<store::StoredMessage> loaded) {
            if (life.expired()) return;
            loading_ = false;
            if (!loaded) {
                // Gone from the stream (removed or purged): nothing to redeliver.
                if (const auto gone = pending_.find(seq); gone != pending_.end()) pending_.erase(gone);
                return kick();
            }
            if (!has_target() || !pending_.contains(seq)) {
                if (pending_.contains(seq)) redeliver_.push_front(seq);
                return;
            }
            if (!deliver(std::move(*loaded), true)) redeliver_.push_front(seq);
            kick();
        });
        return;
    }
    const bool acks = config_.ack_policy != AckPolicy::none;
    if (acks && config_.max_ack_pending > 0 && pending_.size() >= as_u64(config_.max_ack_pending))
        return;
    if (!last_per_subject_.empty()) {
        const store::Seq seq = last_per_subject_.front();
        loading_ = true;
        stream_.store().load(seq, [this, life, seq](Result<store::StoredMessage> loaded) {
            if (life.expired()) return;
            loading_ = false;
            if (last_per_subject_.empty() || last_per_subject_.front() != seq) return kick();
            if (loaded && !has_target()) return;
            const store::Seq before = next_seq_;
            last_per_subject_.pop_front();
            if (last_per_subject_.empty()) next_seq_ = last_per_subject_resume_ + 1;
            if (loaded) {
                next_seq_ = std::max(next_seq_, seq + 1);
                if (last_per_subject_.empty()) next_seq_ = last_per_subject_resume_ + 1;
                if (!deliver(std::move(*loaded), false)) {
                    last_per_subject_.push_front(seq);
                    next_seq_ = before;
                }
            }
            kick();
        });
        return;
    }
    // Only what the stream acknowledged (durable): a message a power loss may still take must
    // not be processed (its publisher retries it) nor its seq skipped when a new one reuses it.
    const store::Seq deliverable = std::min(stream_.store().state().last_seq, stream_.acked_seq());
    if (next_seq_ > deliverable) {
        end_no_wait_requests();
        return;
    }
    loading_ = true;
    const store::Seq from = next_seq_;
    const store::Seq last_at_call = deliverable;
    auto on_loaded = [this, life, from, last_at_call](Result<store::StoredMessage> loaded) {
            if (life.expired()) return;
            loading_ = false;
            if (!loaded) {
                // Nothing matching from `from` to what the stream held then: skip ahead to there
                // (not further: a message stored since is still to come).
                if (next_seq_ == from) next_seq_ = std::max(next_seq_, last_at_call + 1);
                end_no_wait_requests();
                return kick();
            }
            if (next_seq_ != from || !has_target()) return kick();
            if (loaded->seq > stream_.acked_seq()) {
                COVER("jetstream: a consumer waits for the stream to make a message durable");
                return;  // The stream's ack kicks again.
            }
            if (config_.deliver_policy == DeliverPolicy::by_start_time && next_consumer_seq_ == 1
                && loaded->timestamp_ns < config_.opt_start_time_ns.value_or(0)) {
                next_seq_ = loaded->seq + 1;  // Older than the start time.
                return kick();
            }
            const std::int64_t timestamp = loaded->timestamp_ns;
            if (config_.replay_policy == ReplayPolicy::original && last_replay_ns_ > 0
                && timestamp - last_replay_ns_ > replay_delay_min_ns) {
                // Replay original: as far apart as the messages were stored (nats-server
                // loopAndGatherMsgs waits ts - lts).
                COVER("jetstream: replay original waits between messages");
                loading_ = true;
                auto held = std::make_shared<store::StoredMessage>(std::move(*loaded));
                replay_timer_ = env_.loop.schedule(
                    after(timestamp - last_replay_ns_), [this, life, from, held] {
                        if (life.expired()) return;
                        replay_timer_ = 0;
                        loading_ = false;
                        if (next_seq_ != from || !has_target()) return kick();
                        const std::int64_t stored_ns = held->timestamp_ns;
                        next_seq_ = held->seq + 1;
                        if (deliver(std::move(*held), false)) {
                            last_replay_ns_ = stored_ns;
                        } else {
                            next_seq_ = from;
                        }
                        kick();
                    });
                return;
            }
            next_seq_ = loaded->seq + 1;
            if (deliver(std::move(*loaded), false)) {
                last_replay_ns_ = timestamp;
            } else {
                next_seq_ = from;
            }
            kick();
        };
    // In memory: delivered now (its kick() asks the running kick() for another round).
    if (auto now = stream_.store().load_next_now(config_.filter_subject, from)) {
        return on_loaded(std::move(*now));
    }
    stream_.store().load_next(config_.filter_subject, from, std::move(on_loaded));
}

bool Consumer::deliver(store::StoredMessage message, bool redelivery) {
    // Matches nats-server getNextMsg/nextWaiting: the ack reply is made with the next consumer
    // sequence, the pull request is chosen by the message's size, and only then is it counted as
    // delivered (a message no request takes stays where it was).
    const store::Seq seq = message.seq;
    const store::Seq consumer_seq = next_consumer_seq_;
    const auto counted = redelivered_.find(seq);
    const std::uint64_t deliveries =
        redelivery ? (counted == redelivered_.end() ? 0 : counted->second) + 2 : 1;
    const std::uint64_t pending_count = num_pending();
    // "<ack_prefix>deliveries.seq.consumer_seq.timestamp.pending", by hand: fmt::format was 6%
    // of a pull consumer's server CPU.
    std::string ack_reply;
    ack_reply.reserve(ack_prefix_.size() + 5 * 21);
    ack_reply.append(ack_prefix_);
    const auto append_number = [&ack_reply](auto value, bool dot) {
        char digits[24];
        const auto written = std::to_chars(std::begin(digits), std::end(digits), value);
        ack_reply.append(digits, written.ptr);
        if (dot) ack_reply.push_back('.');
    };
    append_number(deliveries, true);
    append_number(seq, true);
    append_number(consumer_seq, true);
    append_number(message.timestamp_ns, true);
    append_number(pending_count, false);
    std::string headers = std::move(message.headers);
    std::string payload = std::move(message.payload);
    if (config_.headers_only) {
        append_header(headers, "Nats-Msg-Size", std::to_string(payload.size()));
        payload.clear();
    }
    std::string target = config_.deliver_subject;
    if (!config_.push()) {
        const std::uint64_t size =
            message.subject.size() + ack_reply.size() + headers.size() + payload.size();
        std::optional<std::string> reply = take_request(size);
        if (!reply) {
            COVER("jetstream: a pulled message found no request");
            return false;
        }
        target = std::move(*reply);
    }
    next_consumer_seq_ += 1;
    if (redelivery) {
        redelivered_[seq] = deliveries - 1;
        COVER("jetstream: a message is redelivered");
    }
    const std::int64_t now = env_.clock.realtime_ns();
    last_delivery_ns_ = now;
    if (config_.ack_policy != AckPolicy::none) {
        Pending& entry = pending_[seq];
        entry.consumer_seq = consumer_seq;
        entry.delivered_ns = now;
        entry.subject = message.subject;
        std::int64_t wait = config_.ack_wait_ns;
        if (!config_.backoff_ns.empty()) {
            const std::size_t index = std::min<std::size_t>(
                static_cast<std::size_t>(deliveries - 1), config_.backoff_ns.size() - 1);
            wait = config_.backoff_ns[index];
        }
        start_ack_timer(seq, entry, wait);
    } else {
        ack_floor_ = store::SequencePair{consumer_seq, seq};
        if (events_.acked) events_.acked(seq, message.subject);
    }
    // Matches nats-server: delivered to the inbox or deliver subject, under the stored subject.
    const Status status = broker_.publish_internal_to(stream_.account(), target, message.subject,
                                                      ack_reply, headers, payload);
    MAYBE(status.has_value());
    if (config_.push() && config_.idle_heartbeat_ns > 0) arm_push_heartbeat();
    if (config_.push() && config_.rate_limit_bps > 0) {
        const std::uint64_t sent_bits =
            (message.subject.size() + headers.size() + payload.size()) * 8;
        const std::uint64_t sent_at = env_.clock.monotonic().ns;
        rate_next_ns_ =
            std::max(sent_at, rate_next_ns_) + sent_bits * 1'000'000'000 / config_.rate_limit_bps;
    }
    if (config_.push() && config_.flow_control) {
        bytes_since_flow_control_ += message.subject.size() + headers.size() + payload.size();
        if (bytes_since_flow_control_ >= flow_control_bytes) {
            COVER("jetstream: a push consumer asks for flow control");
            flow_control_reply_ =
                fmt::format("$JS.FC.{}.{}.{}", stream_.name(), name_, ++flow_control_ids_);
            send_status(config_.deliver_subject,
                        flow_control_reply_,
                        "NATS/1.0 100 FlowControl Request\r\n\r\n");
        }
    }
    save_state_soon();
    return true;
}

std::optional<std::string> Consumer::take_request(std::uint64_t size) {
    const auto bytes = static_cast<std::int64_t>(size);
    while (!waiting_.empty()) {
        PullRequest& request = waiting_.front();
        if (!reply_has_interest(request.reply)) {
            // Matches nats-server nextWaiting: a request whose requester no longer listens is
            // dropped (no status: its interest is its reply), and the message goes to the next
            // one. Else it was counted as delivered to nobody and held for ack_wait, one
            // max_deliver attempt used up.
            COVER("jetstream: a pull request without interest is dropped");
            finish_request(request.id, "");
            continue;
        }
        if (request.max_bytes > 0) {
            if (bytes > request.max_bytes) {
                COVER("jetstream: a pull request's max_bytes is smaller than the message");
                finish_request(
                    request.id,
                    fmt::format("NATS/1.0 409 Message Size Exceeds MaxBytes\r\n"
                                "Nats-Pending-Messages: {}\r\nNats-Pending-Bytes: {}\r\n\r\n",
                                request.batch,
                                request.max_bytes));
                continue;
            }
            request.max_bytes -= bytes;
            if (request.max_bytes == 0) request.batch = 1;
        }
        std::string reply = request.reply;
        request.batch -= 1;
        request.delivered += 1;
        if (request.batch <= 0) finish_request(request.id, "");
        return reply;
    }
    return std::nullopt;
}

Consumer::PullRequest* Consumer::find_request(std::uint64_t id) {
    for (PullRequest& request : waiting_) {
        if (request.id == id) return &request;
    }
    return nullptr;
}

void Consumer::finish_request(std::uint64_t id, std::string_view status) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if (it->id != id) continue;
        env_.loop.cancel(it->expiry_timer);
        env_.loop.cancel(it->heartbeat_timer);
        const std::string reply = std::move(it->reply);
        waiting_.erase(it);
        if (!status.empty()) send_status(reply, "", status);
        arm_inactivity();
        return;
    }
}

void Consumer::end_no_wait_requests() {
    // nats-server processWaiting(eos): a no_wait request that got something ends at the end of
    // the stream with 408 and what it still wanted.
    std::vector<std::uint64_t> ended;
    for (const PullRequest& request : waiting_) {
        if (request.no_wait && request.delivered > 0) ended.push_back(request.id);
    }
    for (const std::uint64_t id : ended) {
        const PullRequest* request = find_request(id);
        if (request == nullptr) continue;
        finish_request(id,
                       fmt::format("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: {}\r\n"
                                   "Nats-Pending-Bytes: {}\r\n\r\n",
                                   request->batch,
                                   request->max_bytes));
    }
}

void Consumer::on_stored(store::Seq seq) {
    MAYBE(seq);
    kick();
}

// ---- Pull requests ----

void Consumer::on_pull_request(std::string_view reply_view, std::string_view body) {
    if (stopped_ || reply_view.empty()) return;
    const std::string reply(reply_view);
    if (config_.push())
        return send_status(reply, "", "NATS/1.0 409 Consumer is push based\r\n\r\n");
    PullRequest request;
    request.reply = reply;
    const std::string_view text = trim(body);
    if (!text.empty() && text.front() == '{') {
        const Json json = Json::parse(text, nullptr, false);
        const auto integer = [&](const char* key, std::int64_t& out) {
            const auto it = json.find(key);
            if (it == json.end() || it->is_null()) return true;
            if (!it->is_number_integer()) return false;
            out = it->get<std::int64_t>();
            return true;
        };
        bool ok = !json.is_discarded() && json.is_object();
        std::int64_t batch = 0;
        if (ok)
            ok = integer("batch", batch) && integer("expires", request.expires_ns)
                 && integer("max_bytes", request.max_bytes)
                 && integer("idle_heartbeat", request.heartbeat_ns);
        if (ok) {
            const auto it = json.find("no_wait");
            if (it != json.end() && !it->is_null()) {
                if (!it->is_boolean())
                    ok = false;
                else
                    request.no_wait = it->get<bool>();
            }
        }
        if (!ok) {
            COVER("jetstream: a malformed pull request");
            return send_status(reply, "", "NATS/1.0 400 Bad Request - invalid JSON\r\n\r\n");
        }
        request.batch = batch;
        if (request.heartbeat_ns > 0 && request.heartbeat_ns * 2 > request.expires_ns) {
            return send_status(
                reply, "", "NATS/1.0 400 Bad Request - heartbeat value too large\r\n\r\n");
        }
    } else if (!text.empty()) {
        std::int64_t n = 0;
        bool numeric = true;
        for (const char c : text) {
            if (c < '0' || c > '9' || n > std::numeric_limits<std::int32_t>::max())
                numeric = false;
            else
                n = n * 10 + (c - '0');
        }
        if (numeric) request.batch = n;
    }
    if (config_.max_batch > 0 && request.batch > config_.max_batch) {
        return send_status(
            reply,
            "",
            fmt::format("NATS/1.0 409 Exceeded MaxRequestBatch of {}\r\n\r\n", config_.max_batch));
    }
    if (request.expires_ns > 0 && config_.max_expires_ns > 0
        && request.expires_ns > config_.max_expires_ns) {
        return send_status(reply,
                           "",
                           fmt::format("NATS/1.0 409 Exceeded MaxRequestExpires of {}\r\n\r\n",
                                       go_duration(config_.max_expires_ns)));
    }
    if (request.max_bytes > 0 && config_.max_bytes > 0 && request.max_bytes > config_.max_bytes) {
        return send_status(reply,
                           "",
                           fmt::format("NATS/1.0 409 Exceeded MaxRequestMaxBytes of {}\r\n\r\n",
                                       config_.max_bytes));
    }
    if (request.batch <= 0) request.batch = 1;
    // Requests whose reply lost interest are dropped (nats-server nextWaiting).
    std::erase_if(waiting_, [&](const PullRequest& old) {
        if (reply_has_interest(old.reply)) return false;
        env_.loop.cancel(old.expiry_timer);
        env_.loop.cancel(old.heartbeat_timer);
        return true;
    });
    if (request.no_wait) {
        std::uint64_t pending = num_pending() + redeliver_.size();
        if (pending == 0 && request.expires_ns == 0) {
            COVER("jetstream: a no_wait pull finds no messages");
            return send_status(reply, "", "NATS/1.0 404 No Messages\r\n\r\n");
        }
        if (pending > 0) {
            std::uint64_t claimed = 0;
            for (const PullRequest& old : waiting_)
                claimed += as_u64(old.batch);
            if (pending < claimed)
                return send_status(reply, "", "NATS/1.0 408 Requests Pending\r\n\r\n");
        }
    }
    const std::int64_t max_waiting = std::min(
        config_.max_waiting > 0 ? config_.max_waiting : max_waiting_default, max_waiting_max);
    if (static_cast<std::int64_t>(waiting_.size()) >= max_waiting) {
        return send_status(reply, "", "NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n");
    }
    request.id = ++request_ids_;
    std::weak_ptr<int> life = life_;
    const std::uint64_t id = request.id;
    if (request.expires_ns > 0) {
        request.expiry_timer = env_.loop.schedule(after(request.expires_ns), [this, life, id] {
            if (!life.expired()) on_request_expired(id);
        });
    }
    if (request.heartbeat_ns > 0) {
        request.heartbeat_timer = env_.loop.schedule(after(request.heartbeat_ns), [this, life, id] {
            if (!life.expired()) on_request_heartbeat(id);
        });
    }
    waiting_.push_back(std::move(request));
    env_.loop.cancel(inactivity_timer_);
    inactivity_timer_ = 0;
    kick();
    // A no_wait request with pending messages but nothing deliverable right now (max_ack_pending):
    // nats-server keeps it until expiry.
}

void Consumer::on_request_expired(std::uint64_t id) {
    PullRequest* request = find_request(id);
    if (request == nullptr) return;
    request->expiry_timer = 0;
    COVER("jetstream: a pull request expired");
    finish_request(id,
                   fmt::format("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: {}\r\n"
                               "Nats-Pending-Bytes: {}\r\n\r\n",
                               request->batch,
                               request->max_bytes));
}

void Consumer::on_request_heartbeat(std::uint64_t id) {
    PullRequest* request = find_request(id);
    if (request == nullptr) return;
    send_status(
        request->reply,
        "",
        fmt::format(
            "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: {}\r\nNats-Last-Stream: {}\r\n\r\n",
            next_consumer_seq_ - 1,
            next_seq_ - 1));
    request = find_request(id);
    if (request == nullptr) return;
    std::weak_ptr<int> life = life_;
    request->heartbeat_timer = env_.loop.schedule(after(request->heartbeat_ns), [this, life, id] {
        if (!life.expired()) on_request_heartbeat(id);
    });
}

// ---- Push heartbeats, flow control, inactivity ----

void Consumer::arm_push_heartbeat() {
    // Restarted by every delivery (nats-server resets its heartbeat timer when it sends), so it
    // fires only after idle_heartbeat without data.
    env_.loop.cancel(heartbeat_timer_);
    heartbeat_timer_ = 0;
    if (!config_.push() || config_.idle_heartbeat_ns <= 0 || stopped_) return;
    std::weak_ptr<int> life = life_;
    heartbeat_timer_ = env_.loop.schedule(after(config_.idle_heartbeat_ns), [this, life] {
        if (life.expired() || stopped_) return;
        heartbeat_timer_ = 0;
        std::string headers = fmt::format(
            "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: {}\r\nNats-Last-Stream: {}\r\n",
            next_consumer_seq_ - 1,
            next_seq_ - 1);
        if (!flow_control_reply_.empty())
            headers += "Nats-Consumer-Stalled: " + flow_control_reply_ + "\r\n";
        headers += "\r\n";
        send_status(config_.deliver_subject, "", headers);
        arm_push_heartbeat();
    });
}

void Consumer::on_flow_control_reply() {
    flow_control_reply_.clear();
    bytes_since_flow_control_ = 0;
    kick();
}

void Consumer::arm_inactivity() {
    env_.loop.cancel(inactivity_timer_);
    inactivity_timer_ = 0;
    if (config_.durable() || config_.inactive_threshold_ns <= 0 || stopped_) return;
    std::weak_ptr<int> life = life_;
    inactivity_timer_ = env_.loop.schedule(after(config_.inactive_threshold_ns), [this, life] {
        if (life.expired() || stopped_) return;
        inactivity_timer_ = 0;
        const bool active =
            config_.push() ? reply_has_interest(config_.deliver_subject) : !waiting_.empty();
        if (active) return arm_inactivity();
        COVER("jetstream: an inactive ephemeral consumer is deleted");
        if (events_.inactive) events_.inactive();  // Destroys this consumer.
    });
}

// ---- Acks ----

void Consumer::on_ack(const protocol::MessageArgs& message, std::string_view payload) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    std::string_view rest =
        message.subject.substr(std::min(message.subject.size(), ack_prefix_.size()));
    std::uint64_t tokens[5] = {};
    std::size_t count = 0;
    while (!rest.empty() && count < 5) {
        const std::size_t dot = rest.find('.');
        const auto value = parse_uint(rest.substr(0, dot));
        if (!value) return;
        tokens[count++] = *value;
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    if (count != 5 || !rest.empty()) return;
    const store::Seq seq = tokens[1];
    const store::Seq consumer_seq = tokens[2];
    const std::string_view body = trim(payload.substr(message.headers ? message.header_size : 0));
    const std::string reply(message.reply);
    bool reply_ack = !reply.empty();
    if (body.empty() || body == "+ACK" || body == "+OK") {
        ack(seq, consumer_seq);
    } else if (body.starts_with("+NXT")) {
        ack(seq, consumer_seq);
        reply_ack = false;
        std::string_view next = trim(body.substr(4));
        on_pull_request(reply, next);
    } else if (body.starts_with("-NAK")) {
        nak(seq, consumer_seq, trim(body.substr(4)));
    } else if (body == "+WPI") {
        progress(seq);
    } else if (body == "+TERM") {
        term(seq, consumer_seq);
    } else {
        return;
    }
    if (reply_ack) {
        // Double ack: answered once the ack is recorded (the consumer store's save completes).
        // A failed save gets no answer: the ack may not survive a restart (the client times out).
        if (save_posted_) save_state();
        std::weak_ptr<int> life = life_;
        write_state([this, life, reply](Status saved) {
            if (life.expired() || !saved) return;
            send_status(reply, "", "");
        });
    }
}

void Consumer::ack(store::Seq seq, store::Seq consumer_seq) {
    MAYBE(consumer_seq);
    if (config_.ack_policy == AckPolicy::none) return;
    if (config_.ack_policy == AckPolicy::all) {
        std::vector<store::Seq> done;
        for (const auto& [pending_seq, pending] : pending_) {
            if (pending_seq > seq) break;
            done.push_back(pending_seq);
        }
        for (const store::Seq s : done) {
            const auto it = pending_.find(s);
            const std::string subject = std::move(it->second.subject);
            pending_.erase(it);
            redelivered_.erase(s);
            acked_one(s, subject);
        }
    } else if (const auto it = pending_.find(seq); it != pending_.end()) {
        const std::string subject = std::move(it->second.subject);
        pending_.erase(it);
        redelivered_.erase(seq);
        acked_one(seq, subject);
    } else if (!redelivered_.contains(seq)) {
        return;
    }
    // Matches nats-server processAckMsg: an ack of a message dropped at max_deliver (no longer
    // pending, its delivery count kept) still counts: retention removes it, the count goes.
    std::vector<store::Seq> dropped;
    for (const auto& [dropped_seq, count] : redelivered_) {
        if (dropped_seq > seq) break;
        MAYBE(count);
        if (pending_.contains(dropped_seq)) continue;
        if (config_.ack_policy != AckPolicy::all && dropped_seq != seq) continue;
        dropped.push_back(dropped_seq);
    }
    for (const store::Seq s : dropped) {
        COVER("jetstream: a message dropped at max_deliver is acked late");
        redelivered_.erase(s);
        acked_one(s, "");  // The subject comes from the store.
    }
    drop_dead_ack_deadlines();
    update_ack_floor();
    save_state_soon();
    kick();
}

void Consumer::acked_one(store::Seq seq, const std::string& subject) {
    last_ack_ns_ = env_.clock.realtime_ns();
    if (events_.acked) events_.acked(seq, subject);
}

void Consumer::update_ack_floor() {
    if (pending_.empty()) {
        ack_floor_ = store::SequencePair{next_consumer_seq_ - 1, next_seq_ - 1};
        if (!last_per_subject_.empty()) ack_floor_.stream_seq = last_per_subject_.front() - 1;
        return;
    }
    const auto& [seq, first] = *pending_.begin();
    ack_floor_ = store::SequencePair{first.consumer_seq - 1, seq - 1};
}

void Consumer::nak(store::Seq seq, store::Seq consumer_seq, std::string_view argument) {
    const auto it = pending_.find(seq);
    if (it == pending_.end() || it->second.consumer_seq != consumer_seq) return;
    if (!argument.empty()) {
        std::optional<std::int64_t> delay;
        if (argument.front() == '{') {
            const Json json = Json::parse(argument, nullptr, false);
            if (!json.is_discarded() && json.is_object() && json.contains("delay")
                && json["delay"].is_number_integer()) {
                delay = json["delay"].get<std::int64_t>();
            }
        } else {
            delay = parse_go_duration(argument);
        }
        if (delay) {
            COVER("jetstream: a nak with a delay");
            delay = std::clamp<std::int64_t>(*delay, 0, nak_delay_max_ns);
            std::erase(redeliver_, seq);
            // Matches nats-server processNak: the stored delivery time is moved so that ack_wait
            // from it ends after the delay, and saved, so the delay survives a restart.
            it->second.delivered_ns = env_.clock.realtime_ns() - config_.ack_wait_ns + *delay;
            start_ack_timer(seq, it->second, *delay);
            save_state();
            return;
        }
    }
    it->second.timer = 0;
    if (std::find(redeliver_.begin(), redeliver_.end(), seq) == redeliver_.end()
        && redeliver_.size() < redeliver_queue_max) {
        redeliver_.push_back(seq);
    }
    kick();
}

void Consumer::progress(store::Seq seq) {
    const auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    it->second.delivered_ns = env_.clock.realtime_ns();
    // The wait starts again from now, with backoff the step of this delivery (nats-server
    // progressUpdate moves the delivery time; checkPending applies BackOff[rdc]).
    const auto counted = redelivered_.find(seq);
    start_ack_timer(
        seq, it->second, ack_wait_of(config_, counted == redelivered_.end() ? 0 : counted->second));
    save_state();  // Matches nats-server progressUpdate: the new time survives a restart.
}

void Consumer::term(store::Seq seq, store::Seq consumer_seq) {
    COVER("jetstream: a message is terminated");
    ack(seq, consumer_seq);
}

void Consumer::start_ack_timer(store::Seq seq, Pending& pending, std::int64_t after_ns) {
    pending.timer = ++ack_deadline_ids_;
    pending.deadline_ns = env_.clock.monotonic().ns + after(after_ns).ns;
    ack_deadlines_.push_back(AckDeadline{pending.deadline_ns, pending.timer, seq});
    std::push_heap(ack_deadlines_.begin(), ack_deadlines_.end(), std::greater<>());
    // Dead entries are dropped from the top as acks arrive; a compaction bounds the rest
    // (acks out of order, restarted waits): O(pending) every pending-many starts.
    if (ack_deadlines_.size() > 2 * pending_.size() + 64) {
        ack_deadlines_.clear();
        for (const auto& [pending_seq, entry] : pending_) {
            if (entry.timer != 0) ack_deadlines_.push_back(AckDeadline{entry.deadline_ns, entry.timer, pending_seq});
        }
        std::make_heap(ack_deadlines_.begin(), ack_deadlines_.end(), std::greater<>());
    }
    arm_ack_timer();
}

bool Consumer::ack_deadline_live(const AckDeadline& deadline) const {
    const auto it = pending_.find(deadline.seq);
    return it != pending_.end() && it->second.timer == deadline.id;
}

void Consumer::arm_ack_timer() {
    if (ack_deadlines_.empty()) return;
    const std::uint64_t first = ack_deadlines_.front().at_ns;
    if (ack_timer_ != 0 && ack_timer_at_ns_ <= first) return;
    env_.loop.cancel(ack_timer_);
    const std::uint64_t now = env_.clock.monotonic().ns;
    ack_timer_at_ns_ = first;
    ack_timer_ = env_.loop.schedule(Duration::nanoseconds(first > now ? first - now : 0),
                                    [this, life = std::weak_ptr<int>(life_)] {
                                        if (!life.expired()) on_ack_timer();
                                    });
}

void Consumer::drop_dead_ack_deadlines() {
    while (!ack_deadlines_.empty() && !ack_deadline_live(ack_deadlines_.front())) {
        std::pop_heap(ack_deadlines_.begin(), ack_deadlines_.end(), std::greater<>());
        ack_deadlines_.pop_back();
    }
    if (ack_deadlines_.empty()) stop_ack_timer();
}

void Consumer::stop_ack_timer() {
    env_.loop.cancel(ack_timer_);
    ack_timer_ = 0;
    ack_deadlines_.clear();
}

// Every wait that has run out goes to the redelivery queue, in deadline order (ties in the order
// the waits started, as separate timers would have fired).
void Consumer::on_ack_timer() {
    ack_timer_ = 0;
    if (stopped_) return;
    const std::uint64_t now = env_.clock.monotonic().ns;
    bool expired = false;
    while (!ack_deadlines_.empty() && ack_deadlines_.front().at_ns <= now) {
        const AckDeadline deadline = ack_deadlines_.front();
        std::pop_heap(ack_deadlines_.begin(), ack_deadlines_.end(), std::greater<>());
        ack_deadlines_.pop_back();
        const auto it = pending_.find(deadline.seq);
        if (it == pending_.end() || it->second.timer != deadline.id) continue;
        it->second.timer = 0;
        if (std::find(redeliver_.begin(), redeliver_.end(), deadline.seq) == redeliver_.end()
            && redeliver_.size() < redeliver_queue_max) {
            redeliver_.push_back(deadline.seq);
        }
        expired = true;
    }
    arm_ack_timer();
    if (expired) kick();
}

void Consumer::save_state_soon() {
    if (save_posted_) return;
    save_posted_ = true;
    env_.loop.post([this, life = std::weak_ptr<int>(life_)] {
        if (life.expired() || !save_posted_) return;
        save_state();
    });
}

void Consumer::save_state() {
    save_posted_ = false;
    if (broker_.options().canaries.skip_consumer_state) return;  // canary: test-only
    write_state([](Status) {});
}

void Consumer::write_state(std::function<void(Status)> on_saved) {
    if (broker_.options().canaries.skip_consumer_state) {  // canary: test-only
        return state_store_->save(state_store_->state(), std::move(on_saved));
    }
    // The store owns the snapshot function and dies with this consumer (state_store_).
    state_store_->save_from([this] { return make_state(); }, std::move(on_saved));
}

store::ConsumerState Consumer::make_state() const {
    store::ConsumerState state;
    state.delivered = store::SequencePair{next_consumer_seq_ - 1, next_seq_ - 1};
    state.ack_floor = ack_floor_;
    for (const auto& [seq, pending] : pending_) {
        if (state.pending.size() >= store::consumer_pending_max) break;
        state.pending.emplace_hint(state.pending.end(), seq,
                                   store::PendingAck{pending.consumer_seq, pending.delivered_ns});
    }
    state.redelivered = redelivered_;
    return state;
}

void Consumer::check_invariants() const {
    for (const auto& entry : pending_) {
        ASSERT(entry.first < next_seq_ || !last_per_subject_.empty());
        ASSERT(entry.first > ack_floor_.stream_seq);
    }
}

}  // namespace herald::jetstream
