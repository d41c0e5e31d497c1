// FileStore: a StreamStore on io::FileSystem (stream storage "file"). Messages and delete markers
// are appended as checksummed records (record.h) to block files blk-<id>.dat in one directory;
// blocks roll at block_size_max; an index file (index.dat) lists the blocks and the last acked
// sequence so that recovery can tell exactly what was lost. Durable by default with group commit
// (DESIGN.md "Durability default"); lazy fsync only when configured (nats-server sync_interval).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/log.h"
#include "engine/io/io.h"
#include "engine/store/message_index.h"
#include "engine/store/record.h"
#include "engine/store/stream_store.h"

namespace herald::store {

// canary: test-only (config::Options::canaries). Deliberately wrong store behaviours.
struct StoreCanaries {
    bool ack_before_fsync = false;   // Ack once written; never fsync (sync_mode always).
    bool stop_at_damage = false;     // Recovery drops a block's records after damage in it.
    bool ack_failed_writes = false;  // A failed write or fsync acks the stores waiting on it.
};

struct FileStoreConfig {
    std::string directory;  // Created if missing; the store owns every file in it.
    StoreLimits limits;
    SyncMode sync_mode = SyncMode::always;  // always or interval.
    bool group_commit = true;               // always: stores waiting for an fsync share the next.
    Duration sync_interval = Duration::seconds(120);  // interval: nats-server's default 2 min.
    std::uint64_t block_size_max = 8 * 1024 * 1024;   // A block rolls before passing this.
    std::uint64_t pending_bytes_max = 64 * 1024 * 1024;  // Written-but-unacked bytes; then refuse.
    // The active block file is extended (ftruncate, sparse) this far past a write that would grow
    // it, to a multiple of record::extend_alignment, and cut back when sealed or closed: an
    // fdatasync after an append that grows the file must also write its size (141 -> 87-91 us per
    // durable append on this project's ext4 disk, bench/fsync_probe.py). 0 = off.
    std::uint64_t preallocate_bytes = 256 * 1024;
    base::Logger log;
    StoreCanaries canaries;  // canary: test-only, all off.
};

inline constexpr std::uint64_t block_size_min = 4096;
// Read cache (nats-server keeps a block's messages in memory too): a load that misses reads up
// to read_chunk_size_max bytes from the record on, so that the next loads (a consumer reading in
// order) are answered from memory; acknowledged write batches are kept the same way (a consumer
// following the tail). At most read_cache_chunks_max chunks per store, least recently used out.
inline constexpr std::uint64_t read_chunk_size_max = 256 * 1024;
inline constexpr std::size_t read_cache_chunks_max = 8;

// Lifecycle: FileStore::open() recovers the directory and hands over the store; it runs on
// env.loop; close() flushes, syncs and writes the index; destroying it without close() is a crash
// (the disk keeps what it synced). Invariants (check_invariants): the write queue is in offset
// order per block and within pending_bytes_max; every index entry points into a known block;
// the active block is the newest; live bytes per block equal the sum of its live records.
//
// Write path: each operation appends its records to the last batch of the write queue; a batch
// is written with one write_at and (mode always) made durable with one fsync, then every
// operation in it is acknowledged in order. While one batch is in flight the next one grows:
// that is group commit. With group_commit off every operation is its own batch.
class FileStore final : public StreamStore {
public:
    using OpenCallback = std::function<void(Result<std::unique_ptr<FileStore>>)>;
    // Opens (creating or recovering) the store in config.directory. Never deletes or empties
    // a damaged store: damage is skipped or truncated as recovery_report() says.
    static void open(io::Env& env, FileStoreConfig config, OpenCallback on_opened);

    ~FileStore() override;
    FileStore(const FileStore&) = delete;
    FileStore& operator=(const FileStore&) = delete;

    void store(const StoreRequest& request, StoreCallback on_stored) override;
    void load(Seq seq, LoadCallback on_loaded) override;
    void load_last(std::string_view filter, LoadCallback on_loaded) override;
    void load_next(std::string_view filter, Seq start, LoadCallback on_loaded) override;
    std::optional<Result<StoredMessage>> load_next_now(std::string_view filter, Seq start) override;
    void remove(Seq seq, StatusCallback on_removed) override;
    void purge(const PurgeRequest& request, CountCallback on_purged) override;
    void compact(Seq seq, CountCallback on_compacted) override;
    void skip(Seq first, Seq last, std::int64_t timestamp_ns, StatusCallback on_skipped) override;
    void update_limits(const StoreLimits& limits) override;
    void close(StatusCallback on_closed) override;

