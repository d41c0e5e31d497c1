#include "sim/file_system.h"

#include <algorithm>

#include "engine/base/assert.h"
#include "engine/base/errc.h"

namespace herald::sim {
namespace {

using base::Errc;

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return "";
    return path.substr(0, slash);
}

void apply(std::vector<std::byte>& data, const SimInode::Change& change, std::size_t prefix) {
    if (change.truncate) {
        data.resize(change.offset);
        return;
    }
    ASSERT(prefix <= change.bytes.size());
    const std::uint64_t end = change.offset + prefix;
    if (data.size() < end) data.resize(end);
    std::copy_n(change.bytes.begin(), prefix, data.begin() + static_cast<std::ptrdiff_t>(change.offset));
}

std::string name_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class SimFile final : public io::File {
public:
    SimFile(SimFileSystem& file_system, std::shared_ptr<SimInode> inode)
        : fs_(file_system), inode_(std::move(inode)), generation_(file_system.generation()),
          alive_(std::make_shared<bool>(true)) {}
    ~SimFile() override { *alive_ = false; }
    SimFile(const SimFile&) = delete;
    SimFile& operator=(const SimFile&) = delete;

    void read_at(std::uint64_t offset, std::span<std::byte> target,
                 std::function<void(Result<std::size_t>)> on_read) override {
        ASSERT(on_read);
        // The bytes are copied when the read completes, as a real read would fill the buffer.
        complete(fs_.options().io_latency, EventKind::file_io,
                 [inode = inode_, offset, target, on_read = std::move(on_read)] {
                     const auto& data = inode->data;
                     std::size_t count = 0;
                     if (offset < data.size()) {
                         count = static_cast<std::size_t>(
                             std::min<std::uint64_t>(target.size(), data.size() - offset));
                         std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), count,
                                     target.begin());
                     }
                     on_read(count);
                 });
    }

    void write_at(std::uint64_t offset, std::span<const std::byte> source,
                  std::function<void(Status)> on_written) override {
        ASSERT(on_written);
        if (fs_.process_dead()) return;  // A crashed process writes nothing.
        auto& data = inode_->data;
        const std::uint64_t end = offset + source.size();
        if (!fs_.space_for(end > data.size() ? end - data.size() : 0)) {
            complete(fs_.options().io_latency, EventKind::file_io,
                     [on_written = std::move(on_written)] { on_written(Errc::no_space); });
            return;
        }
        if (data.size() < end) data.resize(end);
        std::copy(source.begin(), source.end(), data.begin() + static_cast<std::ptrdiff_t>(offset));
        inode_->unsynced.push_back(SimInode::Change{inode_->next_sequence++, offset, false,
                                                    {source.begin(), source.end()}});
        fs_.world().trace_bytes(fs_.node(), EventKind::file_io, source);
        complete(fs_.options().io_latency, EventKind::file_io,
                 [on_written = std::move(on_written)] { on_written(ok()); });
    }

    void sync(std::function<void(Status)> on_synced) override {
        ASSERT(on_synced);
        if (fs_.process_dead()) return;
        // What was written before the call becomes durable when the sync completes; a failed
        // sync changes nothing (the data stays written, unsynced).
        const bool fails = fs_.next_sync_fails();
        complete(fs_.next_sync_latency(), EventKind::file_sync,
                 [inode = inode_, snapshot = fails ? std::vector<std::byte>{} : inode_->data,
                  sequence = inode_->next_sequence, fails,
                  on_synced = std::move(on_synced)]() mutable {
                     if (fails) {
                         on_synced(Errc::io_error);
                         return;
                     }
                     // A sync issued earlier through another handle may end later: keep the newest.
                     if (sequence >= inode->synced_sequence) {
                         inode->previous_durable = std::move(inode->durable);
                         inode->durable = std::move(snapshot);
                         inode->synced_sequence = sequence;
                         std::erase_if(inode->unsynced, [&](const SimInode::Change& change) {
                             return change.sequence < sequence;
                         });
                     }
                     on_synced(ok());
                 });
    }

    void truncate(std::uint64_t size, std::function<void(Status)> on_truncated) override {
        ASSERT(on_truncated);
        if (fs_.process_dead()) return;
        const auto& data = inode_->data;
        if (!fs_.space_for(size > data.size() ? size - data.size() : 0)) {
            complete(fs_.options().io_latency, EventKind::file_io,
                     [on_truncated = std::move(on_truncated)] { on_truncated(Errc::no_space); });
            return;
        }
        inode_->data.resize(size);
        inode_->unsynced.push_back(SimInode::Change{inode_->next_sequence++, size, true, {}});
        complete(fs_.options().io_latency, EventKind::file_io,
                 [on_truncated = std::move(on_truncated)] { on_truncated(ok()); });
    }

    std::uint64_t size() const override { return inode_->data.size(); }

