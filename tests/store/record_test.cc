// The FileStore's record format: CRC-32C known answers, encode/decode round trips, and the block
// scanner's classification of damage (torn tail, corrupt tail, corrupt middle with resync).
#include <catch2/catch.hpp>
#include <string>

#include "engine/store/crc32c.h"
#include "engine/store/record.h"

using herald::store::crc32c;
using herald::store::Damage;
namespace record = herald::store::record;

namespace {

std::span<const std::byte> bytes_of(std::string_view text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::vector<std::byte> block_with(int records) {
    std::vector<std::byte> out;
    record::append_block_header(out, record::BlockHeader{1, 0});
    for (int i = 1; i <= records; ++i) {
        record::append_message(out, static_cast<std::uint64_t>(i), i, "subject", "hdr", "payload");
    }
    return out;
}

}  // namespace

TEST_CASE("store record: crc32c matches the Castagnoli check values", "[store][record]") {
    CHECK(crc32c(bytes_of("123456789")) == 0xe3069283U);
    CHECK(crc32c(bytes_of("")) == 0U);
    const std::string long_text(1000, 'a');
    const auto whole = crc32c(bytes_of(long_text));
    CHECK(crc32c(bytes_of(long_text).subspan(300), crc32c(bytes_of(long_text).first(300))) == whole);
}

TEST_CASE("store record: crc32c (hardware where present) equals the table version", "[store][record]") {
    CHECK(herald::store::crc32c_software(bytes_of("123456789")) == 0xe3069283U);
    std::string text;
    for (int i = 0; i < 300; ++i) text.push_back(static_cast<char>((i * 131 + 7) % 251));
    const auto all = bytes_of(text);
    // Every length 0..64 at every alignment 0..7, and a continued checksum.
    for (std::size_t offset = 0; offset < 8; ++offset) {
        for (std::size_t length = 0; length <= 64; ++length) {
            const auto part = all.subspan(offset, length);
            REQUIRE(crc32c(part) == herald::store::crc32c_software(part));
            REQUIRE(crc32c(part, 0x12345678U) == herald::store::crc32c_software(part, 0x12345678U));
        }
    }
    CHECK(crc32c(all) == herald::store::crc32c_software(all));
}

TEST_CASE("store record: messages and erase markers round-trip", "[store][record]") {
    std::vector<std::byte> out;
    const auto length = record::append_message(out, 7, -5, "a.b", "NATS/1.0\r\n\r\n", "body");
    record::Record decoded;
    REQUIRE(record::decode(out, decoded) == record::Decode::ok);
    CHECK(decoded.length == length);
    CHECK(decoded.seq == 7);
    CHECK(decoded.timestamp_ns == -5);
    CHECK(decoded.subject == "a.b");
    CHECK(decoded.headers == "NATS/1.0\r\n\r\n");
    CHECK(decoded.payload == "body");
    out.clear();
    const std::vector<herald::store::SeqRange> ranges{{1, 3}, {9, 9}};
    record::append_erase(out, 11, ranges);
    REQUIRE(record::decode(out, decoded) == record::Decode::ok);
    CHECK(decoded.kind == record::Kind::erase);
    CHECK(decoded.ranges == ranges);
    out.pop_back();
    CHECK(record::decode(out, decoded) == record::Decode::short_data);
}

TEST_CASE("store record: the scanner tells a torn tail from damage in the middle", "[store][record]") {
    const auto whole = block_with(5);
    const std::size_t length = (whole.size() - record::block_header_size) / 5;
    SECTION("clean") {
        const auto scan = record::scan_block(whole);
        CHECK(scan.records.size() == 5);
        CHECK(scan.damage.empty());
        CHECK(scan.valid_end == whole.size());
    }
    SECTION("torn tail") {
        auto torn = whole;
        torn.resize(torn.size() - 3);
        const auto scan = record::scan_block(torn);
        CHECK(scan.records.size() == 4);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::torn_tail);
        CHECK(scan.valid_end == whole.size() - length);
    }
    SECTION("corrupt tail") {
        auto rotten = whole;
        rotten[rotten.size() - 10] ^= std::byte{1};
        const auto scan = record::scan_block(rotten);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::corrupt_tail);
    }
    SECTION("corrupt middle") {
        auto rotten = whole;
        rotten[record::block_header_size + 2 * length + 40] ^= std::byte{0x10};
        const auto scan = record::scan_block(rotten);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::corrupt_middle);
        CHECK(scan.damage[0].offset == record::block_header_size + 2 * length);
        CHECK(scan.damage[0].bytes == length);
        REQUIRE(scan.records.size() == 4);
        CHECK(scan.records[2].record.seq == 4);
        CHECK(scan.valid_end == whole.size());
    }
}

