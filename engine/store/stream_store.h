// StreamStore: where a JetStream stream keeps its messages, by sequence number, with the stream's
// limits applied. JetStream's Stream talks only to this interface (later through a RAFT group
// that assigns seq and timestamp on the leader and applies them on every replica with
// StoreRequest::seq/timestamp_ns). Implementations: MemStore (memory) and FileStore (blocks of
// checksummed records on io::FileSystem). Modelled on nats-server server/store.go.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/base/time.h"

namespace herald::store {

using Seq = std::uint64_t;

struct StoredMessage {
    std::string subject;
    std::string headers;  // The raw NATS header block ("NATS/1.0\r\n..."), or empty.
    std::string payload;
    Seq seq = 0;
    std::int64_t timestamp_ns = 0;  // Wall time (io::Clock::realtime_ns) when it was stored.
    friend bool operator==(const StoredMessage&, const StoredMessage&) = default;
};

// What a store call carries. seq and timestamp_ns are 0 on a single node (the store assigns
// them); a replica applying a replicated entry passes the leader's values.
struct StoreRequest {
    std::string_view subject;
    std::string_view headers;
    std::string_view payload;
    Seq seq = 0;                    // 0 = last_seq + 1; otherwise it must be last_seq + 1.
    std::int64_t timestamp_ns = 0;  // 0 = now.
};

struct StoreAck {
    Seq seq = 0;
    std::int64_t timestamp_ns = 0;
};

enum class Discard : std::uint8_t { old_messages, new_messages };

// The stream config's limits (jetstream-api.md §3, §5.2). -1 / 0 = unlimited, as in NATS.
struct StoreLimits {
    std::int64_t max_msgs = -1;
    std::int64_t max_bytes = -1;
    Duration max_age{};  // 0 = no limit. Measured on io::Clock::realtime_ns.
    std::int64_t max_msgs_per_subject = -1;
    Discard discard = Discard::old_messages;
    bool discard_new_per_subject = false;
};

// How a store makes a message durable before acknowledging it (DESIGN.md "Durability default").
enum class SyncMode : std::uint8_t {
    memory,    // MemStore: nothing survives a restart.
    always,    // Acked only after fsync of its record (default for files).
    interval,  // Lazy: acked once written to the OS, fsync every sync_interval (nats-server's).
};

struct Durability {
    SyncMode mode = SyncMode::always;
    bool group_commit = true;  // always: concurrent stores share one fsync.
    Duration sync_interval{};  // interval: the period between fsyncs.
};

std::string_view sync_mode_name(SyncMode mode);  // "memory", "always", "interval".

// A run of consecutive sequence numbers, both ends included.
struct SeqRange {
    Seq first = 0;
    Seq last = 0;
    friend bool operator==(SeqRange, SeqRange) = default;
};

// What recovery found wrong with the files and what it did (DESIGN.md: torn tail vs bit rot).
struct Damage {
    enum class Kind : std::uint8_t {
        torn_tail,        // A short last record at the end of a block (power loss): truncated.
        corrupt_tail,     // Whole-length records at a block's end that fail their checksum.
        corrupt_middle,   // Bad bytes with intact records after them (bit rot): skipped.
        bad_block_header, // The block's header failed its checksum; its records were kept.
        missing_data,     // Sequences the index or later blocks promise but no block holds.
    };
    Kind kind = Kind::corrupt_middle;
    std::uint64_t block = 0;   // Block id (file blk-<id>.dat).
    std::uint64_t offset = 0;  // Byte offset of the damage in the block.
    std::uint64_t bytes = 0;   // Bytes of it.
};

std::string_view damage_kind_name(Damage::Kind kind);

struct RecoveryReport {
    std::vector<SeqRange> lost;       // Message sequences that were stored and are gone.
    std::uint64_t lost_messages = 0;  // Sum of the lost ranges.
    std::uint64_t lost_bytes = 0;     // Bytes of damaged records skipped or cut.
    std::uint64_t truncated_bytes = 0;  // Of those, cut from torn tails (never acknowledged).
    std::vector<Damage> damage;
    bool index_rebuilt = false;  // The index file was missing or damaged and was rebuilt.
    bool clean() const { return damage.empty() && lost.empty() && !index_rebuilt; }
};

// The fields of the JetStream StreamState (jetstream-api.md §4) the store knows.
struct StreamState {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    Seq first_seq = 0;
    std::int64_t first_ts = 0;
    Seq last_seq = 0;
    std::int64_t last_ts = 0;
    std::uint64_t num_deleted = 0;  // Interior gaps: last - first + 1 - messages.
    std::uint64_t num_subjects = 0;
    std::uint64_t consumer_count = 0;
    std::vector<SeqRange> lost;  // From the last recovery (StreamState "lost"), empty if none.
    std::uint64_t lost_bytes = 0;
    friend bool operator==(const StreamState&, const StreamState&) = default;
};

// One subject's messages (nats SimpleState).
struct SubjectState {
    std::string subject;
    std::uint64_t messages = 0;
    Seq first_seq = 0;
    Seq last_seq = 0;
    friend bool operator==(const SubjectState&, const SubjectState&) = default;
};

// JetStream purge (STREAM.PURGE request: filter, seq, keep). Matches nats-server PurgeEx:
// no filter and no seq/keep purges everything; seq removes everything below it; keep leaves
// the newest `keep` (of the filter's subjects).
struct PurgeRequest {
    std::string filter;  // Empty or ">": all subjects.
    Seq seq = 0;         // Purge sequences < seq (0 = no bound).
    std::uint64_t keep = 0;
};

// Which kind of store a message is in: its accounted size (StreamState::bytes, max_bytes) and
// the discard-new rules differ by kind, as in nats-server.
enum class StoreKind : std::uint8_t { memory, file };

// The bytes a message counts for in StreamState::bytes, account storage/memory and max_bytes:
// exactly nats-server 2.9.10's numbers. File (filestore.go fileStoreMsgSize): 22 (length, seq,
// timestamp, subject length) + subject + payload + 8 (hash), plus 4 + headers when there are
// headers. Memory (memstore.go memStoreMsgSize): subject + headers + payload + 16. This is
// accounting only; FileStore's on-disk record is record_size().
std::uint64_t record_bytes(StoreKind kind, std::size_t subject_size, std::size_t headers_size,
                           std::size_t payload_size);

// The length of a FileStore record on disk (record.h: header, subject, headers, payload,
// checksum): 36 bytes of overhead.
std::uint64_t message_size(std::size_t subject_size, std::size_t headers_size,
                           std::size_t payload_size);
inline constexpr std::uint64_t message_overhead_bytes = 36;

// Lifecycle: created open (MemStore) or through an asynchronous open (FileStore); runs on one
// io::Loop; close() then destroy. Destroying without close() is a crash: nothing not yet
// acknowledged is promised. Every callback runs on the loop, never inline, and never after the
// store is destroyed. Callbacks of store/remove/purge/compact/skip run in call order.
//
// Visibility: a stored message is visible to loads and state() at once (its sequence is taken
// at the call); its acknowledgement says it is durable (per durability()). If a write or fsync
// fails, every unacknowledged operation fails, the store refuses further writes (Errc::failed),
// and a restart recovers what the disk kept.
class StreamStore {
public:
    using StoreCallback = std::function<void(Result<StoreAck>)>;
    using LoadCallback = std::function<void(Result<StoredMessage>)>;
    using CountCallback = std::function<void(Result<std::uint64_t>)>;
    using StatusCallback = std::function<void(Status)>;

