#include "engine/store/crc32c.h"

#include <array>

namespace herald::store {
namespace {

constexpr std::uint32_t polynomial_reflected = 0x82f63b78U;

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables make_tables() {
    Tables tables{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1U) != 0 ? polynomial_reflected : 0U);
        tables[0][i] = crc;
    }
    for (std::size_t t = 1; t < 8; ++t) {
        for (std::size_t i = 0; i < 256; ++i) {
            const std::uint32_t previous = tables[t - 1][i];
            tables[t][i] = (previous >> 8) ^ tables[0][previous & 0xffU];
        }
    }
    return tables;
}

constexpr Tables tables = make_tables();
static_assert(tables[0][1] == 0xf26b8303U);

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) {
    crc = ~crc;
    const std::byte* p = bytes.data();
    std::size_t n = bytes.size();
    while (n >= 8) {
        const std::uint32_t low = crc ^ (static_cast<std::uint32_t>(p[0]) |
                                         static_cast<std::uint32_t>(p[1]) << 8 |
                                         static_cast<std::uint32_t>(p[2]) << 16 |
                                         static_cast<std::uint32_t>(p[3]) << 24);
        crc = tables[7][low & 0xffU] ^ tables[6][(low >> 8) & 0xffU] ^
              tables[5][(low >> 16) & 0xffU] ^ tables[4][low >> 24] ^
              tables[3][static_cast<std::uint32_t>(p[4])] ^ tables[2][static_cast<std::uint32_t>(p[5])] ^
              tables[1][static_cast<std::uint32_t>(p[6])] ^ tables[0][static_cast<std::uint32_t>(p[7])];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        crc = (crc >> 8) ^ tables[0][(crc ^ static_cast<std::uint32_t>(*p)) & 0xffU];
        ++p;
        --n;
    }
    return ~crc;
}

}  // namespace herald::store
