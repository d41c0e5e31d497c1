// SimFileSystem: one node's simulated disk. Like FoundationDB's AsyncFileNonDurable it keeps what
// was written apart from what is durable: file contents become durable at sync(), names (create,
// rename, remove) at sync_directory() of their directory. crash() throws the rest away.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/io/io.h"
#include "sim/world.h"

namespace herald::sim {

struct SimDiskOptions {
    Duration io_latency = Duration::microseconds(20);   // read_at, write_at, truncate.
    Duration sync_latency = Duration::milliseconds(1);  // sync, sync_directory.
};

// The contents of one file: what reads see, and what survives a crash.
struct SimInode {
    std::vector<std::byte> data;
    std::vector<std::byte> durable;
};

// Runs inside SimWorld::step(). Directories are always durable (a simplification for now);
// paths are used as given, "a/b" and "/a/b" are different files. Writes and truncates change
// what reads and size() see at once; their callbacks come after io_latency, in issue order per
// open File. After crash() no callback of an operation issued before it runs.
class SimFileSystem final : public io::FileSystem {
public:
    SimFileSystem(SimWorld& world, NodeIndex node, SimDiskOptions options);

    Result<std::unique_ptr<io::File>> open(const std::string& path, bool create) override;
    Status remove(const std::string& path) override;
    Status rename(const std::string& from, const std::string& to) override;
    Status make_directories(const std::string& path) override;
    Result<std::vector<std::string>> list(const std::string& directory) override;
    void sync_directory(const std::string& path, std::function<void(Status)> on_synced) override;

    // Power loss: unsynced data and unsynced names are gone; open Files go dead.
    void crash();

    SimDiskOptions& options() { return options_; }
    std::uint64_t generation() const { return generation_; }
    SimWorld& world() { return world_; }
    NodeIndex node() const { return node_; }

private:
    bool directory_exists(const std::string& path) const;

    SimWorld& world_;
    NodeIndex node_;
    SimDiskOptions options_;
    std::uint64_t generation_ = 0;  // Bumped by crash(); stale handles stop calling back.
    std::map<std::string, std::shared_ptr<SimInode>> names_;          // What open() sees.
    std::map<std::string, std::shared_ptr<SimInode>> durable_names_;  // What survives a crash.
    std::set<std::string> directories_;
};

}  // namespace herald::sim
