#include "sim/faults.h"

#include "engine/base/assert.h"

namespace herald::sim {
namespace {

constexpr std::array<std::string_view, fault_kind_count> fault_kind_names = {
    "clock_skew",
    "clock_drift",
    "clock_jump",
    "net_slow_segment",
    "net_partition",
    "net_heal",
    "net_clog",
    "net_held_segment",
    "net_connect_failed",
    "net_reset",
    "net_blackhole",
    "disk_crash_keep_unsynced",
    "disk_crash_lose_unsynced",
    "disk_crash_keep_some",
    "disk_crash_tear_last",
    "disk_bit_flip",
    "disk_truncate",
    "disk_rollback",
    "disk_no_space",
    "disk_sync_error",
    "process_crash",
    "process_restart",
    "process_pause",
    "process_resume",
};
static_assert(fault_kind_names.size() == fault_kind_count);

}  // namespace

std::string_view fault_kind_name(FaultKind kind) {
    const auto index = static_cast<std::size_t>(kind);
    ASSERT(index < fault_kind_count);
    return fault_kind_names[index];
}

std::uint64_t FaultStats::total() const {
    std::uint64_t sum = 0;
    for (const std::uint64_t count : counts) sum += count;
    return sum;
}

std::string FaultStats::to_string() const {
    std::string text;
    for (std::size_t index = 0; index < fault_kind_count; ++index) {
        if (counts[index] == 0) continue;
        if (!text.empty()) text += ' ';
        text += fault_kind_names[index];
        text += '=';
        text += std::to_string(counts[index]);
    }
    return text.empty() ? "none" : text;
}

}  // namespace herald::sim
