#include "engine/store/message_index.h"

#include <algorithm>

#include "engine/protocol/subject.h"
#include "engine/store/errc.h"

namespace herald::store {

std::string_view sync_mode_name(SyncMode mode) {
    switch (mode) {
        case SyncMode::memory: return "memory";
        case SyncMode::always: return "always";
        case SyncMode::interval: return "interval";
    }
    return "unknown";
}

std::string_view damage_kind_name(Damage::Kind kind) {
    switch (kind) {
        case Damage::Kind::torn_tail: return "torn_tail";
        case Damage::Kind::corrupt_tail: return "corrupt_tail";
        case Damage::Kind::corrupt_middle: return "corrupt_middle";
        case Damage::Kind::bad_block_header: return "bad_block_header";
        case Damage::Kind::missing_data: return "missing_data";
    }
    return "unknown";
}

std::uint64_t message_size(std::size_t subject_size, std::size_t headers_size,
                           std::size_t payload_size) {
    return message_overhead_bytes + subject_size + headers_size + payload_size;
}

std::uint64_t record_bytes(StoreKind kind, std::size_t subject_size, std::size_t headers_size,
                           std::size_t payload_size) {
    const std::uint64_t body = subject_size + headers_size + payload_size;
    if (kind == StoreKind::memory) return body + 16;  // memStoreMsgSize: seq + timestamp.
    // fileStoreMsgSize: length 4 + seq 8 + timestamp 8 + subject length 2, hash 8; a header
    // length 4 only when there are headers.
    return 22 + body + 8 + (headers_size > 0 ? 4 : 0);
}

bool filter_matches_all(std::string_view filter) {
    return filter.empty() || filter == protocol::full_wildcard;
}

bool filter_matches(std::string_view filter, std::string_view subject) {
    if (filter_matches_all(filter)) return true;
    return protocol::subject_matches(filter, subject);
}

Result<Seq> MessageIndex::admit(std::string_view subject, std::uint64_t body_size, Seq requested_seq,
                                const StoreLimits& limits) const {
    if (requested_seq != 0 && requested_seq != last_seq_ + 1) return Errc::sequence_mismatch;
    const auto subject_it = subjects_.find(subject);
    // Matches nats-server storeRawMsg (memstore.go, filestore.go): at the per-subject limit the
    // store replaces the subject's oldest message, so max_msgs / max_bytes do not refuse it.
    const bool at_subject_limit =
        limits.max_msgs_per_subject > 0 && subject_it != subjects_.end() &&
        subject_it->second.messages >= static_cast<std::uint64_t>(limits.max_msgs_per_subject);
    if (limits.discard == Discard::new_messages) {
        if (at_subject_limit && limits.discard_new_per_subject) {
            return Errc::max_messages_per_subject_exceeded;
        }
        if (limits.max_msgs > 0 && entries_.size() >= static_cast<std::uint64_t>(limits.max_msgs) &&
            !at_subject_limit) {
            return Errc::max_messages_exceeded;
        }
        // nats-server counts only headers + payload of the new message here, and refuses at
        // equality; a message it admits may then push the oldest out (enforce_limits).
        if (limits.max_bytes > 0 &&
            bytes_ + body_size >= static_cast<std::uint64_t>(limits.max_bytes)) {
            if (!at_subject_limit) return Errc::max_bytes_exceeded;
            // Room only if the subject's oldest is larger than the new body (file: sizeForSeq
            // <= body refuses; memory: memStoreMsgSize < body refuses).
            const std::uint64_t oldest = entries_.at(subject_it->second.first).size;
            if (kind_ == StoreKind::file ? oldest <= body_size : oldest < body_size) {
                return Errc::max_bytes_exceeded;
            }
        }
        return last_seq_ + 1;
    }
    // Discard old refuses nothing: a message larger than max_bytes alone is stored, then
    // enforce_limits removes every message, itself last (nats-server storeRawMsg +
    // enforceBytesLimit); the store is left empty with first_seq one past it.
    return last_seq_ + 1;
}

void MessageIndex::insert(Seq seq, std::string_view subject, std::int64_t timestamp_ns,
                          std::uint64_t size, Location location) {
    ASSERT(seq > last_seq_);
    ASSERT(size >= 16);
    auto subject_it = subjects_.find(subject);
    if (subject_it == subjects_.end()) {
        subject_it = subjects_.emplace(std::string(subject), SubjectInfo{}).first;
    }
    SubjectInfo& info = subject_it->second;
    Entry entry{&subject_it->first, timestamp_ns, size, location, info.last, 0};
    if (info.messages == 0) {
        info.first = seq;
    } else {
        entry_at(info.last).next_same = seq;
    }
    info.last = seq;
    info.messages += 1;
    const auto added = entries_.emplace_hint(entries_.end(), seq, entry);  // seq > every key: O(1).
    window_add(seq, &added->second);
    bytes_ += size;
    last_seq_ = seq;
    last_ts_ = timestamp_ns;
}

std::optional<RemovedMessage> MessageIndex::remove_entry(std::map<Seq, Entry>::iterator it) {
    ASSERT(it != entries_.end());
    const Seq seq = it->first;
    const Entry entry = it->second;
    auto subject_it = subjects_.find(*entry.subject);
    ASSERT(subject_it != subjects_.end());
    SubjectInfo& info = subject_it->second;
    ASSERT(info.messages > 0);
    if (entry.prev_same != 0) {
        entry_at(entry.prev_same).next_same = entry.next_same;
    } else {
        ASSERT(info.first == seq);
        info.first = entry.next_same;
    }
    if (entry.next_same != 0) {
        entry_at(entry.next_same).prev_same = entry.prev_same;
    } else {
        ASSERT(info.last == seq);
        info.last = entry.prev_same;
    }
    info.messages -= 1;
    if (find_hint_ == it) find_hint_ = entries_.end();
    entries_.erase(it);
    window_remove(seq);
    if (info.messages == 0) {
        ASSERT(info.first == 0);
        subjects_.erase(subject_it);
    }
    ASSERT(bytes_ >= entry.size);
    bytes_ -= entry.size;
    removed_ring_[removals_ % removed_ring_size] = seq;
    removals_ += 1;
    return RemovedMessage{seq, entry.size, entry.location};
}

std::optional<RemovedMessage> MessageIndex::remove(Seq seq) {
    auto it = entries_.find(seq);
    if (it == entries_.end()) return std::nullopt;
    return remove_entry(it);
}

std::vector<RemovedMessage> MessageIndex::enforce_limits(const StoreLimits& limits,
                                                         std::string_view subject) {
    std::vector<RemovedMessage> removed;
    if (limits.max_msgs_per_subject > 0) {
        const auto max = static_cast<std::uint64_t>(limits.max_msgs_per_subject);
        for (auto it = subjects_.find(subject); it != subjects_.end() && it->second.messages > max;
             it = subjects_.find(subject)) {
            removed.push_back(*remove_entry(entries_.find(it->second.first)));
        }
    }
    if (limits.max_msgs > 0) {
        while (entries_.size() > static_cast<std::uint64_t>(limits.max_msgs)) {
            removed.push_back(*remove_entry(entries_.begin()));
        }
    }
    if (limits.max_bytes > 0) {
        while (bytes_ > static_cast<std::uint64_t>(limits.max_bytes)) {
            ASSERT(!entries_.empty());
            removed.push_back(*remove_entry(entries_.begin()));
        }
    }
    return removed;
}

std::vector<RemovedMessage> MessageIndex::expire(std::int64_t now_ns, Duration max_age) {
    std::vector<RemovedMessage> removed;
    if (max_age.ns == 0) return removed;
    const std::int64_t cutoff_ns = now_ns - static_cast<std::int64_t>(max_age.ns);
    while (!entries_.empty() && entries_.begin()->second.timestamp_ns <= cutoff_ns) {
        removed.push_back(*remove_entry(entries_.begin()));
    }
    return removed;
}

std::vector<Seq> MessageIndex::matching_seqs(std::string_view filter) const {
    std::vector<Seq> seqs;
    for (const auto& [subject, info] : subjects_) {
        if (!filter_matches(filter, subject)) continue;
        for (Seq seq = info.first; seq != 0; seq = entries_.at(seq).next_same) seqs.push_back(seq);
    }
    std::sort(seqs.begin(), seqs.end());
    return seqs;
}

Result<std::vector<RemovedMessage>> MessageIndex::purge(const PurgeRequest& request) {
    if (request.seq > 1 && request.keep > 0) return Errc::purge_argument_mismatch;
    std::vector<RemovedMessage> removed;
    if (filter_matches_all(request.filter)) {
        if (request.keep == 0 && request.seq <= 1) return compact(last_seq_ + 1);
        if (request.seq > 1) return compact(request.seq);
        // keep > 0: the newest `keep` stay, whatever the gaps (nats compacts to last - keep + 1,
        // which keeps fewer when there are interior deletes).
        while (entries_.size() > request.keep) removed.push_back(*remove_entry(entries_.begin()));
        return removed;
    }
    const std::vector<Seq> seqs = matching_seqs(request.filter);
    std::size_t count = seqs.size();
    if (request.keep > 0) count = seqs.size() > request.keep ? seqs.size() - request.keep : 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (request.seq > 1 && seqs[i] >= request.seq) break;
        removed.push_back(*remove_entry(entries_.find(seqs[i])));
    }
    return removed;
}

