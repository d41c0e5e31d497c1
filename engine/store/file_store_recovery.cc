// FileStore recovery: reads every block, keeps every whole record, tells a torn tail (power loss:
// truncated) from damage in the middle (bit rot: skipped, intact records after it kept), rebuilds
// the in-memory index from the records and cross-checks it against the index file, and reports
// exactly which acknowledged sequences are gone. It never removes a block or empties a store.
#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "engine/base/errc.h"
#include "engine/store/errc.h"
#include "engine/store/file_store.h"

namespace herald::store {
namespace {

// "blk-0000000042.dat" → 42.
std::optional<std::uint64_t> block_id_of(std::string_view name) {
    constexpr std::string_view prefix = "blk-";
    constexpr std::string_view suffix = ".dat";
    if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix)) {
        return std::nullopt;
    }
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    std::uint64_t id = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (error != std::errc{} || end != digits.data() + digits.size() || id == 0) return std::nullopt;
    return id;
}

// Reads a whole file; the buffer is handed to `on_read`.
void read_whole(std::shared_ptr<io::File> file,
                std::function<void(Result<std::shared_ptr<std::vector<std::byte>>>)> on_read) {
    auto buffer = std::make_shared<std::vector<std::byte>>(file->size());
    if (buffer->empty()) {
        // Still asynchronous: a zero-length read completes on the loop.
        file->read_at(0, *buffer, [buffer, on_read = std::move(on_read)](Result<std::size_t> read) {
            if (!read) return on_read(read.error());
            on_read(buffer);
        });
        return;
    }
    file->read_at(0, *buffer, [file, buffer, on_read = std::move(on_read)](Result<std::size_t> read) {
        if (!read) return on_read(read.error());
        buffer->resize(*read);
        on_read(buffer);
    });
}

}  // namespace

struct FileStore::Opening {
    struct Recovered {
        std::uint64_t block = 0;
        std::uint64_t offset = 0;
        std::uint32_t length = 0;
        std::int64_t timestamp_ns = 0;
        std::string subject;
        std::uint64_t size = 0;
    };
    std::unique_ptr<FileStore> store;
    OpenCallback on_opened;
    std::vector<std::uint64_t> block_ids;
    bool index_present = false;
    std::optional<record::IndexContent> index;
    std::map<Seq, Recovered> messages;
    std::vector<SeqRange> explained;  // Seqs some record accounts for (message or erase).
    Seq max_seq = 0;                  // Highest seq any record names.
    Seq last_message_seq = 0;  // Highest seq of a message or a skip record, and its time.
    std::int64_t last_message_ts = 0;
    std::uint64_t active_file_size = 0;  // Before truncating a damaged tail.
};

void FileStore::open(io::Env& env, FileStoreConfig config, OpenCallback on_opened) {
    ASSERT(on_opened);
    auto opening = std::make_shared<Opening>();
    opening->store = std::unique_ptr<FileStore>(new FileStore(env, std::move(config)));
    opening->on_opened = std::move(on_opened);
    FileStore* store = opening->store.get();
    env.loop.post([store, opening] { store->recover(opening); });
}

void FileStore::complete_open(std::shared_ptr<Opening> opening, Status status) {
    auto on_opened = std::move(opening->on_opened);
    if (!status) {
        LOG_ERROR(log_, "open of {} failed: {}", config_.directory, status.error().message());
        return on_opened(status.error());
    }
    check_invariants();
    on_age_timer();  // Expire what aged while the store was closed, and arm the timer.
    on_opened(std::move(opening->store));
}

void FileStore::recover(std::shared_ptr<Opening> opening) {
    io::FileSystem& fs = env_.file_system;
    if (Status made = fs.make_directories(config_.directory); !made) {
        return complete_open(opening, made);
    }
    Result<std::vector<std::string>> names = fs.list(config_.directory);
    if (!names) return complete_open(opening, names.error());
    for (const std::string& name : *names) {
        if (name.ends_with(".tmp")) {
            // A compaction or index write that did not reach its rename: the original is intact.
            COVER("store: recovery removes a leftover temporary file");
            if (Status removed = fs.remove(config_.directory + "/" + name); !removed) {
                LOG_WARN(log_, "cannot remove leftover {}: {}", name, removed.error().message());
            }
        } else if (auto id = block_id_of(name)) {
            opening->block_ids.push_back(*id);
        } else if (name == "index.dat") {
            opening->index_present = true;
        }
    }
    std::sort(opening->block_ids.begin(), opening->block_ids.end());
    recover_index(opening);
}

