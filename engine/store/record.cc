#include "engine/store/record.h"

#include <algorithm>
#include <cstring>

#include "engine/base/assert.h"
#include "engine/store/crc32c.h"

namespace herald::store::record {
namespace {

// Little-endian, `width` bytes of `value`.
void put_le(std::vector<std::byte>& out, std::uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
        out.push_back(static_cast<std::byte>((value >> (8U * i)) & 0xffU));
    }
}
void put_u16(std::vector<std::byte>& out, std::uint16_t value) { put_le(out, value, 2); }
void put_u32(std::vector<std::byte>& out, std::uint32_t value) { put_le(out, value, 4); }
void put_u64(std::vector<std::byte>& out, std::uint64_t value) { put_le(out, value, 8); }
void put_text(std::vector<std::byte>& out, std::string_view text) {
    const auto* begin = reinterpret_cast<const std::byte*>(text.data());
    out.insert(out.end(), begin, begin + text.size());
}

std::uint64_t get(std::span<const std::byte> bytes, std::size_t offset, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        value |= static_cast<std::uint64_t>(bytes[offset + i]) << (8 * i);
    }
    return value;
}
std::uint32_t get_u32(std::span<const std::byte> bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(get(bytes, offset, 4));
}

std::string_view text_at(std::span<const std::byte> bytes, std::size_t offset, std::size_t size) {
    return {reinterpret_cast<const char*>(bytes.data() + offset), size};
}

// Writes the header of a record of `length` bytes at out[start...]; the body follows.
void put_header(std::vector<std::byte>& out, std::uint32_t length, Kind kind,
                std::uint16_t subject_size, std::uint32_t headers_size, Seq seq,
                std::int64_t timestamp_ns) {
    put_u32(out, record_magic);
    put_u32(out, length);
    out.push_back(static_cast<std::byte>(kind));
    out.push_back(std::byte{0});
    put_u16(out, subject_size);
    put_u32(out, headers_size);
    put_u64(out, seq);
    put_u64(out, static_cast<std::uint64_t>(timestamp_ns));
}

void put_checksum(std::vector<std::byte>& out, std::size_t start) {
    const std::uint32_t crc =
        crc32c(std::span<const std::byte>(out.data() + start, out.size() - start));
    put_u32(out, crc);
}

}  // namespace

void append_block_header(std::vector<std::byte>& out, const BlockHeader& header) {
    const std::size_t start = out.size();
    put_u32(out, block_magic);
    put_u32(out, format_version);
    put_u64(out, header.block);
    put_u64(out, header.last_seq_before);
    put_u32(out, 0);
    put_checksum(out, start);
    ASSERT(out.size() - start == block_header_size);
}

std::optional<BlockHeader> decode_block_header(std::span<const std::byte> bytes) {
    if (bytes.size() < block_header_size) return std::nullopt;
    if (get_u32(bytes, 0) != block_magic || get_u32(bytes, 4) != format_version) return std::nullopt;
    if (crc32c(bytes.first(block_header_size - trailer_size)) != get_u32(bytes, 28)) {
        return std::nullopt;
    }
    return BlockHeader{get(bytes, 8, 8), get(bytes, 16, 8)};
}

std::uint32_t append_message(std::vector<std::byte>& out, Seq seq, std::int64_t timestamp_ns,
                             std::string_view subject, std::string_view headers,
                             std::string_view payload) {
    ASSERT(seq > 0);
    ASSERT(!subject.empty());
    ASSERT(subject.size() <= subject_size_max);
    const std::uint64_t length = message_size(subject.size(), headers.size(), payload.size());
    ASSERT(length <= record_size_max);
    const std::size_t start = out.size();
    put_header(out, static_cast<std::uint32_t>(length), Kind::message,
               static_cast<std::uint16_t>(subject.size()), static_cast<std::uint32_t>(headers.size()),
               seq, timestamp_ns);
    put_text(out, subject);
    put_text(out, headers);
    put_text(out, payload);
    put_checksum(out, start);
    ASSERT(out.size() - start == length);
    return static_cast<std::uint32_t>(length);
}

