// FileStore background work: the index file, and compaction of deleted space. A sealed block whose
// dead message bytes reach half its size is rewritten to a temporary file (its live records copied
// after a checksum check, plus delete markers that account for every seq it no longer holds),
// synced and renamed over the original; the oldest block is removed once nothing in it is live.
// One of these runs at a time; the active block is never touched.
#include <algorithm>
#include <utility>

#include "engine/store/errc.h"
#include "engine/store/file_store.h"

namespace herald::store {

void FileStore::when_quiet(std::function<void()> task) {
    if (!index_writing_ && !compacting_) {
        env_.loop.post([life = std::weak_ptr<int>(life_), task = std::move(task)] {
            if (!life.expired()) task();
        });
        return;
    }
    quiet_waiters_.push_back(std::move(task));
}

void FileStore::notify_quiet() {
    if (index_writing_ || compacting_ || quiet_waiters_.empty()) return;
    auto waiters = std::move(quiet_waiters_);
    quiet_waiters_.clear();
    for (auto& waiter : waiters) waiter();
}

// Writes index.tmp, syncs it and renames it over index.dat. Serialized: a request while one runs
// writes again afterwards with the newer content.
void FileStore::write_index() {
    if (index_writing_) {
        index_write_again_ = true;
        return;
    }
    index_writing_ = true;
    record::IndexContent content;
    content.acked_last_seq = acked_last_seq_;
    for (const auto& [id, block] : blocks_) content.blocks.push_back(record::BlockHeader{id, block.last_seq_before});
    auto bytes = std::make_shared<std::vector<std::byte>>(record::encode_index(content));
    ASSERT(record::decode_index(*bytes) == content);  // Checksum before write.
    const std::string temporary = config_.directory + "/index.tmp";
    Result<std::unique_ptr<io::File>> opened = env_.file_system.open(temporary, true);
    if (!opened) return on_index_written(opened.error());
    auto file = std::shared_ptr<io::File>(std::move(*opened));
    auto life = std::weak_ptr<int>(life_);
    file->truncate(0, [this, life, file, bytes, temporary](Status truncated) {
        if (life.expired()) return;
        if (!truncated) return on_index_written(truncated);
        file->write_at(0, *bytes, [this, life, file, bytes, temporary](Status written) {
            if (life.expired()) return;
            if (!written) return on_index_written(written);
            file->sync([this, life, file, temporary](Status synced) {
                if (life.expired()) return;
                if (!synced) return on_index_written(synced);
                if (Status renamed = env_.file_system.rename(temporary, index_path()); !renamed) {
                    return on_index_written(renamed);
                }
                env_.file_system.sync_directory(config_.directory, [this, life](Status directory) {
                    if (life.expired()) return;
                    on_index_written(directory);
                });
            });
        });
    });
}

// The index is a cross-check, not the data: a failure to write it is logged, and recovery
// rebuilds it from the blocks.
void FileStore::on_index_written(Status status) {
    ASSERT(index_writing_);
    index_writing_ = false;
    stats_.index_writes += 1;
    if (!status) LOG_WARN(log_, "index write failed: {}", status.error().message());
    if (index_write_again_) {
        index_write_again_ = false;
        write_index();
        return;
    }
    notify_quiet();
}

Seq FileStore::block_span_last(std::uint64_t id) const {
    auto next = blocks_.upper_bound(id);
    return next == blocks_.end() ? index_.last_seq() : next->second.last_seq_before;
}

void FileStore::maybe_compact() {
    if (compacting_ || closed_ || failed_) return;
    for (const auto& [id, block] : blocks_) {
        if (id == active_block_) break;
        // Not while a batch for it is queued or in flight (it rolled since): removing or
        // rewriting it then would lose the batch's records. Blocks after it wait too.
        if (written_end(id) < block.size) break;
        if (block.live_bytes == 0 && id == blocks_.begin()->first) return remove_first_block(id);
        ASSERT(block.size >= record::block_header_size + block.live_bytes + block.erase_bytes);
        const std::uint64_t dead = block.size - record::block_header_size - block.live_bytes - block.erase_bytes;
        if (dead > 0 && dead * 2 >= block.size) return rewrite_block(id);
    }
}

void FileStore::end_compaction() {
    ASSERT(compacting_);
    compacting_ = false;
    write_index();
    env_.loop.post([this, life = std::weak_ptr<int>(life_)] {
        if (!life.expired()) maybe_compact();
    });
    notify_quiet();
}

void FileStore::remove_first_block(std::uint64_t id) {
    ASSERT(id == blocks_.begin()->first);
    ASSERT(id != active_block_);
    ASSERT(blocks_.at(id).live_bytes == 0);
    // Nothing of the block's span is live any more.
    const auto first_live = index_.entries().lower_bound(blocks_.at(id).last_seq_before + 1);
    ASSERT(first_live == index_.entries().end() || first_live->first > block_span_last(id));
    compacting_ = true;
    blocks_.erase(id);
    stats_.blocks_removed += 1;
    if (Status removed = env_.file_system.remove(block_path(id)); !removed) {
        LOG_WARN(log_, "cannot remove empty block {}: {}", id, removed.error().message());
    }
    env_.file_system.sync_directory(config_.directory, [this, life = std::weak_ptr<int>(life_)](Status status) {
        if (life.expired()) return;
        if (!status) LOG_WARN(log_, "directory sync after block removal failed: {}", status.error().message());
        end_compaction();
    });
}

// The new content of block `id`: header, its live records, then delete markers for every other
// seq of its span (so recovery can account for them) and the markers that still delete messages
// in other blocks.
FileStore::Rewrite FileStore::plan_rewrite(std::uint64_t id, std::span<const std::byte> old_bytes) const {
    const Block& block = blocks_.at(id);
    Rewrite rewrite;
    record::append_block_header(rewrite.bytes, record::BlockHeader{id, block.last_seq_before});
    const record::BlockScan scan = record::scan_block(old_bytes);  // Checksum after read.
    for (const auto& [offset, rec] : scan.records) {
        if (rec.kind != record::Kind::message) continue;
        const MessageIndex::Entry* entry = index_.find(rec.seq);
        if (entry == nullptr || entry->location.block != id || entry->location.offset != offset) continue;
        rewrite.moved[rec.seq] = Move{offset, rewrite.bytes.size(), rec.length};
        const auto source = old_bytes.subspan(offset, rec.length);
        rewrite.bytes.insert(rewrite.bytes.end(), source.begin(), source.end());
    }
    const Seq span_first = block.last_seq_before + 1;
    const Seq span_last = block_span_last(id);
    Seq next = span_first;
    for (auto it = index_.entries().lower_bound(span_first); it != index_.entries().end() && it->first <= span_last; ++it) {
        if (it->first > next) rewrite.erase_ranges.push_back(SeqRange{next, it->first - 1});
        next = it->first + 1;
    }
    if (span_first <= span_last && next <= span_last) rewrite.erase_ranges.push_back(SeqRange{next, span_last});
    for (const SeqRange& range : block.erase_ranges) {
        const bool needed = std::any_of(blocks_.begin(), blocks_.end(), [&](const auto& other) {
            const Block& b = other.second;
            return other.first != id && b.physical_first != 0 && range.first <= b.physical_last &&
                   b.physical_first <= range.last;
        });
        if (needed) rewrite.erase_ranges.push_back(range);
    }
    const std::size_t before = rewrite.bytes.size();
    if (!rewrite.erase_ranges.empty()) append_erases(rewrite.bytes, rewrite.erase_ranges);
    rewrite.erase_bytes = rewrite.bytes.size() - before;
    return rewrite;
}

void FileStore::rewrite_block(std::uint64_t id) {
    compacting_ = true;
    auto old_file = blocks_.at(id).file;
    auto buffer = std::make_shared<std::vector<std::byte>>(blocks_.at(id).size);
    auto life = std::weak_ptr<int>(life_);
    old_file->read_at(0, *buffer, [this, life, id, old_file, buffer](Result<std::size_t> read) {
        if (life.expired()) return;
        if (!blocks_.contains(id) || closed_ || failed_) return end_compaction();
        if (!read || *read != buffer->size()) {
            LOG_ERROR(log_, "compaction of block {} could not read it; left as is", id);
            return end_compaction();
        }
        auto rewrite = std::make_shared<Rewrite>(plan_rewrite(id, *buffer));
        std::size_t live_in_block = 0;
        for (const auto& [seq, entry] : index_.entries()) live_in_block += entry.location.block == id ? 1 : 0;
        if (live_in_block != rewrite->moved.size()) {
            // A live record did not pass its checksum: keep the block as it is.
            LOG_ERROR(log_, "compaction of block {}: {} live records, {} readable; left as is", id,
                      live_in_block, rewrite->moved.size());
            return end_compaction();
        }
        const record::BlockScan check = record::scan_block(rewrite->bytes);  // Checksum before write.
        ASSERT(check.damage.empty());
        ASSERT(check.valid_end == rewrite->bytes.size());
        const std::string temporary = block_path(id) + ".tmp";
        Result<std::unique_ptr<io::File>> opened = env_.file_system.open(temporary, true);
        if (!opened) return end_compaction();
        auto file = std::shared_ptr<io::File>(std::move(*opened));
        file->truncate(0, [this, life, id, file, rewrite, temporary](Status truncated) {
            if (life.expired()) return;
            if (!truncated) return end_compaction();
            file->write_at(0, rewrite->bytes, [this, life, id, file, rewrite, temporary](Status written) {
                if (life.expired()) return;
                if (!written) return end_compaction();
                file->sync([this, life, id, file, rewrite, temporary](Status synced) {
                    if (life.expired()) return;
                    if (!synced || !blocks_.contains(id)) return end_compaction();
                    if (Status renamed = env_.file_system.rename(temporary, block_path(id)); !renamed) {
                        return end_compaction();
                    }
                    // From here the new content is what the name points at.
                    swap_rewritten_block(id, file, *rewrite);
                    env_.file_system.sync_directory(config_.directory, [this, life](Status directory) {
                        if (life.expired()) return;
                        if (!directory) fail(directory.error());
                        end_compaction();
                    });
                });
            });
        });
    });
}

void FileStore::swap_rewritten_block(std::uint64_t id, std::shared_ptr<io::File> file,
                                     const Rewrite& rewrite) {
    Block& block = blocks_.at(id);
    block.file = std::move(file);
    block.size = rewrite.bytes.size();
    block.physical_first = 0;
    block.physical_last = 0;
    block.live_bytes = 0;
    for (const auto& [seq, move] : rewrite.moved) {
        if (block.physical_first == 0) block.physical_first = seq;
        block.physical_last = seq;
        const MessageIndex::Entry* entry = index_.find(seq);
        // Removed while the rewrite ran: its bytes are dead in the new file too.
        if (entry == nullptr || entry->location.block != id || entry->location.offset != move.old_offset) continue;
        index_.relocate(seq, Location{id, move.new_offset, move.length});
        block.live_bytes += move.length;
    }
    block.erase_ranges = rewrite.erase_ranges;
    block.erase_bytes = rewrite.erase_bytes;
    stats_.blocks_compacted += 1;
    LOG_DEBUG(log_, "compacted block {} to {} bytes", id, block.size);
    check_invariants();
}

}  // namespace herald::store
