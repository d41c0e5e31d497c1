// FileStore: the write path (batches, group commit, lazy sync), deletes, limits and loads.
// Recovery is in file_store_recovery.cc, the index file and compaction in
// file_store_compaction.cc.
#include "engine/store/file_store.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "engine/base/errc.h"
#include "engine/store/errc.h"

namespace herald::store {

FileStore::FileStore(io::Env& env, FileStoreConfig config)
    : env_(env), config_(std::move(config)), log_(config_.log) {
    ASSERT(config_.sync_mode == SyncMode::always || config_.sync_mode == SyncMode::interval);
    ASSERT(config_.block_size_max >= block_size_min);
    ASSERT(config_.block_size_max <= record::record_size_max);
    ASSERT(config_.pending_bytes_max >= config_.block_size_max);
    if (config_.sync_mode == SyncMode::interval) ASSERT(config_.sync_interval.ns > 0);
}

FileStore::~FileStore() {
    if (age_timer_armed_) env_.loop.cancel(age_timer_);
    if (sync_timer_armed_) env_.loop.cancel(sync_timer_);
}

std::string FileStore::block_path(std::uint64_t id) const {
    return fmt::format("{}/blk-{:010}.dat", config_.directory, id);
}

std::string FileStore::index_path() const { return config_.directory + "/index.dat"; }

std::vector<std::string> FileStore::block_paths() const {
    std::vector<std::string> paths;
    for (const auto& [id, block] : blocks_) paths.push_back(block_path(id));
    return paths;
}

Durability FileStore::durability() const {
    return Durability{config_.sync_mode,
                      config_.sync_mode == SyncMode::always && config_.group_commit,
                      config_.sync_mode == SyncMode::interval ? config_.sync_interval : Duration{}};
}

StreamState FileStore::state() const {
    StreamState state = index_.state();
    state.consumer_count = consumer_count_;
    state.lost = report_.lost;
    state.lost_bytes = report_.lost_bytes;
    return state;
}

std::vector<SubjectState> FileStore::subjects_state(std::string_view filter) const {
    return index_.subjects_state(filter);
}

void FileStore::remove_consumer() {
    ASSERT(consumer_count_ > 0);
    consumer_count_ -= 1;
}

template <class T>
void FileStore::reply(std::function<void(T)> callback, T value) {
    ASSERT(callback);
    env_.loop.post([life = std::weak_ptr<int>(life_), callback = std::move(callback),
                    value = std::move(value)]() mutable {
        if (life.expired()) return;
        callback(std::move(value));
    });
}

// ---------------------------------------------------------------------------------------------
// Write path.

// Starts a new block when `length` more bytes would pass block_size_max. The new block's header
// is queued first; its name becomes durable (sync_directory) with the batch that carries it.
Status FileStore::roll_if_needed(std::uint64_t length, Seq last_seq_before) {
    const Block& active = blocks_.at(active_block_);
    if (active.size + length <= config_.block_size_max) return ok();
    if (active.size <= record::block_header_size) return ok();  // Nothing to gain by rolling.
    const std::uint64_t id = active_block_ + 1;
    Result<std::unique_ptr<io::File>> opened = env_.file_system.open(block_path(id), true);
    if (!opened) return opened.error();
    Block block;
    block.id = id;
    block.file = std::shared_ptr<io::File>(std::move(*opened));
    block.last_seq_before = last_seq_before;
    blocks_.emplace(id, std::move(block));
    active_block_ = id;
    stats_.blocks_rolled += 1;
    std::vector<std::byte> header;
    record::append_block_header(header, record::BlockHeader{id, last_seq_before});
    ASSERT(record::decode_block_header(header).has_value());
    const std::uint64_t sealed = id - 1;
    enqueue(header, [this, sealed](Status status) {
        if (!status) return;
        write_index();  // The sealed block's end is known now.
        shrink(sealed, [] {});  // Every write to it is done (batches complete in order).
    }, 0);
    batches_.back().sync_directory = true;
    return ok();
}

void FileStore::Waiter::operator()(Status status) {
    if (!stored) return done(status);
    if (status) return stored(ack);
    stored(status.error());
}

void FileStore::enqueue(std::span<const std::byte> bytes, std::function<void(Status)> done,
                        Seq last_seq) {
    ASSERT(done);
    enqueue(bytes, Waiter{std::move(done), nullptr, {}}, last_seq);
}

void FileStore::enqueue(std::span<const std::byte> bytes, Waiter waiter, Seq last_seq) {
    ASSERT(!bytes.empty());
    ASSERT(waiter.done || waiter.stored);
    Block& active = blocks_.at(active_block_);
    const bool join = !batches_.empty() && !batches_.back().in_flight &&
                      batches_.back().block == active_block_ &&
                      (config_.group_commit || config_.sync_mode == SyncMode::interval ||
                       batches_.back().done.empty());
    if (!join) {
        batches_.push_back(Batch{active_block_, active.size, {}, {}, 0, false, false});
        // As large as the last batch written: a busy store appends without reallocating.
        batches_.back().bytes.reserve(std::max(bytes.size(), batch_bytes_hint_));
    }
    Batch& batch = batches_.back();
    ASSERT(batch.offset + batch.bytes.size() == active.size);
    batch.bytes.insert(batch.bytes.end(), bytes.begin(), bytes.end());
    if (config_.sync_mode == SyncMode::interval) {
        // Lazy, as nats-server (it acks a publish once the record is in its block buffer, before
        // write(2)): acknowledged now, in call order; written at once, fsynced every
        // sync_interval. A failed write later still stops the store (fail()).
        if (waiter.stored) {
            reply<Result<StoreAck>>(std::move(waiter.stored), waiter.ack);
        } else {
            reply<Status>(std::move(waiter.done), ok());
        }
    } else {
        batch.done.push_back(std::move(waiter));
    }
    batch.last_seq = std::max(batch.last_seq, last_seq);
    active.size += bytes.size();
    pending_bytes_ += bytes.size();
    stats_.records_written += 1;
    flush();
}

void FileStore::flush() {
    if (flushing_ || batches_.empty() || failed_) return;
    Batch& batch = batches_.front();
    ASSERT(!batch.in_flight);
    batch.in_flight = true;
    flushing_ = true;
    const auto& file = blocks_.at(batch.block).file;
    const std::uint64_t end = batch.offset + batch.bytes.size();
    if (config_.preallocate_bytes == 0 || end <= file->size()) return write_front_batch();
    // Extend first (once per preallocate_bytes), then write into the extended space.
    constexpr std::uint64_t alignment = record::extend_alignment;
    const std::uint64_t limit = std::max(config_.block_size_max, end);
    const std::uint64_t target =
        (std::min(end + config_.preallocate_bytes, limit) + alignment - 1) / alignment * alignment;
    ASSERT(target >= end);
    stats_.extensions += 1;
    file->truncate(target, [this, life = std::weak_ptr<int>(life_)](Status extended) {
        if (life.expired()) return;
        if (!extended) return fail(extended.error());
        write_front_batch();
    });
}

void FileStore::write_front_batch() {
    ASSERT(flushing_);
    ASSERT(!batches_.empty());
    const Batch& batch = batches_.front();
    auto file = blocks_.at(batch.block).file;
    stats_.batches_written += 1;
    file->write_at(batch.offset, batch.bytes,
                   [this, life = std::weak_ptr<int>(life_), file](Status status) {
                       if (life.expired()) return;
                       on_batch_written(file, status);
                   });
}

// `file` is the one written: compaction leaves a block alone while a batch for it is queued or in
// flight (maybe_compact), so it is still the block's file.
void FileStore::on_batch_written(const std::shared_ptr<io::File>& file, Status status) {
    if (!status) return fail(status.error());
    ASSERT(flushing_);
    ASSERT(!batches_.empty());
    const Batch& batch = batches_.front();
    ASSERT(blocks_.contains(batch.block));
    ASSERT(blocks_.at(batch.block).file == file);
    const bool sync_directory = batch.sync_directory;
    auto after_directory = [this, life = std::weak_ptr<int>(life_)](Status synced) {
        if (life.expired()) return;
        if (!synced) return fail(synced.error());
        complete_front_batch();
    };
    auto then_directory = [this, life = std::weak_ptr<int>(life_), sync_directory,
                           after_directory](Status synced) mutable {
        if (life.expired()) return;
        if (!synced) return fail(synced.error());
        if (!sync_directory) return complete_front_batch();
        stats_.syncs += 1;
        env_.file_system.sync_directory(config_.directory, std::move(after_directory));
    };
    if (config_.sync_mode == SyncMode::always && !config_.canaries.ack_before_fsync) {  // canary: test-only
        stats_.syncs += 1;
        file->sync(std::move(then_directory));
        return;
    }
    // interval: acknowledged once written; the sync timer makes it durable later.
    if (std::find(dirty_blocks_.begin(), dirty_blocks_.end(), batch.block) == dirty_blocks_.end()) {
        dirty_blocks_.push_back(batch.block);
    }
    if (!sync_timer_armed_) {
        sync_timer_armed_ = true;
        sync_timer_ = env_.loop.schedule(config_.sync_interval, [this, life = std::weak_ptr<int>(life_)] {
            if (life.expired()) return;
            sync_timer_armed_ = false;
            on_sync_timer();
        });
    }
    then_directory(ok());
}

void FileStore::complete_front_batch() {
    ASSERT(flushing_);
    ASSERT(!batches_.empty());
    Batch batch = std::move(batches_.front());
    batches_.pop_front();
    ASSERT(batch.in_flight);
    ASSERT(pending_bytes_ >= batch.bytes.size());
    pending_bytes_ -= batch.bytes.size();
    acked_last_seq_ = std::max(acked_last_seq_, batch.last_seq);
    batch_bytes_hint_ = std::min<std::size_t>(batch.bytes.size(), batch_bytes_hint_max);
    flushing_ = false;
    // Written: later loads of its records come from the read cache instead of the file.
    if (blocks_.contains(batch.block)) cache_chunk(batch.block, batch.offset, std::move(batch.bytes));
    flush();
    for (auto& done : batch.done) done(ok());
    if (!flushing_ && batches_.empty() && !drained_waiters_.empty()) {
        auto waiters = std::move(drained_waiters_);
        drained_waiters_.clear();
        for (auto& waiter : waiters) waiter();
    }
}

// A failed write or fsync: nothing queued can be promised any more (after EIO the kernel may
// have dropped the dirty pages, so retrying the fsync proves nothing). Fail everything pending
// and refuse further writes; a restart recovers what the disk kept.
void FileStore::fail(std::error_code error) {
    ASSERT(error);
    if (!failed_) LOG_ERROR(log_, "store failed: {}; refusing writes until restart", error.message());
    failed_ = error;
    std::vector<Waiter> pending;
    for (Batch& batch : batches_) {
        for (auto& done : batch.done) pending.push_back(std::move(done));
    }
    batches_.clear();
    pending_bytes_ = 0;
    flushing_ = false;
    for (auto& done : pending) done(config_.canaries.ack_failed_writes ? ok() : Status(error));  // canary: test-only
    auto waiters = std::move(drained_waiters_);
    drained_waiters_.clear();
    for (auto& waiter : waiters) waiter();
}

void FileStore::when_drained(std::function<void()> task) {
    if (!flushing_ && batches_.empty()) {
        env_.loop.post([life = std::weak_ptr<int>(life_), task = std::move(task)] {
            if (!life.expired()) task();
        });
        return;
    }
    drained_waiters_.push_back(std::move(task));
}

void FileStore::on_sync_timer() {
    sync_dirty([this](Status status) {
        if (!status) fail(status.error());
    });
}

void FileStore::sync_dirty(std::function<void(Status)> done) {
    auto blocks = std::move(dirty_blocks_);
    dirty_blocks_.clear();
    if (blocks.empty()) {
        return reply<Status>(std::move(done), ok());
    }
    auto remaining = std::make_shared<std::size_t>(blocks.size());
    auto first_error = std::make_shared<std::error_code>();
    for (std::uint64_t id : blocks) {
        auto found = blocks_.find(id);
        if (found == blocks_.end()) {  // Removed meanwhile: nothing to sync.
            *remaining -= 1;
            if (*remaining == 0) reply<Status>(std::move(done), ok());
            continue;
        }
        stats_.syncs += 1;
        auto file = found->second.file;
        file->sync([life = std::weak_ptr<int>(life_), remaining, first_error, done, file](Status status) {
            if (life.expired()) return;
            if (!status && !*first_error) *first_error = status.error();
            *remaining -= 1;
            if (*remaining == 0) done(*first_error ? Status(*first_error) : ok());
        });
    }
}

void FileStore::store(const StoreRequest& request, StoreCallback on_stored) {
    if (closed_) return reply<Result<StoreAck>>(std::move(on_stored), Errc::closed);
    if (failed_) return reply<Result<StoreAck>>(std::move(on_stored), Errc::failed);
    if (request.subject.empty() || request.subject.size() > record::subject_size_max) {
        return reply<Result<StoreAck>>(std::move(on_stored), base::Errc::invalid_argument);
    }
    const std::uint64_t size =
        message_size(request.subject.size(), request.headers.size(), request.payload.size());
    if (size > config_.block_size_max - record::block_header_size) {
        return reply<Result<StoreAck>>(std::move(on_stored), Errc::message_too_large);
    }
    if (pending_bytes_ + size > config_.pending_bytes_max) {
        return reply<Result<StoreAck>>(std::move(on_stored), Errc::write_queue_full);
    }
    const std::uint64_t bytes = record_bytes(StoreKind::file, request.subject.size(),
                                             request.headers.size(), request.payload.size());
    Result<Seq> seq = index_.admit(request.subject,
                                   request.headers.size() + request.payload.size(), request.seq,
                                   config_.limits);
    if (!seq) return reply<Result<StoreAck>>(std::move(on_stored), seq.error());
    if (Status rolled = roll_if_needed(size, *seq - 1); !rolled) {
        return reply<Result<StoreAck>>(std::move(on_stored), rolled.error());
    }
    const std::int64_t timestamp_ns =
        request.timestamp_ns != 0 ? request.timestamp_ns : env_.clock.realtime_ns();
    scratch_.clear();
    const std::uint32_t length = record::append_message(scratch_, *seq, timestamp_ns, request.subject,
                                                        request.headers, request.payload);
    record::Record check;
    ASSERT(record::decode(scratch_, check) == record::Decode::ok);  // Checksum before write.
    Block& active = blocks_.at(active_block_);
    index_.insert(*seq, request.subject, timestamp_ns, bytes,
                  Location{active_block_, active.size, length});
    active.live_bytes += length;
    if (active.physical_first == 0) active.physical_first = *seq;
    active.physical_last = *seq;
    const std::vector<RemovedMessage> removed = index_.enforce_limits(config_.limits, request.subject);
    if (!removed.empty()) {
        std::vector<Seq> seqs;
        for (const auto& message : removed) seqs.push_back(message.seq);
        append_erases(scratch_, ranges_of(std::move(seqs)));
        note_removed(removed);
    }
    const StoreAck ack{*seq, timestamp_ns};
    enqueue(scratch_, Waiter{nullptr, std::move(on_stored), ack}, *seq);
    arm_age_timer();
    index_.check_invariants();
}

// ---------------------------------------------------------------------------------------------
// Deletes.

// Sorted seqs as ranges; a range also spans seqs that are already gone (no live message between),
// so a purge of a stream with interior deletes is one range.
std::vector<SeqRange> FileStore::ranges_of(std::vector<Seq> seqs) const {
    std::sort(seqs.begin(), seqs.end());
    std::vector<SeqRange> ranges;
    for (Seq seq : seqs) {
        if (!ranges.empty()) {
            SeqRange& last = ranges.back();
            const auto next_live = index_.entries().upper_bound(last.last);
            if (next_live == index_.entries().end() || next_live->first > seq) {
                last.last = seq;
                continue;
            }
        }
        ranges.push_back(SeqRange{seq, seq});
    }
    return ranges;
}

void FileStore::append_erases(std::vector<std::byte>& out, const std::vector<SeqRange>& ranges) const {
    const std::int64_t now_ns = env_.clock.realtime_ns();
    for (std::size_t start = 0; start < ranges.size(); start += record::erase_ranges_per_record_max) {
        const std::size_t count = std::min(record::erase_ranges_per_record_max, ranges.size() - start);
        record::append_erase(out, now_ns, std::span<const SeqRange>(ranges).subspan(start, count));
    }
}

void FileStore::note_removed(const std::vector<RemovedMessage>& removed) {
    bool compactable = false;
    for (const RemovedMessage& message : removed) {
        auto found = blocks_.find(message.location.block);
        ASSERT(found != blocks_.end());
        ASSERT(found->second.live_bytes >= message.location.length);
        found->second.live_bytes -= message.location.length;
        compactable = compactable || found->first != active_block_;
    }
    if (compactable) {
        env_.loop.post([this, life = std::weak_ptr<int>(life_)] {
            if (!life.expired()) maybe_compact();
        });
    }
}

// Writes delete markers for `removed` (plus `extra` ranges, e.g. a compact past the end), then
// calls `done` once they are durable.
void FileStore::persist_removal(const std::vector<RemovedMessage>& removed, std::vector<SeqRange> extra,
                                std::function<void(Status)> done) {
    std::vector<Seq> seqs;
    for (const auto& message : removed) seqs.push_back(message.seq);
    std::vector<SeqRange> ranges = ranges_of(std::move(seqs));
    ranges.insert(ranges.end(), extra.begin(), extra.end());
    note_removed(removed);
    if (ranges.empty()) return reply<Status>(std::move(done), ok());
    std::vector<std::byte> bytes;
    append_erases(bytes, ranges);
    if (Status rolled = roll_if_needed(bytes.size(), index_.last_seq()); !rolled) {
        // The removal is done in memory; without its marker a restart would bring it back.
        fail(rolled.error());
        return reply<Status>(std::move(done), rolled.error());
    }
    Block& active = blocks_.at(active_block_);
    active.erase_bytes += bytes.size();
    active.erase_ranges.insert(active.erase_ranges.end(), ranges.begin(), ranges.end());
    enqueue(bytes, std::move(done), 0);
}

void FileStore::remove(Seq seq, StatusCallback on_removed) {
    if (closed_) return reply<Status>(std::move(on_removed), Errc::closed);
    if (failed_) return reply<Status>(std::move(on_removed), Errc::failed);
    auto removed = index_.remove(seq);
    if (!removed) return reply<Status>(std::move(on_removed), Errc::message_not_found);
    persist_removal({*removed}, {}, std::move(on_removed));
}

void FileStore::purge(const PurgeRequest& request, CountCallback on_purged) {
    if (closed_) return reply<Result<std::uint64_t>>(std::move(on_purged), Errc::closed);
    if (failed_) return reply<Result<std::uint64_t>>(std::move(on_purged), Errc::failed);
    const Seq last_before = index_.last_seq();
    auto removed = index_.purge(request);
    if (!removed) return reply<Result<std::uint64_t>>(std::move(on_purged), removed.error());
    std::vector<SeqRange> extra;
    if (index_.last_seq() > last_before) extra.push_back(SeqRange{last_before + 1, index_.last_seq()});
    const std::uint64_t count = removed->size();
    persist_removal(*removed, std::move(extra), [on_purged = std::move(on_purged), count](Status status) {
        if (status) return on_purged(count);
        on_purged(status.error());
    });
}

void FileStore::compact(Seq seq, CountCallback on_compacted) {
    if (closed_) return reply<Result<std::uint64_t>>(std::move(on_compacted), Errc::closed);
    if (failed_) return reply<Result<std::uint64_t>>(std::move(on_compacted), Errc::failed);
    const Seq last_before = index_.last_seq();
    const std::vector<RemovedMessage> removed = index_.compact(seq);
    std::vector<SeqRange> extra;
    if (index_.last_seq() > last_before) extra.push_back(SeqRange{last_before + 1, index_.last_seq()});
    const std::uint64_t count = removed.size();
    persist_removal(removed, std::move(extra),
                    [on_compacted = std::move(on_compacted), count](Status status) {
                        if (status) return on_compacted(count);
                        on_compacted(status.error());
                    });
}

// One erase record for the whole range whose seq field names the skip (record.h), so that
// recovery accounts for every skipped seq and restores last_seq and last_ts; the batch carries
// `last` so that the index file counts it as acknowledged once durable.
void FileStore::skip(Seq first, Seq last, std::int64_t timestamp_ns, StatusCallback on_skipped) {
    if (closed_) return reply<Status>(std::move(on_skipped), Errc::closed);
    if (failed_) return reply<Status>(std::move(on_skipped), Errc::failed);
    if (first == 0 || first > last) return reply<Status>(std::move(on_skipped), base::Errc::invalid_argument);
    if (first != index_.last_seq() + 1) return reply<Status>(std::move(on_skipped), Errc::sequence_mismatch);
    const std::int64_t now_ns = timestamp_ns != 0 ? timestamp_ns : env_.clock.realtime_ns();
    std::vector<std::byte> bytes;
    const SeqRange range{first, last};
    record::append_erase(bytes, now_ns, std::span<const SeqRange>(&range, 1), last);
    if (pending_bytes_ + bytes.size() > config_.pending_bytes_max) {
        return reply<Status>(std::move(on_skipped), Errc::write_queue_full);
    }
    if (Status rolled = roll_if_needed(bytes.size(), first - 1); !rolled) {
        return reply<Status>(std::move(on_skipped), rolled.error());
    }
    index_.raise_last_seq(last, now_ns);
    Block& active = blocks_.at(active_block_);
    active.erase_bytes += bytes.size();
    active.erase_ranges.push_back(range);
    enqueue(bytes, std::move(on_skipped), last);
    index_.check_invariants();
}

void FileStore::update_limits(const StoreLimits& limits) {
    config_.limits = limits;
    if (closed_ || failed_) return;
    std::vector<RemovedMessage> removed;
    for (const auto& subject : index_.subjects_state("")) {
        auto more = index_.enforce_limits(config_.limits, subject.subject);
        removed.insert(removed.end(), more.begin(), more.end());
    }
    auto more = index_.enforce_limits(config_.limits, "");
    removed.insert(removed.end(), more.begin(), more.end());
    if (!removed.empty()) persist_removal(removed, {}, [](Status) {});
    if (age_timer_armed_) {
        env_.loop.cancel(age_timer_);
        age_timer_armed_ = false;
    }
    on_age_timer();
}

void FileStore::arm_age_timer() {
    if (age_timer_armed_ || closed_ || failed_ || config_.limits.max_age.ns == 0 ||
        index_.messages() == 0) {
        return;
    }
    const std::int64_t due_ns =
        index_.first_timestamp_ns() + static_cast<std::int64_t>(config_.limits.max_age.ns);
    const std::int64_t wait_ns = due_ns - env_.clock.realtime_ns();
    age_timer_armed_ = true;
    age_timer_ = env_.loop.schedule(Duration{wait_ns > 0 ? static_cast<std::uint64_t>(wait_ns) : 0},
                                    [this, life = std::weak_ptr<int>(life_)] {
                                        if (life.expired()) return;
                                        age_timer_armed_ = false;
                                        on_age_timer();
                                    });
}

void FileStore::on_age_timer() {
    if (closed_ || failed_) return;
    const auto removed = index_.expire(env_.clock.realtime_ns(), config_.limits.max_age);
    if (!removed.empty()) persist_removal(removed, {}, [](Status) {});
    arm_age_timer();
}

// ---------------------------------------------------------------------------------------------
// Loads.

Result<StoredMessage> FileStore::decode_message(Seq seq, const Location& location,
                                                std::span<const std::byte> bytes) const {
    record::Record record;
    if (record::decode(bytes, record) != record::Decode::ok || record.kind != record::Kind::message ||
        record.seq != seq || record.length != location.length) {
        LOG_ERROR(log_, "record at block {} offset {} failed its checksum", location.block,
                  location.offset);
        return Errc::corrupt;  // Checksum after read.
    }
    return StoredMessage{std::string(record.subject), std::string(record.headers),
                         std::string(record.payload), record.seq, record.timestamp_ns};
}

std::optional<Result<StoredMessage>> FileStore::message_now(Seq seq) {
    if (closed_) return Result<StoredMessage>(Errc::closed);
    const Location* found = seq == 0 ? nullptr : index_.location(seq);
    if (found == nullptr) {
        return Result<StoredMessage>(seq > index_.last_seq() ? Errc::end_of_stream
                                                             : Errc::message_not_found);
    }
    const Location location = *found;
    // Not yet written (or written but not yet acked): serve from the write queue.
    for (const Batch& batch : batches_) {
        if (batch.block == location.block && location.offset >= batch.offset &&
            location.offset + location.length <= batch.offset + batch.bytes.size()) {
            const auto bytes = std::span<const std::byte>(batch.bytes)
                                   .subspan(location.offset - batch.offset, location.length);
            return decode_message(seq, location, bytes);
        }
    }
    const auto block = blocks_.find(location.block);
    ASSERT(block != blocks_.end());
    for (CachedChunk& chunk : read_cache_) {
        if (chunk.block == location.block && chunk.file == block->second.file &&
            location.offset >= chunk.offset &&
            location.offset + location.length <= chunk.offset + chunk.bytes.size()) {
            chunk.used = ++cache_clock_;
            stats_.cache_hits += 1;
            const auto bytes = std::span<const std::byte>(chunk.bytes)
                                   .subspan(location.offset - chunk.offset, location.length);
            return decode_message(seq, location, bytes);
        }
    }
    return std::nullopt;
}

void FileStore::load_seq(Seq seq, LoadCallback on_loaded) {
    if (auto now = message_now(seq)) {
        return reply<Result<StoredMessage>>(std::move(on_loaded), std::move(*now));
    }
    read_chunk(seq, index_.find(seq)->location, std::move(on_loaded));
}

std::uint64_t FileStore::written_end(std::uint64_t block) const {
    for (const Batch& batch : batches_) {
        if (batch.block == block) return batch.offset;  // Batches are in offset order.
    }
    return blocks_.at(block).size;
}

// A cache miss: read from the record on, up to read_chunk_size_max of written bytes, unless a
// read in flight already covers the record (then wait for it).
void FileStore::read_chunk(Seq seq, const Location& location, LoadCallback on_loaded) {
    std::shared_ptr<io::File> file = blocks_.at(location.block).file;
    for (ChunkRead& read : chunk_reads_) {
        if (read.block == location.block && read.file == file && location.offset >= read.offset &&
            location.offset + location.length <= read.end) {
            read.waiters.push_back(ChunkWaiter{seq, location, std::move(on_loaded)});
            return;
        }
    }
    const std::uint64_t written = written_end(location.block);
    MAYBE(written < location.offset + location.length);  // Only if the index and queue disagree.
    std::uint64_t length = location.length;
    if (written > location.offset) {
        length = std::max<std::uint64_t>(length, std::min(read_chunk_size_max, written - location.offset));
    }
    ChunkRead chunk_read{location.block, location.offset, location.offset + length, file, {}};
    chunk_read.waiters.push_back(ChunkWaiter{seq, location, std::move(on_loaded)});
    chunk_reads_.push_back(std::move(chunk_read));
    stats_.chunk_reads += 1;
    auto buffer = std::make_shared<std::vector<std::byte>>(length);
    file->read_at(location.offset, *buffer,
                  [this, life = std::weak_ptr<int>(life_), block = location.block,
                   offset = location.offset, file, buffer](Result<std::size_t> read) {
                      if (life.expired()) return;
                      on_chunk_read(block, offset, file, buffer, read);
                  });
}

void FileStore::on_chunk_read(std::uint64_t block, std::uint64_t offset,
                              std::shared_ptr<io::File> file,
                              std::shared_ptr<std::vector<std::byte>> buffer,
                              Result<std::size_t> read) {
    const auto it = std::find_if(chunk_reads_.begin(), chunk_reads_.end(), [&](const ChunkRead& r) {
        return r.block == block && r.offset == offset && r.file == file;
    });
    ASSERT(it != chunk_reads_.end());
    std::vector<ChunkWaiter> waiters = std::move(it->waiters);
    chunk_reads_.erase(it);
    ASSERT(!waiters.empty());
    if (!read) {
        for (ChunkWaiter& waiter : waiters) waiter.on_loaded(read.error());
        return;
    }
    ASSERT(*read <= buffer->size());
    buffer->resize(*read);
    // Every waiter's record was read from the same file as its location names.
    const std::weak_ptr<int> life = life_;
    for (ChunkWaiter& waiter : waiters) {
        if (life.expired()) return;  // A callback destroyed the store.
        const Location& location = waiter.location;
        if (location.offset + location.length > offset + buffer->size()) {
            LOG_ERROR(log_, "block {} ends before the record at offset {}", location.block,
                      location.offset);
            waiter.on_loaded(Errc::corrupt);
            continue;
        }
        const auto bytes = std::span<const std::byte>(*buffer).subspan(location.offset - offset,
                                                                      location.length);
        waiter.on_loaded(decode_message(waiter.seq, location, bytes));
    }
    if (life.expired()) return;
    // Cache it only if the block still has this file (no compaction swapped it meanwhile).
    const auto current = blocks_.find(block);
    if (!closed_ && current != blocks_.end() && current->second.file == file) {
        cache_chunk(block, offset, std::move(*buffer));
    }
}

// Adds bytes at `offset` of the block's current file to the read cache: appended to the chunk
// that ends there when it stays within read_chunk_size_max, else as a new chunk in place of the
// least recently used one.
void FileStore::cache_chunk(std::uint64_t block, std::uint64_t offset, std::vector<std::byte> bytes) {
    if (bytes.empty() || bytes.size() > read_chunk_size_max) return;
    const std::shared_ptr<io::File>& file = blocks_.at(block).file;
    for (CachedChunk& chunk : read_cache_) {
        if (chunk.block == block && chunk.file == file && chunk.offset + chunk.bytes.size() == offset &&
            chunk.bytes.size() + bytes.size() <= read_chunk_size_max) {
            chunk.bytes.insert(chunk.bytes.end(), bytes.begin(), bytes.end());
            chunk.used = ++cache_clock_;
            return;
        }
    }
    CachedChunk added{block, offset, file, std::move(bytes), ++cache_clock_};
    if (read_cache_.size() < read_cache_chunks_max) {
        read_cache_.push_back(std::move(added));
        return;
    }
    auto oldest = std::min_element(read_cache_.begin(), read_cache_.end(),
                                   [](const CachedChunk& a, const CachedChunk& b) { return a.used < b.used; });
    *oldest = std::move(added);
    ASSERT(read_cache_.size() <= read_cache_chunks_max);
}

void FileStore::load(Seq seq, LoadCallback on_loaded) { load_seq(seq, std::move(on_loaded)); }

void FileStore::load_last(std::string_view filter, LoadCallback on_loaded) {
    const Seq seq = index_.last_matching(filter);
    if (seq == 0) return reply<Result<StoredMessage>>(std::move(on_loaded), Errc::message_not_found);
    load_seq(seq, std::move(on_loaded));
}

void FileStore::load_next(std::string_view filter, Seq start, LoadCallback on_loaded) {
    const Seq seq = index_.next_matching(filter, start);
    if (seq == 0) return reply<Result<StoredMessage>>(std::move(on_loaded), Errc::end_of_stream);
    load_seq(seq, std::move(on_loaded));
}

std::optional<Result<StoredMessage>> FileStore::load_next_now(std::string_view filter, Seq start) {
    if (closed_) return Result<StoredMessage>(Errc::closed);
    const Seq seq = index_.next_matching(filter, start);
    if (seq == 0) return Result<StoredMessage>(Errc::end_of_stream);
    return message_now(seq);
}

// ---------------------------------------------------------------------------------------------
// Close.

void FileStore::close(StatusCallback on_closed) {
    if (closed_) return reply<Status>(std::move(on_closed), Errc::closed);
    closed_ = true;
    if (age_timer_armed_) env_.loop.cancel(age_timer_);
    age_timer_armed_ = false;
    if (sync_timer_armed_) env_.loop.cancel(sync_timer_);
    sync_timer_armed_ = false;
    auto finish = [this](StatusCallback done) {
        sync_dirty([this, done = std::move(done)](Status synced) mutable {
            if (!synced) return done(synced);
            write_index();
            when_quiet([this, done = std::move(done)]() mutable { done(failed_ ? Status(failed_) : ok()); });
        });
    };
    when_drained([this, finish, on_closed = std::move(on_closed)]() mutable {
        if (failed_) return on_closed(failed_);
        shrink(active_block_, [finish, on_closed = std::move(on_closed)]() mutable { finish(std::move(on_closed)); });
    });
}

// Not needed for safety (recovery reads the zeros of an extended file as unused space and cuts
// the active block back itself), so a failure is only logged.
void FileStore::shrink(std::uint64_t block, std::function<void()> then) {
    const auto found = blocks_.find(block);
    if (found == blocks_.end() || found->second.file->size() <= found->second.size) return then();
    found->second.file->truncate(found->second.size, [this, life = std::weak_ptr<int>(life_), block,
                                                      then = std::move(then)](Status cut) {
        if (life.expired()) return;
        if (!cut) LOG_WARN(log_, "block {}: could not cut back extended space: {}", block, cut.error().message());
        then();
    });
}

void FileStore::check_invariants() const {
    ASSERT(blocks_.contains(active_block_));
    ASSERT(blocks_.rbegin()->first == active_block_);
    ASSERT(pending_bytes_ <= config_.pending_bytes_max);
    if (!flushing_) {
        for (const Batch& batch : batches_) ASSERT(!batch.in_flight);
    }
    index_.check_invariants();
    EXPENSIVE_ASSERT(([this] {
        std::map<std::uint64_t, std::uint64_t> live;
        for (const auto& [seq, entry] : index_.entries()) live[entry.location.block] += entry.location.length;
        for (const auto& [id, block] : blocks_) {
            if (live[id] != block.live_bytes) return false;
        }
        return true;
    }()));
}

}  // namespace herald::store
