#include "engine/store/consumer_store.h"

#include <optional>
#include <utility>

#include "engine/store/crc32c.h"
#include "engine/store/errc.h"

namespace herald::store {
namespace {

constexpr std::uint32_t consumer_magic = 0x4e4f4348U;  // "HCON".
constexpr std::size_t snapshot_fixed_size = 4 + 4 + 8 + 32 + 4 + 4;
constexpr std::size_t snapshot_trailer_size = 4;

void put(std::vector<std::byte>& out, std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xffU));
}

std::uint64_t get(std::span<const std::byte> bytes, std::size_t offset, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) value |= static_cast<std::uint64_t>(bytes[offset + i]) << (8 * i);
    return value;
}

struct Snapshot {
    std::uint64_t generation = 0;
    std::size_t length = 0;
    ConsumerState state;
};

std::optional<Snapshot> decode_snapshot(std::span<const std::byte> bytes) {
    if (bytes.size() < snapshot_fixed_size + snapshot_trailer_size) return std::nullopt;
    if (get(bytes, 0, 4) != consumer_magic) return std::nullopt;
    const std::size_t length = get(bytes, 4, 4);
    if (length < snapshot_fixed_size + snapshot_trailer_size || length > bytes.size()) return std::nullopt;
    if (crc32c(bytes.first(length - snapshot_trailer_size)) != get(bytes, length - snapshot_trailer_size, 4)) {
        return std::nullopt;
    }
    const std::size_t pending = get(bytes, 48, 4);
    const std::size_t redelivered = get(bytes, 52, 4);
    if (snapshot_fixed_size + 24 * pending + 16 * redelivered + snapshot_trailer_size != length) return std::nullopt;
    Snapshot snapshot;
    snapshot.generation = get(bytes, 8, 8);
    snapshot.length = length;
    snapshot.state.delivered = {get(bytes, 16, 8), get(bytes, 24, 8)};
    snapshot.state.ack_floor = {get(bytes, 32, 8), get(bytes, 40, 8)};
    std::size_t at = snapshot_fixed_size;
    for (std::size_t i = 0; i < pending; ++i, at += 24) {
        snapshot.state.pending[get(bytes, at, 8)] =
            PendingAck{get(bytes, at + 8, 8), static_cast<std::int64_t>(get(bytes, at + 16, 8))};
    }
    for (std::size_t i = 0; i < redelivered; ++i, at += 16) {
        snapshot.state.redelivered[get(bytes, at, 8)] = get(bytes, at + 8, 8);
    }
    return snapshot;
}

}  // namespace

void MemConsumerStore::save(const ConsumerState& state, StatusCallback on_saved) {
    Status status = ok();
    if (removed_) {
        status = Errc::closed;
    } else {
        state_ = state;
    }
    env_.loop.post([life = std::weak_ptr<int>(life_), on_saved = std::move(on_saved), status] {
        if (!life.expired()) on_saved(status);
    });
}

void MemConsumerStore::save_from(Snapshot snapshot, StatusCallback on_saved) {
    ASSERT(snapshot);
    if (removed_) return save(state_, std::move(on_saved));
    save(snapshot(), std::move(on_saved));
}

void MemConsumerStore::remove(StatusCallback on_removed) {
    removed_ = true;
    state_ = ConsumerState{};
    env_.loop.post([life = std::weak_ptr<int>(life_), on_removed = std::move(on_removed)] {
        if (!life.expired()) on_removed(ok());
    });
}