// Goal: a block file extended ahead of its writes (zeros after the last record) scans as clean,
// and damage at its end is still told apart: a record torn inside the zeros is a torn tail of
// only its written bytes, a whole record with a bad checksum is a corrupt tail.
TEST_CASE("store record: zeros after the last record are unused space, not damage", "[store][record]") {
    const auto whole = block_with(5);
    const std::size_t length = (whole.size() - record::block_header_size) / 5;
    const std::size_t aligned = (whole.size() / record::extend_alignment + 1) * record::extend_alignment;
    SECTION("clean with a zero tail") {
        auto extended = whole;
        extended.resize(aligned);
        const auto scan = record::scan_block(extended);
        CHECK(scan.records.size() == 5);
        CHECK(scan.damage.empty());
        CHECK(scan.valid_end == whole.size());
        CHECK(scan.zero_tail == aligned - whole.size());
    }
    SECTION("zeros in a file not extended (size not aligned) are damage as before") {
        auto extended = whole;
        extended.resize(aligned - 1);
        const auto scan = record::scan_block(extended);
        CHECK(scan.records.size() == 5);
        CHECK(scan.damage.size() == 1);
        CHECK(scan.zero_tail == 0);
    }
    SECTION("a header only, then zeros") {
        auto extended = block_with(0);
        const std::size_t header = extended.size();
        extended.resize(record::extend_alignment);
        const auto scan = record::scan_block(extended);
        CHECK(scan.records.empty());
        CHECK(scan.damage.empty());
        CHECK(scan.valid_end == header);
    }
    SECTION("a record torn inside the zeros") {
        auto torn = whole;
        std::fill(torn.end() - static_cast<std::ptrdiff_t>(length / 2), torn.end(), std::byte{0});
        torn.resize(aligned);
        const auto scan = record::scan_block(torn);
        CHECK(scan.records.size() == 4);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::torn_tail);
        CHECK(scan.damage[0].offset == whole.size() - length);
        // Its written part, less any zero bytes that part ends with.
        CHECK(scan.damage[0].bytes > 0);
        CHECK(scan.damage[0].bytes <= length - length / 2);
        CHECK(scan.valid_end == whole.size() - length);
    }
    SECTION("a whole bad record before the zeros") {
        auto rotten = whole;
        rotten[rotten.size() - 10] ^= std::byte{1};
        rotten.resize(aligned);
        const auto scan = record::scan_block(rotten);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::corrupt_tail);
        CHECK(scan.valid_end == whole.size() - length);
    }
    SECTION("damage in the middle, then zeros") {
        auto rotten = whole;
        rotten[record::block_header_size + 2 * length + 40] ^= std::byte{0x10};
        rotten.resize(aligned);
        const auto scan = record::scan_block(rotten);
        REQUIRE(scan.damage.size() == 1);
        CHECK(scan.damage[0].kind == Damage::Kind::corrupt_middle);
        CHECK(scan.records.size() == 4);
        CHECK(scan.valid_end == whole.size());
    }
}

TEST_CASE("store record: the index file round-trips and rejects damage", "[store][record]") {
    record::IndexContent content{42, {{1, 0}, {2, 17}}};
    auto bytes = record::encode_index(content);
    CHECK(record::decode_index(bytes) == content);
    bytes[20] ^= std::byte{4};
    CHECK_FALSE(record::decode_index(bytes).has_value());
}
