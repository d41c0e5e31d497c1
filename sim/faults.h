// The simulator's fault vocabulary: every kind of fault the world can inject, the knobs of the
// fault models as plain data, and FaultStats, the per-kind counters that herald-sim prints. The
// nemesis (chaos/) drives faults through these methods, all on objects the world owns:
//
//   time     node.clock().set_skew_ns(ns) / set_drift_ppm(ppm) / jump_realtime_ns(delta)
//            SimNodeOptions::clock (initial skew and drift)
//   network  world.network(): set_link(from, to, SimLinkOptions), set_link_both(a, b, ...),
//            partition(a, b), partition_one_way(from, to), bridge(a, b, c), isolate(n),
//            block(from, to), heal(), heal(from, to), blocked(from, to), clog(a, b, d),
//            clog_one_way(from, to, d), clogged(from, to), connections(),
//            reset_connection(id), reset_connections(a, b), blackhole_connection(id)
//            SimWorldOptions::network (default link, connect timeout)
//   disk     node.file_system(): crash(DiskCrash), flip_bits(path, n), truncate_at_rest(path),
//            rollback(path), fail_next_syncs(n), options().space_bytes_max,
//            options().sync_error_probability, options().sync_latency(_jitter), durable_paths(),
//            used_bytes()
//   process  world.crash_node(i, CrashOptions), world.restart_node(i), world.pause_node(i),
//            world.resume_node(i), world.node_state(i)
//
// Every random choice of a fault model is drawn from the world's seeded Random, every fault that
// fires is counted in world.fault_stats() and mixed into world.trace_hash(), so one seed replays
// the same faults at the same events. sim/README.md has the semantics in one place.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/time.h"

namespace herald::sim {

// One counter per kind in FaultStats. "Per" says what one count is.
enum class FaultKind : std::uint8_t {
    clock_skew = 0,         // Per set_skew_ns call.
    clock_drift,            // Per set_drift_ppm call.
    clock_jump,             // Per jump_realtime_ns call.
    net_slow_segment,       // Per segment that drew the slow tail of its link's latency.
    net_partition,          // Per directed link newly blocked (partition, block, isolate...).
    net_heal,               // Per directed link unblocked.
    net_clog,               // Per clog / clog_one_way call (per direction).
    net_held_segment,       // Per time a connection direction found its link blocked or clogged.
    net_connect_failed,     // Per connect that timed out or was refused because of a fault.
    net_reset,              // Per connection reset (reset_connection or a crashed peer).
    net_blackhole,          // Per connection black-holed (blackhole_connection or a silent crash).
    disk_crash_keep_unsynced,  // Per SimFileSystem::crash(DiskCrash::keep_unsynced).
    disk_crash_lose_unsynced,  // Per crash(DiskCrash::lose_unsynced).
    disk_crash_keep_some,      // Per crash(DiskCrash::keep_some).
    disk_crash_tear_last,      // Per crash(DiskCrash::tear_last).
    disk_bit_flip,          // Per bit flipped.
    disk_truncate,          // Per truncate_at_rest that shortened a file.
    disk_rollback,          // Per rollback that restored an older synced copy.
    disk_no_space,          // Per write_at or truncate failed with Errc::no_space.
    disk_sync_error,        // Per sync or sync_directory failed with Errc::io_error.
    process_crash,          // Per crash_node.
    process_restart,        // Per restart_node.
    process_pause,          // Per pause_node.
    process_resume,         // Per resume_node.
    count_,                 // Not a kind: the number of kinds.
};

inline constexpr std::size_t fault_kind_count = static_cast<std::size_t>(FaultKind::count_);

// "clock_skew", "net_partition", ...: the enumerator's name.
std::string_view fault_kind_name(FaultKind kind);

// Faults fired so far, per kind. Owned by SimWorld (fault_stats()).
struct FaultStats {
    std::array<std::uint64_t, fault_kind_count> counts{};

