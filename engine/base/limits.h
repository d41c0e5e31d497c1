// Fixed bounds of the engine. Configurable bounds live in config::Options; these do not change at
// run time. Every queue, buffer and batch names its bound here or in Options.
#pragma once

#include <cstddef>
#include <cstdint>

namespace herald::limits {

// nats-server MAX_CONTROL_LINE_SIZE default; Options::max_control_line may lower or raise it.
inline constexpr std::size_t control_line_size_default = 4096;
inline constexpr std::size_t payload_size_default = std::size_t{1024} * 1024;  // MAX_PAYLOAD_SIZE
inline constexpr std::size_t pending_size_default =
    std::size_t{64} * 1024 * 1024;  // MAX_PENDING_SIZE
inline constexpr std::uint32_t connections_default =
    std::uint32_t{64} * 1024;                                   // DEFAULT_MAX_CONNECTIONS
inline constexpr std::size_t sublist_cache_entries_max = 1024;  // slCacheMax
inline constexpr std::size_t sublist_cache_sweep_to = 256;      // slCacheSweep
inline constexpr std::size_t read_buffer_size_min = 512;
inline constexpr std::size_t read_buffer_size_max = std::size_t{64} * 1024;
inline constexpr std::size_t write_iovecs_max = 64;  // per vectored write
inline constexpr std::size_t outbound_chunk_size = std::size_t{32} * 1024;

static_assert(control_line_size_default >= 1024);
static_assert(sublist_cache_sweep_to < sublist_cache_entries_max);
static_assert(read_buffer_size_min <= read_buffer_size_max);

}  // namespace herald::limits
