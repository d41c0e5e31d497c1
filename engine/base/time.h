// Time types of the engine: a monotonic Instant and a Duration, both in nanoseconds. Real time is
// read only through io::Clock; these are plain values.
#pragma once

#include <compare>
#include <cstdint>

namespace herald {

struct Duration {
    std::uint64_t ns = 0;
    friend auto operator<=>(Duration, Duration) = default;

    static constexpr Duration nanoseconds(std::uint64_t n) { return {n}; }
    static constexpr Duration microseconds(std::uint64_t n) { return {n * 1000}; }
    static constexpr Duration milliseconds(std::uint64_t n) { return {n * 1000 * 1000}; }
    static constexpr Duration seconds(std::uint64_t n) { return {n * 1000 * 1000 * 1000}; }
    constexpr Duration operator+(Duration other) const { return {ns + other.ns}; }
    constexpr Duration operator*(std::uint64_t k) const { return {ns * k}; }
};

struct Instant {
    std::uint64_t ns = 0;
    friend auto operator<=>(Instant, Instant) = default;

    constexpr Instant operator+(Duration d) const { return {ns + d.ns}; }
    // Time since an earlier instant; zero if `earlier` is in fact later.
    constexpr Duration since(Instant earlier) const { return {ns > earlier.ns ? ns - earlier.ns : 0}; }
};

}  // namespace herald