    StreamState state() const override;
    std::vector<SubjectState> subjects_state(std::string_view filter) const override;
    std::uint64_t count_matching(std::string_view filter, Seq first, Seq last) const override {
        return index_.count_matching(filter, first, last);
    }
    std::uint64_t removals() const override { return index_.removals(); }
    bool removed_below(std::uint64_t since, Seq bound) const override {
        return index_.removed_below(since, bound);
    }
    Durability durability() const override;
    const RecoveryReport& recovery_report() const override { return report_; }
    void add_consumer() override { consumer_count_ += 1; }
    void remove_consumer() override;

    struct Stats {
        std::uint64_t batches_written = 0;
        std::uint64_t syncs = 0;
        std::uint64_t records_written = 0;
        std::uint64_t blocks_rolled = 0;
        std::uint64_t extensions = 0;  // Block files extended ahead (preallocate_bytes).
        std::uint64_t blocks_compacted = 0;
        std::uint64_t blocks_removed = 0;
        std::uint64_t index_writes = 0;
        std::uint64_t cache_hits = 0;    // Loads answered from the read cache.
        std::uint64_t chunk_reads = 0;   // Reads issued for loads (each fills one chunk).
    };
    const Stats& stats() const { return stats_; }
    std::size_t block_count() const { return blocks_.size(); }
    // Block file paths, oldest first (tests damage them).
    std::vector<std::string> block_paths() const;
    std::string index_path() const;
    void check_invariants() const;

private:
    struct Block {
        std::uint64_t id = 0;
        std::shared_ptr<io::File> file;
        std::uint64_t size = 0;  // Bytes appended, queued writes included.
        Seq last_seq_before = 0;
        Seq physical_first = 0;  // Message records in the file (live or not); 0 = none.
        Seq physical_last = 0;
        std::uint64_t live_bytes = 0;   // Records of live messages.
        std::uint64_t erase_bytes = 0;  // Delete-marker records.
        std::vector<SeqRange> erase_ranges;
    };
    // Told when its batch is durable (or failed), in call order: a store's ack (callback + ack,
    // so a publish needs no wrapping std::function) or any other operation's callback.
    struct Waiter {
        std::function<void(Status)> done;  // Set, or else `stored`.
        StoreCallback stored;
        StoreAck ack;
        void operator()(Status status);
    };
    struct Batch {
        std::uint64_t block = 0;
        std::uint64_t offset = 0;
        std::vector<std::byte> bytes;
        std::vector<Waiter> done;
        Seq last_seq = 0;  // Highest message seq in it.
        bool sync_directory = false;
        bool in_flight = false;
    };
    struct Opening;

    FileStore(io::Env& env, FileStoreConfig config);

    // Recovery (file_store_recovery.cc).
    void recover(std::shared_ptr<Opening> opening);
    void recover_index(std::shared_ptr<Opening> opening);
    void recover_block(std::shared_ptr<Opening> opening, std::size_t position);
    void finish_recovery(std::shared_ptr<Opening> opening);
    void finish_active_block(std::shared_ptr<Opening> opening);
    void complete_open(std::shared_ptr<Opening> opening, Status status);

    // Write path.
    Status roll_if_needed(std::uint64_t length, Seq last_seq_before);
    void enqueue(std::span<const std::byte> bytes, std::function<void(Status)> done, Seq last_seq);
    void enqueue(std::span<const std::byte> bytes, Waiter waiter, Seq last_seq);
    void flush();
    void write_front_batch();
    // Cuts a block file back to its records (a sealed or closed block keeps no extended space).
    void shrink(std::uint64_t block, std::function<void()> then);
    void on_batch_written(const std::shared_ptr<io::File>& file, Status status);
    void complete_front_batch();
    void fail(std::error_code error);
    void when_drained(std::function<void()> task);
    void on_sync_timer();
    void sync_dirty(std::function<void(Status)> done);

    // Deletes.
    std::vector<SeqRange> ranges_of(std::vector<Seq> seqs) const;
    void persist_removal(const std::vector<RemovedMessage>& removed, std::vector<SeqRange> extra,
                         std::function<void(Status)> done);
    void note_removed(const std::vector<RemovedMessage>& removed);
    void append_erases(std::vector<std::byte>& out, const std::vector<SeqRange>& ranges) const;
    void arm_age_timer();
    void on_age_timer();