std::vector<RemovedMessage> MessageIndex::compact(Seq seq) {
    std::vector<RemovedMessage> removed;
    while (!entries_.empty() && entries_.begin()->first < seq) {
        removed.push_back(*remove_entry(entries_.begin()));
    }
    if (seq > last_seq_ + 1) raise_last_seq(seq - 1, last_ts_);
    return removed;
}

void MessageIndex::raise_last_seq(Seq seq, std::int64_t timestamp_ns) {
    if (seq <= last_seq_) return;
    last_seq_ = seq;
    last_ts_ = timestamp_ns;
}

MessageIndex::Entry& MessageIndex::entry_at(Seq seq) {
    if (window_on_) {
        ASSERT(seq >= window_base_ && seq - window_base_ < window_.size());
        Entry* entry = window_[seq - window_base_].entry;
        ASSERT(entry != nullptr);
        return *entry;
    }
    return entries_.at(seq);
}

// Called after entries_ gained `seq` (greater than every other key).
void MessageIndex::window_add(Seq seq, Entry* entry) {
    if (!window_on_) return;
    if (window_.empty()) {
        window_base_ = seq;
    } else {
        const Seq next = window_base_ + window_.size();
        ASSERT(seq >= next);
        const Seq gap = seq - next;
        if (window_.size() + gap + 1 > 2 * entries_.size() + window_slack) return window_off();
        window_.insert(window_.end(), gap, Slot{});
    }
    window_.push_back(Slot{entry, entry->location});
}

