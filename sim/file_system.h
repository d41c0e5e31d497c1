// SimFileSystem: one node's simulated disk. Like FoundationDB's AsyncFileNonDurable it keeps what
// was written apart from what is durable: file contents become durable at sync(), names (create,
// rename, remove) at sync_directory() of their directory. crash() throws (some of) the rest away;
// faults at rest (bit flips, truncation, rollback), ENOSPC and fsync errors are in faults.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/io/io.h"
#include "sim/world.h"

namespace herald::sim {

struct SimDiskOptions {
    Duration io_latency = Duration::microseconds(20);   // read_at, write_at, truncate.
    Duration sync_latency = Duration::milliseconds(1);  // sync, sync_directory.
    Duration sync_latency_jitter = Duration{};          // Added: uniform in [0, jitter].
    // ENOSPC: a write_at or truncate that would make the files' total size exceed this fails
    // with Errc::no_space and changes nothing. 0 = no limit.
    std::uint64_t space_bytes_max = 0;
    // Each sync / sync_directory fails with Errc::io_error with this probability, in [0, 1].
    double sync_error_probability = 0.0;
};

// The contents of one file: what reads see, and what survives a crash.
struct SimInode {
    // A write or truncate not yet covered by a successful sync, kept so a crash can keep some.
    struct Change {
        std::uint64_t sequence = 0;
        std::uint64_t offset = 0;     // Write: where. Truncate: the new size.
        bool truncate = false;
        std::vector<std::byte> bytes;  // Write: what.
    };
    std::vector<std::byte> data;              // What reads see (the page cache).
    std::vector<std::byte> durable;           // What survives a crash.
    std::vector<std::byte> previous_durable;  // `durable` before the last successful sync.
    std::vector<Change> unsynced;             // In issue order.
    std::uint64_t next_sequence = 0;
    std::uint64_t synced_sequence = 0;  // Changes before this one are in `durable`.
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

    // A crash of the node: open Files go dead (no callback of an operation issued before it
    // runs); what survives of unsynced writes and names is up to `mode` (faults.h, DiskCrash).
    void crash(DiskCrash mode = DiskCrash::lose_unsynced);

    // Faults at rest, on the durable content of `path` (and on what reads see, where that
    // equals the durable content: a clean page cache). All draw from the world's Random.
    // Flips `count` distinct bits chosen uniformly; returns their bit offsets, ascending (fewer
    // if the file has fewer bits; empty if there is no such file).
    std::vector<std::uint64_t> flip_bits(const std::string& path, std::uint64_t count);
    // Cuts the file to a random length in [0, size); returns the new length, or nullopt if the
    // file is missing or empty.
    std::optional<std::uint64_t> truncate_at_rest(const std::string& path);
    // Puts back the content of the file before its last successful sync (an older copy, as a
    // lying disk or a restored snapshot would; empty if synced at most once); unsynced changes
    // are dropped too. False if there is no such file.
    bool rollback(const std::string& path);
    // The next `count` syncs (file or directory) fail with Errc::io_error. After a failed sync
    // the data it would have covered stays written but unsynced: a later successful sync makes
    // it durable, a crash first may lose it. (Linux may instead drop the dirty pages; engines
    // must not retry fsync and trust it, so treating EIO as fatal is right under both.)
    void fail_next_syncs(std::uint64_t count) { failing_syncs_ += count; }
    void clear_failing_syncs() { failing_syncs_ = 0; }
    // Paths with durable content, sorted: where the nemesis picks a file for faults at rest.
    std::vector<std::string> durable_paths() const;
    // Total size of the files as reads see them (what space_bytes_max limits).
    std::uint64_t used_bytes() const;

    SimDiskOptions& options() { return options_; }

    // Used by SimFile. Whether the next sync fails (counts the fault), and its latency.
    bool next_sync_fails();
    Duration next_sync_latency();
    // Whether growing the files by `growth` bytes fits in space_bytes_max (counts the fault).
    bool space_for(std::uint64_t growth);

    // The node's process is crashed: its leftover objects (destructors) change nothing; open,
    // remove, rename and make_directories fail with io_error, other calls never complete.
    bool process_dead() const;
    std::uint64_t generation() const { return generation_; }
    SimWorld& world() { return world_; }
    NodeIndex node() const { return node_; }

private:
    bool directory_exists(const std::string& path) const;
    SimInode* durable_inode(const std::string& path);

    std::uint64_t failing_syncs_ = 0;

    SimWorld& world_;
    NodeIndex node_;
    SimDiskOptions options_;
    std::uint64_t generation_ = 0;  // Bumped by crash(); stale handles stop calling back.
    std::map<std::string, std::shared_ptr<SimInode>> names_;          // What open() sees.
    std::map<std::string, std::shared_ptr<SimInode>> durable_names_;  // What survives a crash.
    std::set<std::string> directories_;
};

}  // namespace herald::sim