private:
    // Schedules `done` after `latency`, never before an earlier completion of this file, and
    // drops it if the file was closed or the disk crashed in between.
    void complete(Duration latency, EventKind kind, std::function<void()> done) {
        SimWorld& world = fs_.world();
        last_due_ = std::max(last_due_, world.now() + latency);
        world.schedule_at(last_due_, fs_.node(), kind,
                          [fs = &fs_, alive = alive_, generation = generation_,
                           done = std::move(done)] {
                              if (!*alive || fs->generation() != generation) return;
                              done();
                          });
    }

    SimFileSystem& fs_;
    std::shared_ptr<SimInode> inode_;
    std::uint64_t generation_;
    std::shared_ptr<bool> alive_;
    Instant last_due_{};
};

}  // namespace

SimFileSystem::SimFileSystem(SimWorld& world, NodeIndex node, SimDiskOptions options)
    : world_(world), node_(node), options_(options) {}

bool SimFileSystem::directory_exists(const std::string& path) const {
    return path.empty() || path == "/" || directories_.contains(path);
}

bool SimFileSystem::process_dead() const { return world_.node_state(node_) == NodeState::crashed; }

Result<std::unique_ptr<io::File>> SimFileSystem::open(const std::string& path, bool create) {
    if (process_dead()) return Errc::io_error;
    if (path.empty() || directories_.contains(path)) return Errc::invalid_argument;
    auto found = names_.find(path);
    if (found == names_.end()) {
        if (!create || !directory_exists(parent_of(path))) return Errc::not_found;
        found = names_.emplace(path, std::make_shared<SimInode>()).first;
    }
    return std::unique_ptr<io::File>(new SimFile(*this, found->second));
}

Status SimFileSystem::remove(const std::string& path) {
    if (process_dead()) return Errc::io_error;
    if (names_.erase(path) == 0) return Errc::not_found;
    return ok();
}

Status SimFileSystem::rename(const std::string& from, const std::string& to) {
    if (process_dead()) return Errc::io_error;
    auto found = names_.find(from);
    if (found == names_.end()) return Errc::not_found;
    if (!directory_exists(parent_of(to))) return Errc::not_found;
    auto inode = found->second;
    names_.erase(found);
    names_[to] = std::move(inode);
    return ok();
}

Status SimFileSystem::make_directories(const std::string& path) {
    if (process_dead()) return Errc::io_error;
    if (names_.contains(path)) return Errc::already_exists;
    for (std::size_t slash = path.find('/', 1); ; slash = path.find('/', slash + 1)) {
        const std::string prefix = path.substr(0, slash);
        if (!prefix.empty() && prefix != "/") {
            if (names_.contains(prefix)) return Errc::already_exists;
            directories_.insert(prefix);
        }
        if (slash == std::string::npos) break;
    }
    return ok();
}

Result<std::vector<std::string>> SimFileSystem::list(const std::string& directory) {
    if (!directory_exists(directory)) return Errc::not_found;
    std::set<std::string> names;
    for (const auto& [path, inode] : names_) {
        if (parent_of(path) == directory) names.insert(name_of(path));
    }
    for (const auto& path : directories_) {
        if (parent_of(path) == directory) names.insert(name_of(path));
    }
    return std::vector<std::string>(names.begin(), names.end());
}

void SimFileSystem::sync_directory(const std::string& path, std::function<void(Status)> on_synced) {
    ASSERT(on_synced);
    if (process_dead()) return;
    if (!directory_exists(path)) {
        world_.schedule_after(Duration{}, node_, EventKind::post,
                              [on_synced = std::move(on_synced)] { on_synced(Errc::not_found); });
        return;
    }
    // The names in the directory at the call become durable when the sync completes.
    std::map<std::string, std::shared_ptr<SimInode>> snapshot;
    for (const auto& [name, inode] : names_) {
        if (parent_of(name) == path) snapshot.emplace(name, inode);
    }
    const bool fails = next_sync_fails();
    world_.schedule_after(
        next_sync_latency(), node_, EventKind::file_sync,
        [this, path, snapshot = std::move(snapshot), generation = generation_, fails,
         on_synced = std::move(on_synced)] {
            if (generation != generation_) return;
            if (fails) {
                on_synced(Errc::io_error);
                return;
            }
            std::erase_if(durable_names_, [&](const auto& entry) { return parent_of(entry.first) == path; });
            durable_names_.insert(snapshot.begin(), snapshot.end());
            on_synced(ok());
        });
}

