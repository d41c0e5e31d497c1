#include "cli/js_format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "cli/args.h"

namespace herald::cli {
namespace {

constexpr std::uint64_t ns_per_us = 1000;
constexpr std::uint64_t ns_per_ms = 1000 * ns_per_us;
constexpr std::uint64_t ns_per_s = 1000 * ns_per_ms;
constexpr std::uint64_t ns_per_m = 60 * ns_per_s;
constexpr std::uint64_t ns_per_h = 60 * ns_per_m;
constexpr std::uint64_t ns_per_d = 24 * ns_per_h;

// "1" + fraction digits of `rest` over `unit`, trailing zeros trimmed: (1, 500, 1000) → "1.5".
std::string with_fraction(std::uint64_t whole, std::uint64_t rest, std::uint64_t unit) {
    std::string text = std::to_string(whole);
    if (rest == 0) return text;
    std::string digits;
    for (std::uint64_t scale = unit / 10; scale > 0; scale /= 10) {
        digits += static_cast<char>('0' + (rest / scale) % 10);
    }
    while (!digits.empty() && digits.back() == '0')
        digits.pop_back();
    return text + "." + digits;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

// Columns a UTF-8 string takes on a terminal (one per code point; our text has no wide ones).
std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

std::string repeat(std::string_view piece, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i)
        out += piece;
    return out;
}

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string go_duration(Duration duration) {
    const std::uint64_t ns = duration.ns;
    if (ns == 0) return "0s";
    if (ns < ns_per_us) return fmt::format("{}ns", ns);
    if (ns < ns_per_ms)
        return with_fraction(ns / ns_per_us, ns % ns_per_us, ns_per_us) + "\xC2\xB5s";
    if (ns < ns_per_s) return with_fraction(ns / ns_per_ms, ns % ns_per_ms, ns_per_ms) + "ms";
    const std::uint64_t hours = ns / ns_per_h;
    const std::uint64_t minutes = (ns % ns_per_h) / ns_per_m;
    const std::uint64_t rest = ns % ns_per_m;
    const std::string seconds = with_fraction(rest / ns_per_s, rest % ns_per_s, ns_per_s) + "s";
    if (hours > 0) return fmt::format("{}h{}m{}", hours, minutes, seconds);
    if (minutes > 0) return fmt::format("{}m{}", minutes, seconds);
    return seconds;
}

std::optional<Duration> parse_age(std::string_view text) {
    const std::string word = lower(text);
    if (word == "0" || word == "-1" || word == "unlimited" || word == "inf" || word == "never")
        return Duration{};
    if (const auto go = parse_duration(text)) return go;
    // Terms of digits and a unit: y (365d), M (30d), w, d, h, m, s.
    std::uint64_t total = 0;
    std::size_t at = 0;
    if (text.empty()) return std::nullopt;
    while (at < text.size()) {
        std::uint64_t count = 0;
        const auto [end, error] =
            std::from_chars(text.data() + at, text.data() + text.size(), count);
        if (error != std::errc{} || end == text.data() + text.size()) return std::nullopt;
        at = static_cast<std::size_t>(end - text.data());
        std::uint64_t unit = 0;
        switch (text[at]) {
            case 'y':
            case 'Y':
                unit = 365 * ns_per_d;
                break;
            case 'M':
                unit = 30 * ns_per_d;
                break;
            case 'w':
            case 'W':
                unit = 7 * ns_per_d;
                break;
            case 'd':
            case 'D':
                unit = ns_per_d;
                break;
            case 'h':
            case 'H':
                unit = ns_per_h;
                break;
            case 'm':
                unit = ns_per_m;
                break;
            case 's':
                unit = ns_per_s;
                break;
            default:
                return std::nullopt;
        }
        ++at;
        if (count > UINT64_MAX / unit / 2) return std::nullopt;
        total += count * unit;
    }
    return Duration{total};
}

std::string ibytes(std::uint64_t bytes) {
    if (bytes < 10) return fmt::format("{} B", bytes);
    constexpr std::array<std::string_view, 7> units = {
        "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    std::size_t exponent = 0;
    double scaled = static_cast<double>(bytes);
    while (scaled >= 1024 && exponent + 1 < units.size()) {
        scaled /= 1024;
        ++exponent;
    }
    const double rounded = std::floor(scaled * 10 + 0.5) / 10;
    if (exponent == 0) return fmt::format("{} B", bytes);
    return rounded < 10 ? fmt::format("{:.1f} {}", rounded, units[exponent])
                        : fmt::format("{:.0f} {}", rounded, units[exponent]);
}

std::string comma(std::int64_t value) {
    const bool negative = value < 0;
    const std::string digits = std::to_string(negative ? -static_cast<std::uint64_t>(value)
                                                       : static_cast<std::uint64_t>(value));
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return negative ? "-" + out : out;
}

std::string limit_text(std::int64_t value, bool zero_unlimited) {
    if (value < 0 || (zero_unlimited && value == 0)) return "unlimited";
    return comma(value);
}

std::string size_limit_text(std::int64_t value) {
    if (value <= 0) return "unlimited";
    return ibytes(static_cast<std::uint64_t>(value));
}

std::optional<std::int64_t> parse_limit(std::string_view text, bool size) {
    const std::string word = lower(text);
    if (word == "-1" || word == "unlimited") return -1;
    const auto value = size ? parse_size(text) : parse_count(text);
    if (!value || *value > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(*value);
}

std::optional<StorageWord> parse_storage(std::string_view text) {
    const std::string word = lower(text);
    if (word == "file" || word == "f") return StorageWord::file;
    if (word == "memory" || word == "mem" || word == "m") return StorageWord::memory;
    return std::nullopt;
}

std::optional<RetentionWord> parse_retention(std::string_view text) {
    const std::string word = lower(text);
    if (word == "limits" || word == "limit" || word == "l") return RetentionWord::limits;
    if (word == "interest" || word == "i") return RetentionWord::interest;
    if (word == "work" || word == "workq" || word == "workqueue" || word == "w")
        return RetentionWord::work;
    return std::nullopt;
}

std::optional<DiscardWord> parse_discard(std::string_view text) {
    const std::string word = lower(text);
    if (word == "old") return DiscardWord::old_messages;
    if (word == "new") return DiscardWord::new_messages;
    return std::nullopt;
}

std::optional<AckWord> parse_ack(std::string_view text) {
    const std::string word = lower(text);
    if (word == "none") return AckWord::none;
    if (word == "all") return AckWord::all;
    if (word == "explicit") return AckWord::explicit_ack;
    return std::nullopt;
}

std::optional<ReplayWord> parse_replay(std::string_view text) {
    const std::string word = lower(text);
    if (word == "instant") return ReplayWord::instant;
    if (word == "original") return ReplayWord::original;
    return std::nullopt;
}

std::optional<DeliverChoice> parse_deliver(std::string_view text) {
    const std::string word = lower(text);
    DeliverChoice choice;
    if (word == "all") return choice;
    if (word == "last") {
        choice.kind = DeliverChoice::Kind::last;
        return choice;
    }
    if (word == "new") {
        choice.kind = DeliverChoice::Kind::new_messages;
        return choice;
    }
    if (word == "last-per-subject" || word == "last_per_subject") {
        choice.kind = DeliverChoice::Kind::last_per_subject;
        return choice;
    }
    if (const auto sequence = parse_count(text); sequence && *sequence > 0) {
        choice.kind = DeliverChoice::Kind::by_start_sequence;
        choice.sequence = *sequence;
        return choice;
    }
    if (const auto age = parse_age(text); age && age->ns > 0) {
        choice.kind = DeliverChoice::Kind::by_start_time;
        choice.age = *age;
        return choice;
    }
    return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    for (const char c : text) {
        if (c == ',' || c == ' ') {
            if (!current.empty()) out.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty()) out.push_back(std::move(current));
    return out;
}

std::string short_time(std::string_view rfc3339) {
    if (rfc3339.size() < 19 || rfc3339[10] != 'T') return std::string(rfc3339);
    std::string out(rfc3339.substr(0, 19));
    out[10] = ' ';
    return out;
}

Table::Table(std::string title, std::vector<std::string> header)
    : title_(std::move(title)), header_(std::move(header)) {}

void Table::add_row(std::vector<std::string> row) {
    row.resize(header_.size());
    rows_.push_back(std::move(row));
}

std::string Table::render() const {
    std::vector<std::size_t> widths(header_.size());
    for (std::size_t column = 0; column < header_.size(); ++column) {
        widths[column] = display_width(header_[column]);
        for (const auto& row : rows_)
            widths[column] = std::max(widths[column], display_width(row[column]));
    }
    std::size_t inner = 0;
    for (const std::size_t width : widths)
        inner += width + 3;
    inner = std::max<std::size_t>(inner, display_width(title_) + 3) - 1;
    // A title wider than the columns widens the last one.
    std::size_t columns_total = 0;
    for (const std::size_t width : widths)
        columns_total += width + 3;
    if (columns_total - 1 < inner) widths.back() += inner - (columns_total - 1);

    auto rule = [&](std::string_view left, std::string_view middle, std::string_view right) {
        std::string line(left);
        for (std::size_t column = 0; column < widths.size(); ++column) {
            if (column > 0) line += middle;
            line += repeat("\xE2\x94\x80", widths[column] + 2);
        }
        return line + std::string(right) + "\n";
    };
    auto cells = [&](const std::vector<std::string>& row) {
        std::string line = "\xE2\x94\x82";
        for (std::size_t column = 0; column < widths.size(); ++column) {
            line += " " + row[column]
                    + std::string(widths[column] - display_width(row[column]), ' ')
                    + " \xE2\x94\x82";
        }
        return line + "\n";
    };
    std::string out = "\xE2\x95\xAD" + repeat("\xE2\x94\x80", inner) + "\xE2\x95\xAE\n";
    const std::size_t title_width = display_width(title_);
    const std::size_t left_pad = (inner - title_width) / 2;
    out += "\xE2\x94\x82" + std::string(left_pad, ' ') + title_
           + std::string(inner - title_width - left_pad, ' ') + "\xE2\x94\x82\n";
    out += rule("\xE2\x94\x9C", "\xE2\x94\xAC", "\xE2\x94\xA4");
    out += cells(header_);
    out += rule("\xE2\x94\x9C", "\xE2\x94\xBC", "\xE2\x94\xA4");
    for (const auto& row : rows_)
        out += cells(row);
    out += rule("\xE2\x95\xB0", "\xE2\x94\xB4", "\xE2\x95\xAF");
    return out;
}

void Section::add(std::string key, std::string value) {
    lines_.emplace_back(std::move(key), std::move(value));
}

std::string Section::render() const {
    std::size_t width = 0;
    for (const auto& [key, value] : lines_)
        width = std::max(width, display_width(key));
    std::string out;
    for (const auto& [key, value] : lines_) {
        out += std::string(width - display_width(key) + 2, ' ') + key + ": " + value + "\n";
    }
    return out;
}

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t at = 0;
    for (; at + 3 <= data.size(); at += 3) {
        const std::uint32_t chunk =
            (static_cast<std::uint32_t>(static_cast<unsigned char>(data[at])) << 16U)
            | (static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8U)
            | static_cast<unsigned char>(data[at + 2]);
        out += base64_alphabet[(chunk >> 18U) & 63U];
        out += base64_alphabet[(chunk >> 12U) & 63U];
        out += base64_alphabet[(chunk >> 6U) & 63U];
        out += base64_alphabet[chunk & 63U];
    }
    const std::size_t left = data.size() - at;
    if (left > 0) {
        std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(data[at]))
                              << 16U;
        if (left == 2)
            chunk |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8U;
        out += base64_alphabet[(chunk >> 18U) & 63U];
        out += base64_alphabet[(chunk >> 12U) & 63U];
        out += left == 2 ? base64_alphabet[(chunk >> 6U) & 63U] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const auto index = base64_alphabet.find(c == '-' ? '+' : c == '_' ? '/' : c);
        if (index == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 6U) | static_cast<std::uint32_t>(index);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    if (bits >= 6) return std::nullopt;  // one stray character cannot be a whole byte
    return out;
}

}  // namespace herald::cli