    std::uint64_t operator[](FaultKind kind) const { return counts[static_cast<std::size_t>(kind)]; }
    std::uint64_t total() const;
    // "net_partition=4 disk_bit_flip=3": every nonzero kind in enum order, or "none".
    std::string to_string() const;
};

// What a crash does to a node's unsynced disk state (SimFileSystem::crash, CrashOptions::disk).
// Durable state (synced file content, names made durable by sync_directory) always survives.
enum class DiskCrash : std::uint8_t {
    // Process crash with the OS alive (kill -9): the page cache survives, nothing is lost.
    keep_unsynced,
    // Power loss: every unsynced write, truncate and name change is lost.
    lose_unsynced,
    // Power loss with partial writeback: each unsynced write or truncate of each file survives
    // independently with probability 1/2 (a random subset, not a prefix: a later write may
    // survive while an earlier one is lost), applied in issue order over the durable content.
    // Unsynced names are lost.
    keep_some,
    // Power loss during writeback: in each file with unsynced writes, every unsynced write but
    // the last survives, and of the last one only a random prefix (possibly empty, never whole).
    // Unsynced names are lost.
    tear_last,
};

// What the peers of a crashed node see on their connections to it (CrashOptions::peers).
enum class PeerView : std::uint8_t {
    // The process died, its kernel did not: bytes already in flight from it are delivered, then
    // a reset (reads fail with Errc::connection_reset); connects to it are refused.
    reset,
    // The machine is gone (power, kernel panic, cable): peers see nothing at all. Their bytes
    // vanish, their connections stay half-open until their own timeouts (PING/PONG) fire;
    // connects to it time out after SimNetworkOptions::connect_timeout.
    silent,
};

struct CrashOptions {
    DiskCrash disk = DiskCrash::lose_unsynced;
    PeerView peers = PeerView::reset;
};

// A node's process, as crash_node / restart_node / pause_node / resume_node leave it.
enum class NodeState : std::uint8_t {
    up,       // Running.
    paused,   // SIGSTOP: its events wait (time still passes) until resume_node.
    crashed,  // kill -9: its events are gone; whatever it schedules is dropped until restart.
};

// One direction of the link between two nodes. The delay of a segment is
//   start     = max(now, link busy until)                       (bandwidth: a shared wire)
//   busy until = start + size / bandwidth_bytes_per_second      (0 = unlimited: no wait)
//   due       = busy until + latency_min + uniform[0, latency_jitter]
//               + (with slow_probability) uniform[slow_extra_min, slow_extra_max]
// and never earlier than the previous segment of the same connection and direction, so a
// connection stays an ordered byte stream (a slow segment holds back those behind it, as TCP's
// head-of-line blocking does).
struct SimLinkOptions {
    Duration latency_min = Duration::microseconds(100);
    Duration latency_jitter = Duration::microseconds(50);  // Added: uniform in [0, jitter].
    double slow_probability = 0.0;                         // Per segment, in [0, 1].
    Duration slow_extra_min = Duration::milliseconds(50);
    Duration slow_extra_max = Duration::milliseconds(500);
    std::uint64_t bandwidth_bytes_per_second = 0;          // 0 = unlimited.
};

// The fabric's defaults. Faults that block a link (partition, block, isolate) hold bytes: they
// are not delivered and not lost, and arrive in order after heal, as TCP retransmission would
// make them; so only keepalives (PING/PONG) notice a partition. A clog is a block that ends by
// itself after its duration.
struct SimNetworkOptions {
    SimLinkOptions link;  // Every link without a set_link override.
    // A connect whose SYN or answer meets a blocked link (or a silently crashed target) fails
    // with Errc::timed_out after this long; with partition_refuses_connect, with
    // Errc::connection_refused after a round trip instead.
    Duration connect_timeout = Duration::seconds(5);
    bool partition_refuses_connect = false;
};

// Initial time faults of a node (SimNodeOptions::clock); change them later through SimClock.
struct SimClockOptions {
    std::int64_t skew_ns = 0;    // Added to the node's realtime_ns().
    std::int64_t drift_ppm = 0;  // The node's clocks run (1 + ppm/1e6) times world speed; > -1e6.
};

}  // namespace herald::sim