// Called after entries_ lost `seq`.
void MessageIndex::window_remove(Seq seq) {
    if (entries_.empty()) {  // Dense again by definition.
        window_.clear();
        window_on_ = true;
        return;
    }
    if (!window_on_) return;
    ASSERT(seq >= window_base_ && seq - window_base_ < window_.size());
    window_[seq - window_base_] = Slot{};
    while (!window_.empty() && window_.front().entry == nullptr) {
        window_.pop_front();
        window_base_ += 1;
    }
    while (!window_.empty() && window_.back().entry == nullptr) window_.pop_back();
    if (window_.size() > 2 * entries_.size() + window_slack) window_off();
}

void MessageIndex::window_off() {
    window_on_ = false;
    std::deque<Slot>().swap(window_);
}

// With the window off, readers still go forward one seq at a time (a consumer delivering, a
// catch-up), so the entry after the previous answer is tried before a tree search.
const MessageIndex::Entry* MessageIndex::find(Seq seq) const {
    if (window_on_) {
        if (seq < window_base_ || seq - window_base_ >= window_.size()) return nullptr;
        return window_[seq - window_base_].entry;
    }
    if (find_hint_ != entries_.end()) {
        if (find_hint_->first == seq) return &find_hint_->second;
        const auto next = std::next(find_hint_);
        if (next != entries_.end() && next->first == seq) {
            find_hint_ = next;
            return &next->second;
        }
    }
    const auto it = entries_.find(seq);
    if (it == entries_.end()) return nullptr;
    find_hint_ = it;
    return &it->second;
}

