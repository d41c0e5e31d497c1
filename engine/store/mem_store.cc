#include "engine/store/mem_store.h"

#include <utility>

#include "engine/base/errc.h"
#include "engine/store/errc.h"

namespace herald::store {

MemStore::MemStore(io::Env& env, StoreLimits limits) : env_(env), limits_(limits) {}

MemStore::~MemStore() {
    if (age_timer_armed_) env_.loop.cancel(age_timer_);
}

template <class T>
void MemStore::reply(std::function<void(T)> callback, T value) {
    ASSERT(callback);
    env_.loop.post([life = std::weak_ptr<int>(life_), callback = std::move(callback),
                    value = std::move(value)]() mutable {
        if (life.expired()) return;
        callback(std::move(value));
    });
}

void MemStore::store(const StoreRequest& request, StoreCallback on_stored) {
    if (closed_) return reply<Result<StoreAck>>(std::move(on_stored), Errc::closed);
    const std::uint64_t size = record_bytes(StoreKind::memory, request.subject.size(),
                                            request.headers.size(), request.payload.size());
    Result<Seq> seq = index_.admit(request.subject,
                                   request.headers.size() + request.payload.size(), request.seq,
                                   limits_);
    if (!seq) return reply<Result<StoreAck>>(std::move(on_stored), seq.error());
    const std::int64_t timestamp_ns =
        request.timestamp_ns != 0 ? request.timestamp_ns : env_.clock.realtime_ns();
    index_.insert(*seq, request.subject, timestamp_ns, size, Location{});
    bodies_.emplace(*seq, Body{std::string(request.headers), std::string(request.payload)});
    drop(index_.enforce_limits(limits_, request.subject));
    arm_age_timer();
    index_.check_invariants();
    ASSERT(bodies_.size() == index_.messages());
    reply<Result<StoreAck>>(std::move(on_stored), StoreAck{*seq, timestamp_ns});
}

void MemStore::drop(const std::vector<RemovedMessage>& removed) {
    for (const RemovedMessage& message : removed) {
        const std::size_t erased = bodies_.erase(message.seq);
        ASSERT(erased == 1);
    }
}

Result<StoredMessage> MemStore::message_at(Seq seq) const {
    if (closed_) return Errc::closed;
    const MessageIndex::Entry* entry = seq == 0 ? nullptr : index_.find(seq);
    if (entry == nullptr) {
        return seq > index_.last_seq() ? Errc::end_of_stream : Errc::message_not_found;
    }
    const Body& body = bodies_.at(seq);
    return StoredMessage{*entry->subject, body.headers, body.payload, seq, entry->timestamp_ns};
}

void MemStore::load_seq(Seq seq, LoadCallback on_loaded) {
    reply<Result<StoredMessage>>(std::move(on_loaded), message_at(seq));
}

void MemStore::load(Seq seq, LoadCallback on_loaded) { load_seq(seq, std::move(on_loaded)); }

void MemStore::load_last(std::string_view filter, LoadCallback on_loaded) {
    const Seq seq = index_.last_matching(filter);
    if (seq == 0) return reply<Result<StoredMessage>>(std::move(on_loaded), Errc::message_not_found);
    load_seq(seq, std::move(on_loaded));
}

void MemStore::load_next(std::string_view filter, Seq start, LoadCallback on_loaded) {
    const Seq seq = index_.next_matching(filter, start);
    if (seq == 0) return reply<Result<StoredMessage>>(std::move(on_loaded), Errc::end_of_stream);
    load_seq(seq, std::move(on_loaded));
}

std::optional<Result<StoredMessage>> MemStore::load_next_now(std::string_view filter, Seq start) {
    if (closed_) return Result<StoredMessage>(Errc::closed);
    const Seq seq = index_.next_matching(filter, start);
    if (seq == 0) return Result<StoredMessage>(Errc::end_of_stream);
    return message_at(seq);
}

void MemStore::remove(Seq seq, StatusCallback on_removed) {
    if (closed_) return reply<Status>(std::move(on_removed), Errc::closed);
    auto removed = index_.remove(seq);
    if (!removed) return reply<Status>(std::move(on_removed), Errc::message_not_found);
    drop({*removed});
    reply<Status>(std::move(on_removed), ok());
}

void MemStore::purge(const PurgeRequest& request, CountCallback on_purged) {
    if (closed_) return reply<Result<std::uint64_t>>(std::move(on_purged), Errc::closed);
    auto removed = index_.purge(request);
    if (!removed) return reply<Result<std::uint64_t>>(std::move(on_purged), removed.error());
    drop(*removed);
    reply<Result<std::uint64_t>>(std::move(on_purged), std::uint64_t{removed->size()});
}

void MemStore::compact(Seq seq, CountCallback on_compacted) {
    if (closed_) return reply<Result<std::uint64_t>>(std::move(on_compacted), Errc::closed);
    auto removed = index_.compact(seq);
    drop(removed);
    reply<Result<std::uint64_t>>(std::move(on_compacted), std::uint64_t{removed.size()});
}

void MemStore::skip(Seq first, Seq last, std::int64_t timestamp_ns, StatusCallback on_skipped) {
    if (closed_) return reply<Status>(std::move(on_skipped), Errc::closed);
    if (first == 0 || first > last) return reply<Status>(std::move(on_skipped), base::Errc::invalid_argument);
    if (first != index_.last_seq() + 1) return reply<Status>(std::move(on_skipped), Errc::sequence_mismatch);
    index_.raise_last_seq(last, timestamp_ns != 0 ? timestamp_ns : env_.clock.realtime_ns());
    index_.check_invariants();
    reply<Status>(std::move(on_skipped), ok());
}

void MemStore::update_limits(const StoreLimits& limits) {
    limits_ = limits;
    // Apply the new limits now (a stream update that lowers max_msgs trims at once).
    for (const auto& subject : index_.subjects_state("")) {
        drop(index_.enforce_limits(limits_, subject.subject));
    }
    drop(index_.enforce_limits(limits_, ""));
    if (age_timer_armed_) {
        env_.loop.cancel(age_timer_);
        age_timer_armed_ = false;
    }
    on_age_timer();
}

void MemStore::close(StatusCallback on_closed) {
    closed_ = true;
    if (age_timer_armed_) env_.loop.cancel(age_timer_);
    age_timer_armed_ = false;
    reply<Status>(std::move(on_closed), ok());
}

StreamState MemStore::state() const {
    StreamState state = index_.state();
    state.consumer_count = consumer_count_;
    return state;
}

std::vector<SubjectState> MemStore::subjects_state(std::string_view filter) const {
    return index_.subjects_state(filter);
}

void MemStore::remove_consumer() {
    ASSERT(consumer_count_ > 0);
    consumer_count_ -= 1;
}

// The timer fires when the oldest message reaches max_age (nats-server expireMsgs).
void MemStore::arm_age_timer() {
    if (age_timer_armed_ || closed_ || limits_.max_age.ns == 0 || index_.messages() == 0) return;
    const std::int64_t due_ns =
        index_.first_timestamp_ns() + static_cast<std::int64_t>(limits_.max_age.ns);
    const std::int64_t wait_ns = due_ns - env_.clock.realtime_ns();
    age_timer_armed_ = true;
    age_timer_ = env_.loop.schedule(Duration{wait_ns > 0 ? static_cast<std::uint64_t>(wait_ns) : 0},
                                    [this, life = std::weak_ptr<int>(life_)] {
                                        if (life.expired()) return;
                                        age_timer_armed_ = false;
                                        on_age_timer();
                                    });
}

void MemStore::on_age_timer() {
    if (closed_) return;
    drop(index_.expire(env_.clock.realtime_ns(), limits_.max_age));
    arm_age_timer();
}

}  // namespace herald::store
