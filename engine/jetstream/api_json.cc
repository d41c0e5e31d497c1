#include "engine/jetstream/api_json.h"

#include <array>

#include <fmt/format.h>

namespace herald::jetstream {

namespace {

struct CivilDate {
    std::int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
};

// Howard Hinnant's civil_from_days: proleptic Gregorian date of days since 1970-01-01.
CivilDate civil_from_days(std::int64_t days) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<std::uint64_t>(days - era * 146097);
    const std::uint64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const std::uint64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const std::uint64_t month_index = (5 * day_of_year + 2) / 153;
    const auto day = static_cast<unsigned>(day_of_year - (153 * month_index + 2) / 5 + 1);
    const auto month = static_cast<unsigned>(month_index < 10 ? month_index + 3 : month_index - 9);
    const std::int64_t year =
        static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
    return CivilDate{year, month, day};
}

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::int64_t ns_per_second = 1'000'000'000;
constexpr std::int64_t seconds_per_day = 86'400;

}  // namespace

std::string rfc3339_nano(std::int64_t unix_ns) {
    if (unix_ns == 0) return "0001-01-01T00:00:00Z";
    std::int64_t seconds = unix_ns / ns_per_second;
    std::int64_t nanos = unix_ns % ns_per_second;
    if (nanos < 0) {
        nanos += ns_per_second;
        seconds -= 1;
    }
    std::int64_t days = seconds / seconds_per_day;
    std::int64_t second_of_day = seconds % seconds_per_day;
    if (second_of_day < 0) {
        second_of_day += seconds_per_day;
        days -= 1;
    }
    const CivilDate date = civil_from_days(days);
    std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                                   date.year,
                                   date.month,
                                   date.day,
                                   second_of_day / 3600,
                                   (second_of_day / 60) % 60,
                                   second_of_day % 60);
    if (nanos != 0) {
        std::string fraction = fmt::format("{:09}", nanos);
        while (!fraction.empty() && fraction.back() == '0')
            fraction.pop_back();
        text += '.';
        text += fraction;
    }
    text += 'Z';
    return text;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16)
                                | (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8)
                                | std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += base64_alphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
        if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += rest == 2 ? base64_alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string_view> header_value(std::string_view block, std::string_view key) {
    // Skip the status line, then walk "Key: value" lines.
    std::size_t position = block.find("\r\n");
    while (position != std::string_view::npos) {
        position += 2;
        const std::size_t end = block.find("\r\n", position);
        if (end == std::string_view::npos || end == position) return std::nullopt;
        const std::string_view line = block.substr(position, end - position);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && line.substr(0, colon) == key) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            return value;
        }
        position = end;
    }
    return std::nullopt;
}

void append_header(std::string& block, std::string_view key, std::string_view value) {
    if (block.size() < 4) block = "NATS/1.0\r\n\r\n";
    block.resize(block.size() - 2);  // Drop the final blank line's CRLF.
    block.append(key).append(": ").append(value).append("\r\n\r\n");
}

void remove_header(std::string& block, std::string_view key) {
    // Like nats-server removeHeaderIfPresent, but looks for the key at a line start only.
    std::string needle = "\n";
    needle.append(key).append(":");
    const std::size_t found = block.find(needle);
    if (found == std::string::npos) return;
    const std::size_t start = found + 1;
    const std::size_t end = block.find("\r\n", start);
    if (end == std::string::npos) return;
    block.erase(start, end + 2 - start);
    if (block.size() <= std::string_view("NATS/1.0\r\n\r\n").size()) block.clear();
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
    constexpr std::size_t digits_max = 19;
    if (text.empty() || text.size() > digits_max) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace herald::jetstream