void MessageIndex::relocate(Seq seq, Location location) {
    auto it = entries_.find(seq);
    ASSERT(it != entries_.end());
    it->second.location = location;
    if (window_on_) window_[seq - window_base_].location = location;
}

const Location* MessageIndex::location(Seq seq) const {
    if (window_on_) {
        if (seq < window_base_ || seq - window_base_ >= window_.size()) return nullptr;
        const Slot& slot = window_[seq - window_base_];
        return slot.entry == nullptr ? nullptr : &slot.location;
    }
    const Entry* entry = find(seq);
    return entry == nullptr ? nullptr : &entry->location;
}

Seq MessageIndex::last_matching(std::string_view filter) const {
    if (filter_matches_all(filter)) return entries_.empty() ? 0 : entries_.rbegin()->first;
    if (!protocol::subject_has_wildcard(filter)) {
        auto it = subjects_.find(filter);
        return it == subjects_.end() ? 0 : it->second.last;
    }
    Seq last = 0;
    for (const auto& [subject, info] : subjects_) {
        if (protocol::subject_matches(filter, subject)) last = std::max(last, info.last);
    }
    return last;
}

Seq MessageIndex::next_matching(std::string_view filter, Seq start) const {
    if (filter_matches_all(filter)) {
        if (entries_.empty()) return 0;
        const Seq first = entries_.begin()->first;
        const Seq last = entries_.rbegin()->first;
        if (start <= first) return first;
        if (start > last) return 0;
        // No holes between first and last (the usual stream): no tree search.
        if (entries_.size() == last - first + 1) return start;
        return entries_.lower_bound(start)->first;
    }
    auto it = entries_.lower_bound(start);
    if (!protocol::subject_has_wildcard(filter)) {
        auto subject_it = subjects_.find(filter);
        if (subject_it == subjects_.end() || subject_it->second.last < start) return 0;
        if (subject_it->second.first >= start) return subject_it->second.first;
        // Walk the subject's chain backwards from its last: the chain is short when start is
        // near the end, which is where consumers read.
        Seq seq = subject_it->second.last;
        for (;;) {
            const Seq previous = entries_.at(seq).prev_same;
            if (previous < start) return seq;
            seq = previous;
        }
    }
    for (; it != entries_.end(); ++it) {
        if (protocol::subject_matches(filter, *it->second.subject)) return it->first;
    }
    return 0;
}

StreamState MessageIndex::state() const {
    StreamState state;
    state.messages = entries_.size();
    state.bytes = bytes_;
    state.last_seq = last_seq_;
    state.last_ts = last_ts_;
    state.num_subjects = subjects_.size();
    if (entries_.empty()) {
        state.first_seq = last_seq_ == 0 ? 0 : last_seq_ + 1;
    } else {
        state.first_seq = entries_.begin()->first;
        state.first_ts = entries_.begin()->second.timestamp_ns;
        state.num_deleted = last_seq_ - state.first_seq + 1 - state.messages;
    }
    return state;
}

std::vector<SubjectState> MessageIndex::subjects_state(std::string_view filter) const {
    std::vector<SubjectState> states;
    for (const auto& [subject, info] : subjects_) {
        if (filter_matches(filter, subject)) {
            states.push_back(SubjectState{subject, info.messages, info.first, info.last});
        }
    }
    return states;
}

bool MessageIndex::removed_below(std::uint64_t since, Seq bound) const {
    if (since > removals_ || removals_ - since > removed_ring_size) return false;
    for (std::uint64_t n = since; n < removals_; ++n) {
        if (removed_ring_[n % removed_ring_size] >= bound) return false;
    }
    return true;
}