std::uint32_t append_erase(std::vector<std::byte>& out, std::int64_t timestamp_ns,
                           std::span<const SeqRange> ranges, Seq skip_last) {
    ASSERT(!ranges.empty());
    ASSERT(ranges.size() <= erase_ranges_per_record_max);
    const std::size_t length = header_size + 16 * ranges.size() + trailer_size;
    const std::size_t start = out.size();
    put_header(out, static_cast<std::uint32_t>(length), Kind::erase, 0,
               static_cast<std::uint32_t>(ranges.size()), skip_last, timestamp_ns);
    for (const SeqRange& range : ranges) {
        ASSERT(range.first > 0);
        ASSERT(range.first <= range.last);
        put_u64(out, range.first);
        put_u64(out, range.last);
    }
    put_checksum(out, start);
    ASSERT(out.size() - start == length);
    return static_cast<std::uint32_t>(length);
}

Decode decode(std::span<const std::byte> bytes, Record& record) {
    if (bytes.size() < 4 || get_u32(bytes, 0) != record_magic) return Decode::bad;
    if (bytes.size() < header_size) return Decode::short_data;
    const std::uint32_t length = get_u32(bytes, 4);
    if (length < header_size + trailer_size || length > record_size_max) return Decode::bad;
    if (length > bytes.size()) return Decode::short_data;
    const auto kind = static_cast<Kind>(bytes[8]);
    if ((kind != Kind::message && kind != Kind::erase) || bytes[9] != std::byte{0}) return Decode::bad;
    if (crc32c(bytes.first(length - trailer_size)) != get_u32(bytes, length - trailer_size)) {
        return Decode::bad;
    }
    const auto subject_size = static_cast<std::size_t>(get(bytes, 10, 2));
    const std::size_t headers_size = get_u32(bytes, 12);
    const std::size_t body_size = length - header_size - trailer_size;
    record.kind = kind;
    record.length = length;
    record.seq = get(bytes, 16, 8);
    record.timestamp_ns = static_cast<std::int64_t>(get(bytes, 24, 8));
    record.ranges.clear();
    if (kind == Kind::message) {
        if (subject_size == 0 || subject_size + headers_size > body_size || record.seq == 0) {
            return Decode::bad;
        }
        record.subject = text_at(bytes, header_size, subject_size);
        record.headers = text_at(bytes, header_size + subject_size, headers_size);
        record.payload = text_at(bytes, header_size + subject_size + headers_size,
                                 body_size - subject_size - headers_size);
        return Decode::ok;
    }
    if (subject_size != 0 || headers_size == 0 || headers_size * 16 != body_size) return Decode::bad;
    record.subject = {};
    record.headers = {};
    record.payload = {};
    for (std::size_t i = 0; i < headers_size; ++i) {
        const SeqRange range{get(bytes, header_size + 16 * i, 8), get(bytes, header_size + 16 * i + 8, 8)};
        if (range.first == 0 || range.first > range.last) return Decode::bad;
        record.ranges.push_back(range);
    }
    return Decode::ok;
}