    virtual ~StreamStore() = default;

    // Appends a message and applies the limits (discard old removes the oldest; discard new
    // fails with max_messages_exceeded / max_bytes_exceeded / max_messages_per_subject_exceeded).
    virtual void store(const StoreRequest& request, StoreCallback on_stored) = 0;
    // The message with this seq: message_not_found if deleted, end_of_stream if beyond last.
    virtual void load(Seq seq, LoadCallback on_loaded) = 0;
    // The newest message whose subject matches `filter` (wildcards allowed): message_not_found.
    virtual void load_last(std::string_view filter, LoadCallback on_loaded) = 0;
    // The first message at or after `start` whose subject matches `filter` (empty = all):
    // end_of_stream if there is none.
    virtual void load_next(std::string_view filter, Seq start, LoadCallback on_loaded) = 0;
    // load_next answered at once, without a callback, when the store holds the message in memory
    // (MemStore always; FileStore from its write queue or read cache): lets a consumer deliver a
    // whole pull batch in one loop turn. nullopt: not in memory; call load_next, which also
    // brings the message's neighbourhood into the cache.
    virtual std::optional<Result<StoredMessage>> load_next_now(std::string_view filter, Seq start) = 0;
    // Deletes one message (a durable delete marker): message_not_found if it is not there.
    virtual void remove(Seq seq, StatusCallback on_removed) = 0;
    // Completes with the number of messages purged, once the purge is durable.
    virtual void purge(const PurgeRequest& request, CountCallback on_purged) = 0;
    // Removes every message below `seq` (nats Compact); past the end, the next seq becomes `seq`.
    virtual void compact(Seq seq, CountCallback on_compacted) = 0;
    // Uses up the sequences first..last without storing anything (nats-server SkipMsg, once per
    // sequence there): last_seq becomes `last` and last_ts `timestamp_ns` (0 = now); an empty
    // store's first_seq moves to last + 1, a non-empty one keeps its first and counts the skipped
    // sequences as deleted. No limit applies and no message is removed. FileStore: one durable
    // skip record (a delete marker), acknowledged like a store. `first` must be last_seq + 1
    // (else sequence_mismatch) and not above `last` (else invalid_argument).
    virtual void skip(Seq first, Seq last, std::int64_t timestamp_ns, StatusCallback on_skipped) = 0;
    // New limits (stream update); applied at once, as a store would.
    virtual void update_limits(const StoreLimits& limits) = 0;
    // Flushes whatever is pending (writes, fsync, index) and stops; later calls fail with closed.
    virtual void close(StatusCallback on_closed) = 0;

    virtual StreamState state() const = 0;
    // Per-subject state of the subjects matching `filter` (empty = all), sorted by subject.
    virtual std::vector<SubjectState> subjects_state(std::string_view filter) const = 0;
    // How many messages matching `filter` (empty = all) have first <= seq <= last (nats-server
    // FilteredState(...).Msgs). Walks only the shorter side of each subject's chain (or of the
    // stream), so a consumer near either end pays little; consumers cache it (removals()).
    virtual std::uint64_t count_matching(std::string_view filter, Seq first, Seq last) const = 0;
    // How many messages were ever removed (limits, deletes, purges, compacts, expiry): a count
    // cached from count_matching stays exact while this has not changed.
    virtual std::uint64_t removals() const = 0;
    // True if every message removed since removals() was `since` had a seq below `bound` (false
    // when not known: the store remembers only the last few removals). Lets a consumer keep its
    // cached count while the stream only drops messages it has passed (limits, KV history).
    virtual bool removed_below(std::uint64_t since, Seq bound) const = 0;
    virtual Durability durability() const = 0;
    // What the last open recovered from (empty for a clean start or a MemStore).
    virtual const RecoveryReport& recovery_report() const = 0;
    // JetStream registers consumers here so that state().consumer_count is right.
    virtual void add_consumer() = 0;
    virtual void remove_consumer() = 0;
};

}  // namespace herald::store
