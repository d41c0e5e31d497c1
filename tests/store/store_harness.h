// Test harness for the stream stores: one simulated node, a store of a chosen kind on it, and
// synchronous wrappers that run the simulated world until the store's callback has run.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/file_store.h"
#include "engine/store/mem_store.h"
#include "sim/node.h"
#include "sim/world.h"

namespace herald::store::testing {

enum class Kind { memory, file, file_no_group_commit, file_interval };

inline const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::memory: return "MemStore";
        case Kind::file: return "FileStore(group commit)";
        case Kind::file_no_group_commit: return "FileStore(no group commit)";
        case Kind::file_interval: return "FileStore(interval sync)";
    }
    return "?";
}

inline constexpr std::uint64_t steps_max = 10'000'000;
inline constexpr const char* store_directory = "/data/streams/ORDERS";

class Harness {
public:
    explicit Harness(Kind kind, StoreLimits limits = {}, std::uint64_t seed = 1,
                     std::uint64_t block_size_max = 64 * 1024)
        : kind_(kind), world_(seed), node_(world_.add_node()) {
        config_.directory = store_directory;
        config_.limits = limits;
        config_.block_size_max = block_size_max;
        config_.pending_bytes_max = 64 * 1024 * 1024;
        config_.group_commit = kind != Kind::file_no_group_commit;
        if (kind == Kind::file_interval) {
            config_.sync_mode = SyncMode::interval;
            config_.sync_interval = Duration::milliseconds(50);
        }
        open();
    }
    ~Harness() { store_.reset(); }

    bool is_file() const { return kind_ != Kind::memory; }
    sim::SimWorld& world() { return world_; }
    sim::SimNode& node() { return node_; }
    sim::SimFileSystem& disk() { return node_.file_system(); }
    StreamStore& store() { return *store_; }
    FileStore& file_store() {
        REQUIRE(is_file());
        return static_cast<FileStore&>(*store_);
    }
    FileStoreConfig& config() { return config_; }
    // A stream update: the store's limits now and after restarts (the config is not stored).
    void update_limits(const StoreLimits& limits) {
        config_.limits = limits;
        store_->update_limits(limits);
    }

    void open() {
        if (kind_ == Kind::memory) {
            store_ = std::make_unique<MemStore>(node_.env(), config_.limits);
            return;
        }
        std::optional<Result<std::unique_ptr<FileStore>>> opened;
        FileStore::open(node_.env(), config_, [&](Result<std::unique_ptr<FileStore>> result) {
            opened.emplace(std::move(result));
        });
        run([&] { return opened.has_value(); });
        REQUIRE(opened->has_value());
        store_ = std::move(**opened);
    }

    // Clean shutdown and start (MemStore: nothing to do, it would lose everything).
    void restart() {
        if (kind_ == Kind::memory) return;
        REQUIRE(close());
        store_.reset();
        open();
    }

    // Power loss: the store object dies, the disk keeps what `mode` says, then recovery.
    void crash(sim::DiskCrash mode = sim::DiskCrash::lose_unsynced) {
        REQUIRE(is_file());
        store_.reset();
        disk().crash(mode);
        world_.run_for(Duration::milliseconds(1));
        open();
    }

    template <class Done>
    void run(Done done) {
        REQUIRE(world_.run_until(done, steps_max));
    }

    Result<StoreAck> store(std::string_view subject, std::string_view payload = "data",
                           std::string_view headers = "") {
        std::optional<Result<StoreAck>> result;
        store_->store(StoreRequest{subject, headers, payload},
                      [&](Result<StoreAck> ack) { result.emplace(std::move(ack)); });
        run([&] { return result.has_value(); });
        return std::move(*result);
    }
    StoreAck store_ok(std::string_view subject, std::string_view payload = "data") {
        auto ack = store(subject, payload);
        REQUIRE(ack);
        return *ack;
    }
    Result<StoredMessage> load(Seq seq) {
        return load_with([&](auto callback) { store_->load(seq, std::move(callback)); });
    }
    Result<StoredMessage> load_last(std::string_view filter) {
        return load_with([&](auto callback) { store_->load_last(filter, std::move(callback)); });
    }
    Result<StoredMessage> load_next(std::string_view filter, Seq start) {
        return load_with([&](auto callback) { store_->load_next(filter, start, std::move(callback)); });
    }
    Status remove(Seq seq) {
        std::optional<Status> result;
        store_->remove(seq, [&](Status status) { result.emplace(status); });
        run([&] { return result.has_value(); });
        return *result;
    }
    Result<std::uint64_t> purge(PurgeRequest request) {
        std::optional<Result<std::uint64_t>> result;
        store_->purge(request, [&](Result<std::uint64_t> count) { result.emplace(count); });
        run([&] { return result.has_value(); });
        return *result;
    }
    Result<std::uint64_t> compact(Seq seq) {
        std::optional<Result<std::uint64_t>> result;
        store_->compact(seq, [&](Result<std::uint64_t> count) { result.emplace(count); });
        run([&] { return result.has_value(); });
        return *result;
    }
    // StreamStore::skip of first..last; first 0 = the store's last_seq + 1.
    Status skip(Seq first, Seq last, std::int64_t timestamp_ns = 0) {
        if (first == 0) first = store_->state().last_seq + 1;
        std::optional<Status> result;
        store_->skip(first, last, timestamp_ns, [&](Status status) { result.emplace(status); });
        run([&] { return result.has_value(); });
        return *result;
    }
    Status close() {
        std::optional<Status> result;
        store_->close([&](Status status) { result.emplace(status); });
        run([&] { return result.has_value(); });
        return *result;
    }
    // Lets simulated time pass (timers fire, background work completes).
    void advance(Duration duration) { world_.run_for(duration); }

    // Overwrites bytes of a file's durable content, as bit rot would (write + sync on the disk).
    void damage(const std::string& path, std::uint64_t offset, std::string_view garbage) {
        auto opened = disk().open(path, false);
        REQUIRE(opened);
        auto file = std::move(*opened);
        std::optional<Status> written;
        std::optional<Status> synced;
        file->write_at(offset, std::as_bytes(std::span<const char>(garbage.data(), garbage.size())),
                       [&](Status status) { written.emplace(status); });
        file->sync([&](Status status) { synced.emplace(status); });
        run([&] { return written.has_value() && synced.has_value(); });
        REQUIRE(*written);
        REQUIRE(*synced);
    }
    std::uint64_t file_size(const std::string& path) {
        auto opened = disk().open(path, false);
        REQUIRE(opened);
        return (*opened)->size();
    }
    void truncate_file(const std::string& path, std::uint64_t size) {
        auto opened = disk().open(path, false);
        REQUIRE(opened);
        auto file = std::move(*opened);
        std::optional<Status> done;
        file->truncate(size, [&](Status status) {
            REQUIRE(status);
            file->sync([&](Status synced) { done.emplace(synced); });
        });
        run([&] { return done.has_value(); });
        REQUIRE(*done);
    }

private:
    template <class Call>
    Result<StoredMessage> load_with(Call call) {
        std::optional<Result<StoredMessage>> result;
        call([&](Result<StoredMessage> message) { result.emplace(std::move(message)); });
        run([&] { return result.has_value(); });
        return std::move(*result);
    }

    Kind kind_;
    FileStoreConfig config_;
    sim::SimWorld world_;
    sim::SimNode& node_;
    std::unique_ptr<StreamStore> store_;
};

}  // namespace herald::store::testing
