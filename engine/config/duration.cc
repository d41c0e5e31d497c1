#include "engine/config/duration.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace herald::config {
namespace {

// Nanoseconds per unit, or 0 if unknown. "µs" may be written with U+00B5 or U+03BC.
std::int64_t unit_ns(std::string_view unit) {
    if (unit == "ns") return 1;
    if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;
    if (unit == "ms") return 1000 * 1000;
    if (unit == "s") return 1000 * 1000 * 1000;
    if (unit == "m") return std::int64_t{60} * 1000 * 1000 * 1000;
    if (unit == "h") return std::int64_t{3600} * 1000 * 1000 * 1000;
    return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::int64_t> parse_go_duration(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text == "0") return 0;
    if (text.empty()) return std::nullopt;
    // Sum in long double: precise enough for 64-bit nanoseconds with fractions like "1.5h".
    long double total_ns = 0;
    while (!text.empty()) {
        std::size_t digits = 0;
        while (digits < text.size() && (is_digit(text[digits]) || text[digits] == '.')) digits++;
        const std::string number(text.substr(0, digits));
        if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
            return std::nullopt;
        }
        text.remove_prefix(digits);
        std::size_t unit_size = 0;
        while (unit_size < text.size() && text[unit_size] != '.' && !is_digit(text[unit_size])) {
            unit_size++;
        }
        const std::int64_t unit = unit_ns(text.substr(0, unit_size));
        if (unit == 0) return std::nullopt;  // missing or unknown unit
        text.remove_prefix(unit_size);
        total_ns += std::strtold(number.c_str(), nullptr) * static_cast<long double>(unit);
        if (total_ns > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
    }
    const auto ns = static_cast<std::int64_t>(std::llround(total_ns));
    return negative ? -ns : ns;
}

}  // namespace herald::config