void FileStore::recover_index(std::shared_ptr<Opening> opening) {
    if (!opening->index_present) {
        report_.index_rebuilt = !opening->block_ids.empty();
        if (report_.index_rebuilt) LOG_WARN(log_, "index file missing: rebuilding it from the blocks");
        return recover_block(opening, 0);
    }
    Result<std::unique_ptr<io::File>> opened = env_.file_system.open(index_path(), false);
    if (!opened) return complete_open(opening, opened.error());
    read_whole(std::shared_ptr<io::File>(std::move(*opened)),
               [this, opening](Result<std::shared_ptr<std::vector<std::byte>>> bytes) {
                   if (!bytes) return complete_open(opening, bytes.error());
                   opening->index = record::decode_index(**bytes);
                   if (!opening->index && !opening->block_ids.empty()) {
                       report_.index_rebuilt = true;
                       LOG_WARN(log_, "index file damaged: rebuilding it from the blocks");
                   }
                   recover_block(opening, 0);
               });
}

void FileStore::recover_block(std::shared_ptr<Opening> opening, std::size_t position) {
    if (position == opening->block_ids.size()) return finish_recovery(opening);
    const std::uint64_t id = opening->block_ids[position];
    Result<std::unique_ptr<io::File>> opened = env_.file_system.open(block_path(id), false);
    if (!opened) return complete_open(opening, opened.error());
    auto file = std::shared_ptr<io::File>(std::move(*opened));
    read_whole(file, [this, opening, position, id, file](
                         Result<std::shared_ptr<std::vector<std::byte>>> read) {
        if (!read) return complete_open(opening, read.error());
        const std::vector<std::byte>& bytes = **read;
        const bool last = position + 1 == opening->block_ids.size();
        record::BlockScan scan = record::scan_block(bytes, config_.canaries.stop_at_damage);  // Checks every checksum.
        Block block;
        block.id = id;
        block.file = file;
        block.size = last ? scan.valid_end : bytes.size();
        block.last_seq_before = opening->max_seq;
        if (scan.header && scan.header->block == id) {
            block.last_seq_before = scan.header->last_seq_before;
        } else if (scan.header) {
            scan.damage.push_back(Damage{Damage::Kind::bad_block_header, id, 0, record::block_header_size});
        }
        for (Damage& damage : scan.damage) {
            damage.block = id;
            const bool torn = damage.kind == Damage::Kind::torn_tail;
            if (torn && last) {
                report_.truncated_bytes += damage.bytes;
                COVER("store: recovery truncates a torn tail");
            } else if (damage.kind != Damage::Kind::bad_block_header) {
                report_.lost_bytes += damage.bytes;
            }
            if (damage.kind == Damage::Kind::corrupt_middle) COVER("store: recovery skips damage in the middle");
            LOG_WARN(log_, "block {}: {} at offset {} ({} bytes)", id, damage_kind_name(damage.kind),
                     damage.offset, damage.bytes);
            report_.damage.push_back(damage);
        }
        for (const auto& [offset, rec] : scan.records) {
            if (rec.kind == record::Kind::message) {
                if (opening->messages.contains(rec.seq)) COVER("store: recovery finds a sequence twice");
                opening->messages[rec.seq] = Opening::Recovered{
                    id, offset, rec.length, rec.timestamp_ns, std::string(rec.subject),
                    record_bytes(StoreKind::file, rec.subject.size(), rec.headers.size(),
                                 rec.payload.size())};
                opening->explained.push_back(SeqRange{rec.seq, rec.seq});
                if (block.physical_first == 0) block.physical_first = rec.seq;
                block.physical_last = std::max(block.physical_last, rec.seq);
                if (rec.seq >= opening->last_message_seq) {
                    opening->last_message_seq = rec.seq;
                    opening->last_message_ts = rec.timestamp_ns;
                }
                opening->max_seq = std::max(opening->max_seq, rec.seq);
                continue;
            }
            if (rec.seq != 0 && rec.seq >= opening->last_message_seq) {
                // A skip record (record.h): last_ts is its time unless a newer message follows.
                opening->last_message_seq = rec.seq;
                opening->last_message_ts = rec.timestamp_ns;
            }
            for (const SeqRange& range : rec.ranges) {
                auto begin = opening->messages.lower_bound(range.first);
                auto end = opening->messages.upper_bound(range.last);
                opening->messages.erase(begin, end);
                opening->explained.push_back(range);
                block.erase_ranges.push_back(range);
                opening->max_seq = std::max(opening->max_seq, range.last);
            }
            block.erase_bytes += rec.length;
        }
        if (last) opening->active_file_size = bytes.size();
        opening->max_seq = std::max(opening->max_seq, block.last_seq_before);
        blocks_.emplace(id, std::move(block));
        recover_block(opening, position + 1);
    });
}