// Entries of a subject's chain with seq < bound, walking from both ends at once: the cost is the
// shorter side, so a consumer near the start or the end of the subject pays little.
std::uint64_t MessageIndex::chain_below(const SubjectInfo& info, Seq bound) const {
    if (bound <= info.first) return 0;
    if (bound > info.last) return info.messages;
    Seq forward = info.first;  // Always < bound.
    Seq backward = info.last;  // Always >= bound.
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    for (;;) {
        low += 1;
        forward = entries_.at(forward).next_same;
        if (forward >= bound) return low;
        high += 1;
        backward = entries_.at(backward).prev_same;
        if (backward < bound) return info.messages - high;
    }
}

// The same over the whole stream, on the entries map.
std::uint64_t MessageIndex::entries_below(Seq bound) const {
    if (entries_.empty() || bound <= entries_.begin()->first) return 0;
    if (bound > entries_.rbegin()->first) return entries_.size();
    auto forward = entries_.begin();
    auto backward = entries_.rbegin();
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    for (;;) {
        low += 1;
        ++forward;
        if (forward->first >= bound) return low;
        high += 1;
        ++backward;
        if (backward->first < bound) return entries_.size() - high;
    }
}

std::uint64_t MessageIndex::count_matching(std::string_view filter, Seq first, Seq last) const {
    if (entries_.empty()) return 0;
    first = std::max(first, entries_.begin()->first);
    last = std::min(last, entries_.rbegin()->first);
    if (first > last) return 0;
    const bool all = filter_matches_all(filter);
    if (all && entries_.size() == entries_.rbegin()->first - entries_.begin()->first + 1) {
        return last - first + 1;  // No interior deletes.
    }
    // A short span (a consumer's step, new messages): its entries, as a load_next would walk.
    if (last - first < std::max<std::uint64_t>(subjects_.size(), count_span_walk_max)) {
        std::uint64_t count = 0;
        for (auto it = entries_.lower_bound(first); it != entries_.end() && it->first <= last; ++it) {
            if (all || protocol::subject_matches(filter, *it->second.subject)) count += 1;
        }
        return count;
    }
    if (all) return entries_below(last + 1) - entries_below(first);
    if (!protocol::subject_has_wildcard(filter)) {
        auto it = subjects_.find(filter);
        if (it == subjects_.end()) return 0;
        return chain_below(it->second, last + 1) - chain_below(it->second, first);
    }
    std::uint64_t count = 0;
    for (const auto& [subject, info] : subjects_) {
        if (!protocol::subject_matches(filter, subject)) continue;
        count += chain_below(info, last + 1) - chain_below(info, first);
    }
    return count;
}

void MessageIndex::check_invariants() const {
    if (entries_.empty()) {
        ASSERT(bytes_ == 0);
        ASSERT(subjects_.empty());
    } else {
        ASSERT(entries_.rbegin()->first <= last_seq_);
    }
    if (window_on_) {
        ASSERT(window_.empty() == entries_.empty());
        ASSERT(window_.empty() || (window_.front().entry != nullptr && window_.back().entry != nullptr));
        ASSERT(window_.empty() || (window_base_ == entries_.begin()->first &&
                                   window_base_ + window_.size() - 1 == entries_.rbegin()->first));
    }
    EXPENSIVE_ASSERT([this] {
        if (window_on_) {
            std::uint64_t present = 0;
            for (std::size_t i = 0; i < window_.size(); ++i) {
                const Slot& slot = window_[i];
                if (slot.entry == nullptr) continue;
                present += 1;
                const auto it = entries_.find(window_base_ + i);
                if (it == entries_.end() || &it->second != slot.entry) return false;
                const Location& l = it->second.location;
                if (l.block != slot.location.block || l.offset != slot.location.offset ||
                    l.length != slot.location.length) {
                    return false;
                }
            }
            if (present != entries_.size()) return false;
        }
        std::uint64_t bytes = 0;
        std::uint64_t chained = 0;
        for (const auto& [seq, entry] : entries_) bytes += entry.size;
        for (const auto& [subject, info] : subjects_) {
            Seq previous = 0;
            for (Seq seq = info.first; seq != 0; seq = entries_.at(seq).next_same) {
                if (seq <= previous || *entries_.at(seq).subject != subject) return false;
                previous = seq;
                chained += 1;
            }
            if (previous != info.last) return false;
        }
        return bytes == bytes_ && chained == entries_.size();
    }());
}

}  // namespace herald::store
