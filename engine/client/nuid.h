// Nuid: NATS unique identifiers (22 base62 characters: a 12-character random prefix and a
// 10-character sequence with a random increment), as nats.go's nuid package makes them, but
// drawn from the Env's Random so simulated runs repeat. Used for inbox subjects.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/io/io.h"

namespace herald::client {

class Nuid {
public:
    static constexpr std::size_t prefix_size = 12;
    static constexpr std::size_t sequence_size = 10;
    static constexpr std::size_t size = prefix_size + sequence_size;

    explicit Nuid(io::Random& random);

    std::string next();
    // Appends `value` in base62, at least `width` digits (zero-padded).
    static void append_base62(std::string& out, std::uint64_t value, std::size_t width);

private:
    void randomize_prefix();
    void reset_sequence();

    io::Random& random_;
    std::array<char, prefix_size> prefix_{};
    std::uint64_t sequence_ = 0;
    std::uint64_t increment_ = 0;
};

}  // namespace herald::client