    // Loads and the read cache.
    struct CachedChunk {
        std::uint64_t block = 0;
        std::uint64_t offset = 0;
        std::shared_ptr<io::File> file;  // The block file read (compaction swaps in a new one).
        std::vector<std::byte> bytes;
        std::uint64_t used = 0;          // Last use, for least-recently-used eviction.
    };
    struct ChunkWaiter {
        Seq seq = 0;
        Location location;
        LoadCallback on_loaded;
    };
    struct ChunkRead {  // A chunk being read; loads inside it wait instead of reading again.
        std::uint64_t block = 0;
        std::uint64_t offset = 0;
        std::uint64_t end = 0;
        std::shared_ptr<io::File> file;
        std::vector<ChunkWaiter> waiters;
    };
    void load_seq(Seq seq, LoadCallback on_loaded);
    // The message if the write queue or the read cache holds it (or the error if it is gone);
    // nullopt if it must be read from the file.
    std::optional<Result<StoredMessage>> message_now(Seq seq);
    Result<StoredMessage> decode_message(Seq seq, const Location& location,
                                         std::span<const std::byte> bytes) const;
    void read_chunk(Seq seq, const Location& location, LoadCallback on_loaded);
    void on_chunk_read(std::uint64_t block, std::uint64_t offset, std::shared_ptr<io::File> file,
                       std::shared_ptr<std::vector<std::byte>> buffer, Result<std::size_t> read);
    void cache_chunk(std::uint64_t block, std::uint64_t offset, std::vector<std::byte> bytes);
    // Bytes of the block up to here are written (no queued or in-flight batch before it).
    std::uint64_t written_end(std::uint64_t block) const;
    template <class T>
    void reply(std::function<void(T)> callback, T value);

    // Index file and compaction (file_store_compaction.cc).
    void write_index();
    void on_index_written(Status status);
    // Runs `task` once no index write or compaction is running.
    void when_quiet(std::function<void()> task);
    void notify_quiet();
    void maybe_compact();
    void rewrite_block(std::uint64_t id);
    struct Move {
        std::uint64_t old_offset = 0;
        std::uint64_t new_offset = 0;
        std::uint32_t length = 0;
    };
    struct Rewrite {
        std::vector<std::byte> bytes;
        std::map<Seq, Move> moved;
        std::vector<SeqRange> erase_ranges;
        std::uint64_t erase_bytes = 0;
    };
    Rewrite plan_rewrite(std::uint64_t id, std::span<const std::byte> old_bytes) const;
    void swap_rewritten_block(std::uint64_t id, std::shared_ptr<io::File> file, const Rewrite& rewrite);
    void remove_first_block(std::uint64_t id);
    void end_compaction();
    std::string block_path(std::uint64_t id) const;
    Seq block_span_last(std::uint64_t id) const;

    io::Env& env_;
    FileStoreConfig config_;
    base::Logger log_;
    MessageIndex index_{StoreKind::file};
    std::map<std::uint64_t, Block> blocks_;
    std::uint64_t active_block_ = 0;
    std::deque<Batch> batches_;
    std::uint64_t pending_bytes_ = 0;
    bool flushing_ = false;
    std::vector<std::function<void()>> drained_waiters_;
    // The size of the last batch written, reserved for the next one (bounded).
    static constexpr std::size_t batch_bytes_hint_max = 256 * 1024;
    std::size_t batch_bytes_hint_ = 0;
    std::vector<std::uint64_t> dirty_blocks_;  // interval mode: written since the last fsync.
    Seq acked_last_seq_ = 0;
    std::error_code failed_;
    bool closed_ = false;
    RecoveryReport report_;
    std::uint64_t consumer_count_ = 0;
    bool age_timer_armed_ = false;
    io::TimerId age_timer_ = 0;
    bool sync_timer_armed_ = false;
    io::TimerId sync_timer_ = 0;
    bool index_writing_ = false;
    bool index_write_again_ = false;
    bool compacting_ = false;
    std::vector<std::function<void()>> quiet_waiters_;
    std::vector<std::byte> scratch_;  // Reused record encoding buffer.
    std::vector<CachedChunk> read_cache_;  // At most read_cache_chunks_max.
    std::vector<ChunkRead> chunk_reads_;
    std::uint64_t cache_clock_ = 0;
    Stats stats_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::store
