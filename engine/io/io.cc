#include "engine/io/io.h"

#include "engine/base/assert.h"

namespace herald::io {

std::uint64_t Random::uniform(std::uint64_t bound) {
    ASSERT(bound > 0);
    // Lemire's multiply-shift with rejection: unbiased.
    const std::uint64_t threshold = (0 - bound) % bound;
    while (true) {
        const std::uint64_t x = next_u64();
        __extension__ using U128 = unsigned __int128;
        const U128 product = static_cast<U128>(x) * bound;
        if (static_cast<std::uint64_t>(product) >= threshold) {
            return static_cast<std::uint64_t>(product >> 64U);
        }
    }
}

std::uint64_t SplitMix64::next_u64() {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
}

}  // namespace herald::io
