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
        auto& data = inode_->data;
        if (data.size() < offset + source.size()) data.resize(offset + source.size());
        std::copy(source.begin(), source.end(), data.begin() + static_cast<std::ptrdiff_t>(offset));
        fs_.world().trace_bytes(fs_.node(), EventKind::file_io, source);
        complete(fs_.options().io_latency, EventKind::file_io,
                 [on_written = std::move(on_written)] { on_written(ok()); });
    }

    void sync(std::function<void(Status)> on_synced) override {
        ASSERT(on_synced);
        // What was written before the call becomes durable when the sync completes.
        complete(fs_.options().sync_latency, EventKind::file_sync,
                 [inode = inode_, snapshot = inode_->data, on_synced = std::move(on_synced)]() mutable {
                     inode->durable = std::move(snapshot);
                     on_synced(ok());
                 });
    }

    void truncate(std::uint64_t size, std::function<void(Status)> on_truncated) override {
        ASSERT(on_truncated);
        inode_->data.resize(size);
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

Result<std::unique_ptr<io::File>> SimFileSystem::open(const std::string& path, bool create) {
    if (path.empty() || directories_.contains(path)) return Errc::invalid_argument;
    auto found = names_.find(path);
    if (found == names_.end()) {
        if (!create || !directory_exists(parent_of(path))) return Errc::not_found;
        found = names_.emplace(path, std::make_shared<SimInode>()).first;
    }
    return std::unique_ptr<io::File>(new SimFile(*this, found->second));
}

Status SimFileSystem::remove(const std::string& path) {
    if (names_.erase(path) == 0) return Errc::not_found;
    return ok();
}

Status SimFileSystem::rename(const std::string& from, const std::string& to) {
    auto found = names_.find(from);
    if (found == names_.end()) return Errc::not_found;
    if (!directory_exists(parent_of(to))) return Errc::not_found;
    auto inode = found->second;
    names_.erase(found);
    names_[to] = std::move(inode);
    return ok();
}

Status SimFileSystem::make_directories(const std::string& path) {
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
    world_.schedule_after(
        options_.sync_latency, node_, EventKind::file_sync,
        [this, path, snapshot = std::move(snapshot), generation = generation_,
         on_synced = std::move(on_synced)] {
            if (generation != generation_) return;
            std::erase_if(durable_names_, [&](const auto& entry) { return parent_of(entry.first) == path; });
            durable_names_.insert(snapshot.begin(), snapshot.end());
            on_synced(ok());
        });
}

void SimFileSystem::crash() {
    ++generation_;
    names_ = durable_names_;
    for (auto& [path, inode] : names_) inode->data = inode->durable;
    COVER("sim: disk crash drops unsynced data");
}

}  // namespace herald::sim