void SimFileSystem::crash(DiskCrash mode) {
    ++generation_;
    std::uint64_t files_changed = 0;
    if (mode != DiskCrash::keep_unsynced) {
        names_ = durable_names_;
        std::set<const SimInode*> done;  // Membership only: an inode may have two durable names.
        for (auto& [path, inode] : names_) {
            if (!done.insert(inode.get()).second) continue;
            if (!inode->unsynced.empty()) ++files_changed;
            std::vector<std::byte> data = inode->durable;
            const std::size_t changes = inode->unsynced.size();
            for (std::size_t index = 0; index < changes && mode != DiskCrash::lose_unsynced; ++index) {
                const auto& change = inode->unsynced[index];
                if (mode == DiskCrash::keep_some) {
                    if (world_.random().uniform(2) == 1) apply(data, change, change.bytes.size());
                } else if (index + 1 < changes) {  // tear_last: all but the last whole.
                    apply(data, change, change.bytes.size());
                } else if (change.truncate) {
                    if (world_.random().uniform(2) == 1) apply(data, change, 0);
                } else {
                    apply(data, change, static_cast<std::size_t>(world_.random().uniform(change.bytes.size())));
                    COVER("sim: disk crash tears the last write");
                }
            }
            // What survived is on the platter now.
            inode->data = data;
            inode->durable = std::move(data);
            inode->unsynced.clear();
            inode->synced_sequence = inode->next_sequence;
        }
    }
    switch (mode) {
        case DiskCrash::keep_unsynced: world_.record_fault(FaultKind::disk_crash_keep_unsynced, node_); break;
        case DiskCrash::lose_unsynced: world_.record_fault(FaultKind::disk_crash_lose_unsynced, node_, files_changed); break;
        case DiskCrash::keep_some: world_.record_fault(FaultKind::disk_crash_keep_some, node_, files_changed); break;
        case DiskCrash::tear_last: world_.record_fault(FaultKind::disk_crash_tear_last, node_, files_changed); break;
    }
    COVER("sim: disk crash drops unsynced data");
}

SimInode* SimFileSystem::durable_inode(const std::string& path) {
    auto found = names_.find(path);
    if (found != names_.end()) return found->second.get();
    found = durable_names_.find(path);
    return found == durable_names_.end() ? nullptr : found->second.get();
}

std::vector<std::uint64_t> SimFileSystem::flip_bits(const std::string& path, std::uint64_t count) {
    SimInode* inode = durable_inode(path);
    if (inode == nullptr) return {};
    const std::uint64_t bits = inode->durable.size() * 8;
    std::set<std::uint64_t> chosen;
    const std::uint64_t wanted = std::min(count, bits);
    while (chosen.size() < wanted) chosen.insert(world_.random().uniform(bits));
    for (const std::uint64_t bit : chosen) {
        const std::size_t index = static_cast<std::size_t>(bit / 8);
        const std::byte before = inode->durable[index];
        inode->durable[index] ^= static_cast<std::byte>(1U << (bit % 8));
        // A clean page in the cache shows the flip too.
        if (index < inode->data.size() && inode->data[index] == before) inode->data[index] = inode->durable[index];
        world_.record_fault(FaultKind::disk_bit_flip, node_, bit);
    }
    return {chosen.begin(), chosen.end()};
}

std::optional<std::uint64_t> SimFileSystem::truncate_at_rest(const std::string& path) {
    SimInode* inode = durable_inode(path);
    if (inode == nullptr || inode->durable.empty()) return std::nullopt;
    const std::uint64_t size = world_.random().uniform(inode->durable.size());
    inode->durable.resize(size);
    if (inode->data.size() > size) inode->data.resize(size);
    world_.record_fault(FaultKind::disk_truncate, node_, size);
    return size;
}

bool SimFileSystem::rollback(const std::string& path) {
    SimInode* inode = durable_inode(path);
    if (inode == nullptr) return false;
    inode->durable = inode->previous_durable;
    inode->data = inode->durable;
    inode->unsynced.clear();
    inode->synced_sequence = inode->next_sequence;
    world_.record_fault(FaultKind::disk_rollback, node_, inode->durable.size());
    return true;
}

std::vector<std::string> SimFileSystem::durable_paths() const {
    std::vector<std::string> paths;
    for (const auto& [path, inode] : durable_names_) {
        if (!inode->durable.empty()) paths.push_back(path);
    }
    return paths;
}

std::uint64_t SimFileSystem::used_bytes() const {
    std::uint64_t total = 0;
    std::set<const SimInode*> done;  // Membership only.
    for (const auto& [path, inode] : names_) {
        if (done.insert(inode.get()).second) total += inode->data.size();
    }
    return total;
}

bool SimFileSystem::next_sync_fails() {
    const bool fails = failing_syncs_ > 0 || world_.chance(options_.sync_error_probability);
    if (failing_syncs_ > 0) --failing_syncs_;
    if (fails) world_.record_fault(FaultKind::disk_sync_error, node_);
    return fails;
}

Duration SimFileSystem::next_sync_latency() {
    if (options_.sync_latency_jitter.ns == 0) return options_.sync_latency;
    return options_.sync_latency + Duration{world_.random().uniform(options_.sync_latency_jitter.ns + 1)};
}

bool SimFileSystem::space_for(std::uint64_t growth) {
    if (options_.space_bytes_max == 0 || growth == 0) return true;
    if (used_bytes() + growth <= options_.space_bytes_max) return true;
    world_.record_fault(FaultKind::disk_no_space, node_, growth);
    return false;
}

}  // namespace herald::sim