BlockScan scan_block(std::span<const std::byte> bytes, bool canary_stop_at_damage) {
    BlockScan scan;
    const std::uint64_t size = bytes.size();
    if (size < block_header_size) {
        // A block whose creation was torn: nothing in it was ever acknowledged.
        if (size > 0) scan.damage.push_back(Damage{Damage::Kind::torn_tail, 0, 0, size});
        scan.valid_end = 0;
        return scan;
    }
    scan.header = decode_block_header(bytes);
    if (!scan.header) {
        scan.damage.push_back(Damage{Damage::Kind::bad_block_header, 0, 0, block_header_size});
    }
    // A block file may be extended ahead of its writes (FileStoreConfig::preallocate_bytes), always
    // to a multiple of extend_alignment: in such a file the zeros after the last non-zero byte are
    // unused space, not damage. Records never start with a zero byte (the magic), so a scan that
    // reaches data_end has read every record. A file of any other size was not extended (or was
    // cut back to its records) and is read as it is.
    std::uint64_t data_end = size;
    if (size % extend_alignment == 0) {
        while (data_end > block_header_size && bytes[data_end - 1] == std::byte{0}) --data_end;
    }
    std::uint64_t position = block_header_size;
    Record record;
    while (position < size) {
        if (position >= data_end) {
            scan.zero_tail = size - position;
            break;
        }
        const Decode result = decode(bytes.subspan(position), record);
        if (result == Decode::ok) {
            scan.records.push_back(BlockScan::Entry{position, record});
            position += record.length;
            continue;
        }
        // Resync: the next offset where a whole record decodes.
        std::uint64_t next = position + 1;
        Record probe;
        for (; next + header_size + trailer_size <= data_end; ++next) {
            if (get_u32(bytes, static_cast<std::size_t>(next)) == record_magic &&
                decode(bytes.subspan(next), probe) == Decode::ok) {
                break;
            }
        }
        if (next + header_size + trailer_size <= data_end && !canary_stop_at_damage) {  // canary: test-only
            scan.damage.push_back(Damage{Damage::Kind::corrupt_middle, 0, position, next - position});
            position = next;
            continue;
        }
        // At the end: without the zero tail, is the record short (a torn write) or whole but bad?
        // Up to trailer_size - 1 zero bytes still count as data: a checksum may end in zeros, a
        // torn write leaves at least the whole checksum unwritten.
        const auto data = bytes.first(static_cast<std::size_t>(std::min(size, data_end + trailer_size - 1)));
        const bool torn = data_end - position < header_size ||
                          decode(data.subspan(position), probe) == Decode::short_data;
        scan.damage.push_back(Damage{torn ? Damage::Kind::torn_tail : Damage::Kind::corrupt_tail, 0,
                                     position, data_end - position});
        scan.zero_tail = size - data_end;
        break;
    }
    scan.valid_end = position < size ? position : size;
    ASSERT(scan.valid_end <= size);
    return scan;
}

std::vector<std::byte> encode_index(const IndexContent& content) {
    ASSERT(content.blocks.size() <= index_blocks_max);
    std::vector<std::byte> out;
    put_u32(out, index_magic);
    put_u32(out, format_version);
    put_u32(out, static_cast<std::uint32_t>(content.blocks.size()));
    put_u32(out, 0);
    put_u64(out, content.acked_last_seq);
    for (const BlockHeader& block : content.blocks) {
        put_u64(out, block.block);
        put_u64(out, block.last_seq_before);
    }
    put_checksum(out, 0);
    return out;
}

std::optional<IndexContent> decode_index(std::span<const std::byte> bytes) {
    constexpr std::size_t fixed = 24;
    if (bytes.size() < fixed + trailer_size) return std::nullopt;
    if (get_u32(bytes, 0) != index_magic || get_u32(bytes, 4) != format_version) return std::nullopt;
    const std::size_t count = get_u32(bytes, 8);
    if (count > index_blocks_max || bytes.size() != fixed + 16 * count + trailer_size) return std::nullopt;
    if (crc32c(bytes.first(bytes.size() - trailer_size)) != get_u32(bytes, bytes.size() - trailer_size)) {
        return std::nullopt;
    }
    IndexContent content;
    content.acked_last_seq = get(bytes, 16, 8);
    for (std::size_t i = 0; i < count; ++i) {
        content.blocks.push_back(BlockHeader{get(bytes, fixed + 16 * i, 8), get(bytes, fixed + 16 * i + 8, 8)});
    }
    return content;
}

}  // namespace herald::store::record