std::vector<std::byte> FileConsumerStore::encode(const ConsumerState& state, std::uint64_t generation) {
    ASSERT(state.pending.size() <= consumer_pending_max);
    ASSERT(state.redelivered.size() <= consumer_pending_max);
    const std::size_t length = snapshot_fixed_size + 24 * state.pending.size() + 16 * state.redelivered.size() +
                               snapshot_trailer_size;
    std::vector<std::byte> out;
    out.reserve(length);
    put(out, consumer_magic, 4);
    put(out, length, 4);
    put(out, generation, 8);
    put(out, state.delivered.consumer_seq, 8);
    put(out, state.delivered.stream_seq, 8);
    put(out, state.ack_floor.consumer_seq, 8);
    put(out, state.ack_floor.stream_seq, 8);
    put(out, state.pending.size(), 4);
    put(out, state.redelivered.size(), 4);
    for (const auto& [seq, pending] : state.pending) {
        put(out, seq, 8);
        put(out, pending.consumer_seq, 8);
        put(out, static_cast<std::uint64_t>(pending.timestamp_ns), 8);
    }
    for (const auto& [seq, count] : state.redelivered) {
        put(out, seq, 8);
        put(out, count, 8);
    }
    put(out, crc32c(out), 4);
    ASSERT(out.size() == length);
    return out;
}

FileConsumerStore::FileConsumerStore(io::Env& env, std::string path, base::Logger log)
    : env_(env), path_(std::move(path)), log_(std::move(log)) {}

FileConsumerStore::~FileConsumerStore() = default;

void FileConsumerStore::open(io::Env& env, std::string path, base::Logger log, OpenCallback on_opened) {
    auto store = std::unique_ptr<FileConsumerStore>(new FileConsumerStore(env, std::move(path), std::move(log)));
    Result<std::unique_ptr<io::File>> opened = env.file_system.open(store->path_, true);
    if (!opened) {
        env.loop.post([on_opened = std::move(on_opened), error = opened.error()] { on_opened(error); });
        return;
    }
    store->file_ = std::shared_ptr<io::File>(std::move(*opened));
    auto file = store->file_;
    auto buffer = std::make_shared<std::vector<std::byte>>(file->size());
    auto holder = std::make_shared<std::unique_ptr<FileConsumerStore>>(std::move(store));
    file->read_at(0, *buffer, [holder, buffer, on_opened = std::move(on_opened)](Result<std::size_t> read) {
        if (!read) return on_opened(read.error());
        FileConsumerStore& self = **holder;
        const std::span<const std::byte> bytes(buffer->data(), *read);
        // Every whole snapshot counts; the newest generation wins. Damage is skipped.
        std::size_t position = 0;
        std::uint64_t skipped = 0;
        while (position + snapshot_fixed_size + snapshot_trailer_size <= bytes.size()) {
            auto snapshot = decode_snapshot(bytes.subspan(position));
            if (!snapshot) {
                position += 1;
                skipped += 1;
                continue;
            }
            if (snapshot->generation >= self.generation_) {
                self.generation_ = snapshot->generation;
                self.state_ = std::move(snapshot->state);
            }
            position += snapshot->length;
        }
        if (skipped > 0) LOG_WARN(self.log_, "consumer state {}: skipped {} damaged bytes", self.path_, skipped);
        self.size_ = bytes.size();
        // The file's name must be durable before a save can be.
        const std::string directory = self.path_.substr(0, self.path_.rfind('/'));
        self.env_.file_system.sync_directory(directory, [holder, on_opened](Status synced) {
            if (!synced) return on_opened(synced.error());
            on_opened(std::move(*holder));
        });
    });
}

void FileConsumerStore::save(const ConsumerState& state, StatusCallback on_saved) {
    ASSERT(on_saved);
    if (removed_ || failed_) {
        const Status status = removed_ ? Status(Errc::closed) : Status(Errc::failed);
        env_.loop.post([life = std::weak_ptr<int>(life_), on_saved = std::move(on_saved), status] {
            if (!life.expired()) on_saved(status);
        });
        return;
    }
    state_ = state;
    snapshot_ = nullptr;
    dirty_ = true;
    waiting_.push_back(std::move(on_saved));
    write_next();
}

