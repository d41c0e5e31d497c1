// CRC-32C (Castagnoli), the checksum of every file-store record and of the index and consumer
// files. SSE4.2 instructions where the CPU has them, else software slicing-by-8; no
// dependencies; crc32c("123456789") == 0xe3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace herald::store {

// Continues a running checksum: crc32c(b, crc32c(a)) == crc32c(a ++ b). Start with 0.
std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc = 0);
// The table-driven version crc32c() falls back to (tests compare the two).
std::uint32_t crc32c_software(std::span<const std::byte> bytes, std::uint32_t crc = 0);

}  // namespace herald::store
