// The FileStore's on-disk format: a block file is a block header followed by records; a record is a
// message or a delete marker ("erase"), each framed by a magic, its length and a CRC-32C. The
// magic lets recovery find the next whole record after damage (resync); the checksum tells a
// whole record from a torn or rotten one. All integers little-endian.
//
//   block header (32 B): magic "HBLK" u32 | version u32 | block id u64 | last_seq_before u64 |
//                        reserved u32 | crc32c of the first 28 bytes u32
//   record: magic "HREC" u32 | length u32 (whole record) | kind u8 | reserved u8 |
//           subject size u16 | headers size (erase: range count) u32 | seq u64 | timestamp i64 |
//           message: subject, headers, payload | erase: ranges (first u64, last u64)... |
//           crc32c of everything before it u32
//   An erase record's seq is 0, except for a skip (StreamStore::skip): then it is the last
//   skipped seq, and its timestamp the stream's last_ts from then on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/store/stream_store.h"

namespace herald::store::record {

inline constexpr std::uint32_t block_magic = 0x4b4c4248U;   // "HBLK" as little-endian bytes.
inline constexpr std::uint32_t record_magic = 0x43455248U;  // "HREC".
inline constexpr std::uint32_t format_version = 1;
inline constexpr std::size_t block_header_size = 32;
inline constexpr std::size_t header_size = 32;
inline constexpr std::size_t trailer_size = 4;
inline constexpr std::size_t subject_size_max = 0xffff;
// A record is at most this long: bounds what recovery trusts a length field to say.
inline constexpr std::size_t record_size_max = 64 * 1024 * 1024;
inline constexpr std::size_t erase_ranges_per_record_max = 4096;
static_assert(header_size + trailer_size == message_overhead_bytes);
static_assert(block_header_size == header_size);

enum class Kind : std::uint8_t { message = 1, erase = 2 };

struct BlockHeader {
    std::uint64_t block = 0;
    Seq last_seq_before = 0;  // The stream's last_seq when the block was created.
    friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

// A decoded record: views into the bytes it was decoded from.
struct Record {
    Kind kind = Kind::message;
    std::uint32_t length = 0;
    Seq seq = 0;
    std::int64_t timestamp_ns = 0;
    std::string_view subject;
    std::string_view headers;
    std::string_view payload;
    std::vector<SeqRange> ranges;  // Erase only.
};

enum class Decode : std::uint8_t {
    ok,
    short_data,  // A plausible header whose record runs past the end of the bytes (torn).
    bad,         // Not a whole valid record here.
};

void append_block_header(std::vector<std::byte>& out, const BlockHeader& header);
std::optional<BlockHeader> decode_block_header(std::span<const std::byte> bytes);

// Appends one record to `out` and returns its length. Preconditions: sizes within bounds.
std::uint32_t append_message(std::vector<std::byte>& out, Seq seq, std::int64_t timestamp_ns,
                             std::string_view subject, std::string_view headers,
                             std::string_view payload);
// skip_last: 0, or the last seq of the skip the record makes durable (its seq field).
std::uint32_t append_erase(std::vector<std::byte>& out, std::int64_t timestamp_ns,
                           std::span<const SeqRange> ranges, Seq skip_last = 0);

// Decodes the record at the start of `bytes`, checking magic, bounds and checksum.
Decode decode(std::span<const std::byte> bytes, Record& record);

// A block file extended ahead of its writes is extended to a multiple of this (scan_block).
inline constexpr std::uint64_t extend_alignment = 4096;

// What a scan of a whole block file found: its whole records in order and the damage.
struct BlockScan {
    std::optional<BlockHeader> header;
    struct Entry {
        std::uint64_t offset = 0;
        Record record;
    };
    std::vector<Entry> records;  // Views into the scanned bytes.
    std::vector<Damage> damage;  // block field set by the caller.
    std::uint64_t valid_end = 0;  // End of the last whole record (where a torn tail starts).
    std::uint64_t zero_tail = 0;  // Zero bytes at the end: space extended ahead, not damage.
};

// Reads a block: whole records are kept; damage in the middle is skipped up to the next record
// that decodes (resync on the magic + checksum); damage at the end is a torn tail (a short
// record) or a corrupt tail (whole length, bad checksum). Zero bytes at the very end are space the
// store extended ahead of its writes: neither records nor damage (zero_tail).
// canary_stop_at_damage: test-only (StoreCanaries::stop_at_damage), no resync after damage.
BlockScan scan_block(std::span<const std::byte> bytes, bool canary_stop_at_damage = false);

// The index file (index.dat): magic "HIDX" u32 | version u32 | block count u32 | reserved u32 |
// acked_last_seq u64 | per block: id u64, last_seq_before u64 | crc32c u32. It is a cross-check
// for recovery (what sequences were acknowledged, which blocks exist), rebuilt when missing.
inline constexpr std::uint32_t index_magic = 0x58444948U;  // "HIDX".
inline constexpr std::size_t index_blocks_max = 1024 * 1024;

struct IndexContent {
    Seq acked_last_seq = 0;
    std::vector<BlockHeader> blocks;  // Ascending ids.
    friend bool operator==(const IndexContent&, const IndexContent&) = default;
};

std::vector<std::byte> encode_index(const IndexContent& content);
std::optional<IndexContent> decode_index(std::span<const std::byte> bytes);

}  // namespace herald::store::record