void FileConsumerStore::save_from(Snapshot snapshot, StatusCallback on_saved) {
    ASSERT(snapshot);
    if (removed_ || failed_) return save(state_, std::move(on_saved));
    snapshot_ = std::move(snapshot);
    dirty_ = true;
    waiting_.push_back(std::move(on_saved));
    write_next();
}

void FileConsumerStore::write_next() {
    if (writing_ || !dirty_ || failed_) return;
    writing_ = true;
    dirty_ = false;
    if (snapshot_) {
        state_ = snapshot_();
        snapshot_ = nullptr;
    }
    generation_ += 1;
    auto bytes = std::make_shared<std::vector<std::byte>>(encode(state_, generation_));
    ASSERT(decode_snapshot(*bytes).has_value());  // Checksum before write.
    std::vector<StatusCallback> done = std::move(waiting_);
    waiting_.clear();
    if (size_ + bytes->size() > consumer_file_size_max) return rewrite_file(std::move(*bytes), std::move(done));
    const std::uint64_t offset = size_;
    size_ += bytes->size();
    auto file = file_;
    auto life = std::weak_ptr<int>(life_);
    file->write_at(offset, *bytes, [this, life, file, bytes, done = std::move(done)](Status written) mutable {
        if (life.expired()) return;
        if (!written) return finish(std::move(done), written);
        file->sync([this, life, file, done = std::move(done)](Status synced) mutable {
            if (life.expired()) return;
            finish(std::move(done), synced);
        });
    });
}

// The file grew past consumer_file_size_max: the newest snapshot alone goes to a new file that
// replaces it by rename.
void FileConsumerStore::rewrite_file(std::vector<std::byte> bytes, std::vector<StatusCallback> done) {
    const std::string temporary = path_ + ".tmp";
    Result<std::unique_ptr<io::File>> opened = env_.file_system.open(temporary, true);
    if (!opened) return finish(std::move(done), opened.error());
    auto file = std::shared_ptr<io::File>(std::move(*opened));
    auto shared = std::make_shared<std::vector<std::byte>>(std::move(bytes));
    auto life = std::weak_ptr<int>(life_);
    auto callbacks = std::make_shared<std::vector<StatusCallback>>(std::move(done));
    file->truncate(0, [this, life, file, shared, callbacks, temporary](Status truncated) {
        if (life.expired()) return;
        if (!truncated) return finish(std::move(*callbacks), truncated);
        file->write_at(0, *shared, [this, life, file, shared, callbacks, temporary](Status written) {
            if (life.expired()) return;
            if (!written) return finish(std::move(*callbacks), written);
            file->sync([this, life, file, shared, callbacks, temporary](Status synced) {
                if (life.expired()) return;
                if (!synced) return finish(std::move(*callbacks), synced);
                if (Status renamed = env_.file_system.rename(temporary, path_); !renamed) {
                    return finish(std::move(*callbacks), renamed);
                }
                file_ = file;
                size_ = shared->size();
                const std::string directory = path_.substr(0, path_.rfind('/'));
                env_.file_system.sync_directory(directory, [this, life, callbacks](Status synced_directory) {
                    if (life.expired()) return;
                    finish(std::move(*callbacks), synced_directory);
                });
            });
        });
    });
}

void FileConsumerStore::finish(std::vector<StatusCallback> done, Status status) {
    ASSERT(writing_);
    writing_ = false;
    if (!status) {
        failed_ = status.error();
        LOG_ERROR(log_, "consumer state {}: {}", path_, status.error().message());
        for (auto& waiting : waiting_) done.push_back(std::move(waiting));
        waiting_.clear();
    }
    write_next();
    for (auto& callback : done) callback(status);
}

void FileConsumerStore::remove(StatusCallback on_removed) {
    removed_ = true;
    const Status status = env_.file_system.remove(path_);
    env_.loop.post([life = std::weak_ptr<int>(life_), on_removed = std::move(on_removed), status] {
        if (!life.expired()) on_removed(status);
    });
}

}  // namespace herald::store
