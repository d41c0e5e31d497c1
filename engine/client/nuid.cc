#include "engine/client/nuid.h"

#include "engine/base/assert.h"

namespace herald::client {
namespace {

constexpr std::string_view digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::uint64_t base = 62;
constexpr std::uint64_t sequence_max = 839299365868340224ULL;  // 62^10
constexpr std::uint64_t increment_min = 33;
constexpr std::uint64_t increment_max = 333;
static_assert(digits.size() == base);

}  // namespace

Nuid::Nuid(io::Random& random) : random_(random) {
    randomize_prefix();
    reset_sequence();
}

void Nuid::randomize_prefix() {
    for (char& c : prefix_) c = digits[random_.uniform(base)];
}

void Nuid::reset_sequence() {
    sequence_ = random_.uniform(sequence_max);
    increment_ = increment_min + random_.uniform(increment_max - increment_min);
}

std::string Nuid::next() {
    sequence_ += increment_;
    if (sequence_ >= sequence_max) {
        randomize_prefix();
        reset_sequence();
    }
    std::string out(prefix_.data(), prefix_.size());
    std::uint64_t value = sequence_;
    std::array<char, sequence_size> tail{};
    for (std::size_t i = sequence_size; i > 0; --i) {
        tail[i - 1] = digits[value % base];
        value /= base;
    }
    out.append(tail.data(), tail.size());
    ASSERT(out.size() == size);
    return out;
}

void Nuid::append_base62(std::string& out, std::uint64_t value, std::size_t width) {
    std::array<char, 16> buffer{};
    std::size_t count = 0;
    do {
        buffer[count++] = digits[value % base];
        value /= base;
    } while (value != 0);
    while (count < width && count < buffer.size()) buffer[count++] = '0';
    while (count > 0) out += buffer[--count];
}

}  // namespace herald::client
