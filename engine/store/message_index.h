// MessageIndex: the in-memory bookkeeping every StreamStore shares: which sequences exist, their
// subjects, sizes and timestamps, per-subject state, the counters of StreamState, and the rules of
// the limits and of purge (nats-server memstore.go/filestore.go semantics). It decides; the store
// that owns it persists the decisions (FileStore writes delete markers for what it removes).
#pragma once

#include <array>
#include <deque>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/store/stream_store.h"

namespace herald::store {

// Where a message's bytes live; the store that owns the index gives it meaning (FileStore: block
// id and record offset/length; MemStore: unused).
struct Location {
    std::uint64_t block = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

// A message taken out of the index, for its owner to clean up after.
struct RemovedMessage {
    Seq seq = 0;
    std::uint64_t size = 0;
    Location location;
};

// Single-threaded, synchronous, no I/O. Sizes are record_bytes(kind). Invariants
// (check_invariants): messages_ equals the entries; bytes_ their sum; each subject's chain links exactly its entries in seq order; no entry
// beyond last_seq_. Entries of one subject are linked through prev_same/next_same so that
// per-subject first/last and the oldest-of-subject removal are O(log n) with no allocation.
class MessageIndex {
public:
    struct Entry {
        const std::string* subject = nullptr;  // Key of the subjects_ node (stable).
        std::int64_t timestamp_ns = 0;
        std::uint64_t size = 0;
        Location location;
        Seq prev_same = 0;  // Previous message with this subject, 0 = none.
        Seq next_same = 0;
    };

    explicit MessageIndex(StoreKind kind) : kind_(kind) {}
    MessageIndex(const MessageIndex&) = delete;  // find_hint_ points into entries_.
    MessageIndex& operator=(const MessageIndex&) = delete;

    // The seq a store on `subject` gets, or why it may not be stored (discard new limits,
    // sequence mismatch). `body_size` is its headers + payload, which nats-server's discard-new
    // max_bytes check counts (storeRawMsg: bytes + body >= max_bytes refuses). Discard old
    // admits any size: enforce_limits then removes what exceeds max_bytes, the new one too.
    Result<Seq> admit(std::string_view subject, std::uint64_t body_size, Seq requested_seq,
                      const StoreLimits& limits) const;
    // Adds a message. Precondition: seq > last_seq() (recovery) and not present.
    void insert(Seq seq, std::string_view subject, std::int64_t timestamp_ns, std::uint64_t size,
                Location location);
    // Removes the oldest messages until discard-old limits hold (per subject, max_msgs,
    // max_bytes); `subject` is the one just stored. Under max_bytes that may be the message just
    // stored (nats-server enforceBytesLimit); the index is then empty.
    std::vector<RemovedMessage> enforce_limits(const StoreLimits& limits, std::string_view subject);
    // Removes messages older than max_age at wall time now_ns.
    std::vector<RemovedMessage> expire(std::int64_t now_ns, Duration max_age);
    std::optional<RemovedMessage> remove(Seq seq);
    Result<std::vector<RemovedMessage>> purge(const PurgeRequest& request);
    std::vector<RemovedMessage> compact(Seq seq);
    // Raises last_seq (recovery of delete markers, compact past the end, replicated skips).
    void raise_last_seq(Seq seq, std::int64_t timestamp_ns);

    const Entry* find(Seq seq) const;
    // find(seq)->location, or null if seq is not present.
    const Location* location(Seq seq) const;
    // The newest message matching `filter`; 0 if none.
    Seq last_matching(std::string_view filter) const;
    // The first message at or after `start` matching `filter`; 0 if none.
    Seq next_matching(std::string_view filter, Seq start) const;

    StreamState state() const;
    std::vector<SubjectState> subjects_state(std::string_view filter) const;
    // StreamStore::count_matching and removals().
    std::uint64_t count_matching(std::string_view filter, Seq first, Seq last) const;
    std::uint64_t removals() const { return removals_; }
    bool removed_below(std::uint64_t since, Seq bound) const;
    std::uint64_t messages() const { return entries_.size(); }
    Seq last_seq() const { return last_seq_; }
    Seq first_seq() const { return entries_.empty() ? 0 : entries_.begin()->first; }
    std::int64_t first_timestamp_ns() const {
        return entries_.empty() ? 0 : entries_.begin()->second.timestamp_ns;
    }
    const std::map<Seq, Entry>& entries() const { return entries_; }
    // Mutable location, for a FileStore that moved a record (compaction).
    void relocate(Seq seq, Location location);

    void check_invariants() const;
    // Whether find() runs on the dense seq window (tests).
    bool dense() const { return window_on_; }

private:
    struct SubjectInfo {
        std::uint64_t messages = 0;
        Seq first = 0;
        Seq last = 0;
    };
    std::optional<RemovedMessage> remove_entry(std::map<Seq, Entry>::iterator it);
    std::vector<Seq> matching_seqs(std::string_view filter) const;

    std::uint64_t chain_below(const SubjectInfo& info, Seq bound) const;
    std::uint64_t entries_below(Seq bound) const;

    static constexpr std::size_t removed_ring_size = 64;
    // count_matching walks a span's entries up to this many seqs (or the number of subjects).
    static constexpr std::uint64_t count_span_walk_max = 1024;
    StoreKind kind_;
    std::uint64_t removals_ = 0;
    std::array<Seq, removed_ring_size> removed_ring_{};  // Seq of removal n at n % size.

    // The entry of `seq`: through window_ while it is on, else the tree. Must exist.
    Entry& entry_at(Seq seq);
    void window_add(Seq seq, Entry* entry);
    void window_remove(Seq seq);
    void window_off();

    std::map<Seq, Entry> entries_;
    // A dense view of entries_ by seq while holes are few: window_[seq - window_base_] is seq's
    // entry or null, so find() is one array index instead of a tree walk (6-7% of a pull
    // consumer's server CPU). While window_on_ it holds exactly the entries (first and last slot
    // non-null); it goes off once holes outnumber entries by window_slack (a KV bucket's
    // overwrites), and on again when the index is empty.
    static constexpr std::uint64_t window_slack = 4096;
    // A slot repeats the entry's location so that a reader (FileStore::message_now) finds it in
    // this dense array instead of touching the tree node (a cache miss: 59% of message_now).
    struct Slot {
        Entry* entry = nullptr;
        Location location;
    };
    std::deque<Slot> window_;
    Seq window_base_ = 0;
    bool window_on_ = true;
    // find()'s last answer while the window is off, or end(); reset when that entry is erased.
    mutable std::map<Seq, Entry>::const_iterator find_hint_ = entries_.end();
    std::map<std::string, SubjectInfo, std::less<>> subjects_;
    std::uint64_t bytes_ = 0;
    Seq last_seq_ = 0;
    std::int64_t last_ts_ = 0;
};

// Filter helpers: an empty filter and ">" match every subject.
bool filter_matches_all(std::string_view filter);
bool filter_matches(std::string_view filter, std::string_view subject);

}  // namespace herald::store