void FileStore::finish_recovery(std::shared_ptr<Opening> opening) {
    if (blocks_.empty()) {
        // A new store: its first block.
        Result<std::unique_ptr<io::File>> opened = env_.file_system.open(block_path(1), true);
        if (!opened) return complete_open(opening, opened.error());
        Block block;
        block.id = 1;
        block.file = std::shared_ptr<io::File>(std::move(*opened));
        blocks_.emplace(1, std::move(block));
        active_block_ = 1;
        opening->active_file_size = 0;
        return finish_active_block(opening);
    }
    active_block_ = blocks_.rbegin()->first;
    Seq last_seq = opening->max_seq;
    if (opening->index) last_seq = std::max(last_seq, opening->index->acked_last_seq);
    // Every seq from the first block's start to last_seq must be accounted for by a record:
    // a message, or a delete marker (compaction leaves markers for what it dropped).
    const Block& first = blocks_.begin()->second;
    Seq floor = first.last_seq_before + 1;
    std::vector<SeqRange>& explained = opening->explained;
    std::sort(explained.begin(), explained.end(),
              [](SeqRange a, SeqRange b) { return a.first < b.first; });
    Seq next = floor;
    for (const SeqRange& range : explained) {
        if (range.last < next) continue;
        if (range.first > next) report_.lost.push_back(SeqRange{next, std::min(range.first - 1, last_seq)});
        next = range.last + 1;
        if (next > last_seq) break;
    }
    if (next <= last_seq) report_.lost.push_back(SeqRange{next, last_seq});
    std::erase_if(report_.lost, [](SeqRange range) { return range.first > range.last; });
    for (const SeqRange& range : report_.lost) {
        report_.lost_messages += range.last - range.first + 1;
        LOG_ERROR(log_, "lost messages {}..{}", range.first, range.last);
    }
    if (!report_.lost.empty()) {
        const bool explained_by_damage = std::any_of(report_.damage.begin(), report_.damage.end(), [](const Damage& d) {
            return d.kind == Damage::Kind::corrupt_middle || d.kind == Damage::Kind::corrupt_tail ||
                   d.kind == Damage::Kind::torn_tail;
        });
        if (!explained_by_damage) report_.damage.push_back(Damage{Damage::Kind::missing_data, 0, 0, 0});
    }
    for (const auto& [seq, message] : opening->messages) {
        index_.insert(seq, message.subject, message.timestamp_ns, message.size,
                      Location{message.block, message.offset, message.length});
        blocks_.at(message.block).live_bytes += message.length;
    }
    index_.raise_last_seq(last_seq, opening->last_message_ts);  // Deleted newest messages, skips.
    acked_last_seq_ = last_seq;
    opening->messages.clear();
    if (report_.clean()) {
        LOG_INFO(log_, "recovered {} messages, last seq {}", index_.messages(), last_seq);
    } else {
        LOG_WARN(log_, "recovered {} messages, last seq {}; lost {} messages ({} bytes), truncated {} torn bytes",
                 index_.messages(), last_seq, report_.lost_messages, report_.lost_bytes,
                 report_.truncated_bytes);
    }
    finish_active_block(opening);
}

// Cuts a damaged tail off the active block (appends continue there) and gives a block whose
// creation was torn its header again; then writes a fresh index.
void FileStore::finish_active_block(std::shared_ptr<Opening> opening) {
    Block& active = blocks_.at(active_block_);
    auto file = active.file;
    auto after_header = [this, opening, file](Status status) {
        if (!status) return complete_open(opening, status);
        file->sync([this, opening](Status synced) {
            if (!synced) return complete_open(opening, synced);
            env_.file_system.sync_directory(config_.directory, [this, opening](Status directory) {
                if (!directory) return complete_open(opening, directory);
                write_index();
                when_quiet([this, opening] { complete_open(opening, ok()); });
            });
        });
    };
    auto write_header = [this, opening, file, after_header](Status truncated) mutable {
        if (!truncated) return complete_open(opening, truncated);
        Block& block = blocks_.at(active_block_);
        if (block.size >= record::block_header_size) return after_header(ok());
        ASSERT(block.size == 0);
        auto header = std::make_shared<std::vector<std::byte>>();
        record::append_block_header(*header, record::BlockHeader{block.id, block.last_seq_before});
        block.size = header->size();
        file->write_at(0, *header, [header, after_header](Status written) mutable { after_header(written); });
    };
    if (active.size < record::block_header_size) active.size = 0;
    if (opening->active_file_size != active.size) {
        ASSERT(active.size < opening->active_file_size);
        file->truncate(active.size, std::move(write_header));
        return;
    }
    write_header(ok());
}

}  // namespace herald::store
