#include "cli/args.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace herald::cli {

bool ParsedArgs::has(std::string_view long_name) const {
    for (const auto& [name, value] : flags_) {
        if (name == long_name) return true;
    }
    return false;
}

std::optional<std::string> ParsedArgs::value(std::string_view long_name) const {
    std::optional<std::string> last;
    for (const auto& [name, value] : flags_) {
        if (name == long_name) last = value;
    }
    return last;
}

std::vector<std::string> ParsedArgs::values(std::string_view long_name) const {
    std::vector<std::string> all;
    for (const auto& [name, value] : flags_) {
        if (name == long_name) all.push_back(value);
    }
    return all;
}

const FlagSpec* find_flag(std::span<const FlagSpec> specs, std::string_view written) {
    if (written.size() > 2 && written.substr(0, 2) == "--") {
        const std::string_view name = written.substr(2);
        for (const FlagSpec& spec : specs) {
            if (spec.long_name == name) return &spec;
        }
        return nullptr;
    }
    if (written.size() == 2 && written[0] == '-' && written[1] != '-') {
        for (const FlagSpec& spec : specs) {
            if (spec.short_name != 0 && spec.short_name == written[1]) return &spec;
        }
    }
    return nullptr;
}

std::optional<ParsedArgs> parse_args(std::span<const std::string> args,
                                     std::span<const FlagSpec> specs,
                                     std::string& error) {
    ParsedArgs parsed;
    bool flags_ended = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (flags_ended || arg.size() < 2 || arg[0] != '-') {
            parsed.positionals_.push_back(arg);
            continue;
        }
        if (arg == "--") {
            flags_ended = true;
            continue;
        }
        std::string written = arg;
        std::optional<std::string> inline_value;
        // --name=value; short flags take their value as the next argument only.
        if (const auto equals = arg.find('=');
            arg.starts_with("--") && equals != std::string::npos) {
            written = arg.substr(0, equals);
            inline_value = arg.substr(equals + 1);
        }
        const FlagSpec* spec = find_flag(specs, written);
        if (spec == nullptr) {
            error = fmt::format("unknown flag {}", written);
            return std::nullopt;
        }
        std::string value;
        if (spec->value_name.empty()) {
            if (inline_value) {
                error = fmt::format("flag --{} takes no value", spec->long_name);
                return std::nullopt;
            }
        } else if (inline_value) {
            value = *inline_value;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            error = fmt::format("flag --{} needs a value ({})", spec->long_name, spec->value_name);
            return std::nullopt;
        }
        parsed.flags_.emplace_back(std::string(spec->long_name), std::move(value));
    }
    return parsed;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

namespace {

// Nanoseconds per unit, longest spelling first where one is a prefix of another.
struct DurationUnit {
    std::string_view name;
    double ns;
};
constexpr DurationUnit duration_units[] = {
    {"ns", 1.0},
    {"us", 1e3},
    {"\xC2\xB5s", 1e3},
    {"\xCE\xBCs", 1e3},
    {"ms", 1e6},
    {"s", 1e9},
    {"m", 60e9},
    {"h", 3600e9},
};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text == "0") return Duration{};
    if (text.empty()) return std::nullopt;
    double total_ns = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        // A decimal number: digits, optionally a fraction.
        const std::size_t number_start = at;
        while (at < text.size() && ((text[at] >= '0' && text[at] <= '9') || text[at] == '.'))
            ++at;
        const std::string_view number = text.substr(number_start, at - number_start);
        if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
            return std::nullopt;
        }
        double value = 0;
        double scale = 0;  // 0 while in the integer part, then 0.1, 0.01, ...
        for (const char c : number) {
            if (c == '.') {
                scale = 0.1;
            } else if (scale == 0) {
                value = value * 10 + (c - '0');
            } else {
                value += (c - '0') * scale;
                scale /= 10;
            }
        }
        const std::size_t unit_start = at;
        while (at < text.size() && !((text[at] >= '0' && text[at] <= '9') || text[at] == '.'))
            ++at;
        const std::string_view unit = text.substr(unit_start, at - unit_start);
        const DurationUnit* found = nullptr;
        for (const DurationUnit& candidate : duration_units) {
            if (candidate.name == unit) found = &candidate;
        }
        if (found == nullptr) return std::nullopt;
        total_ns += value * found->ns;
    }
    if (total_ns >= static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;  // Go durations are int64 nanoseconds.
    }
    return Duration{static_cast<std::uint64_t>(std::llround(total_ns))};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    struct SizeUnit {
        std::string_view name;
        std::uint64_t bytes;
    };
    static constexpr SizeUnit units[] = {
        {"B", 1},
        {"KB", 1024},
        {"KIB", 1024},
        {"K", 1024},
        {"MB", 1024 * 1024},
        {"MIB", 1024 * 1024},
        {"M", 1024 * 1024},
    };
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    const auto number = parse_count(text.substr(0, digits));
    if (!number) return std::nullopt;
    std::string unit;
    for (const char c : text.substr(digits)) {
        unit.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    if (unit.empty()) return number;
    for (const SizeUnit& candidate : units) {
        if (candidate.name == unit) {
            if (*number > std::numeric_limits<std::uint64_t>::max() / candidate.bytes) {
                return std::nullopt;
            }
            return *number * candidate.bytes;
        }
    }
    return std::nullopt;
}

std::string format_duration(Duration duration) {
    const double ns = static_cast<double>(duration.ns);
    if (duration.ns < 1000) return fmt::format("{}ns", duration.ns);
    if (duration.ns < 1000 * 1000) return fmt::format("{:.3f}\xC2\xB5s", ns / 1e3);
    if (duration.ns < 1000 * 1000 * 1000) return fmt::format("{:.3f}ms", ns / 1e6);
    return fmt::format("{:.3f}s", ns / 1e9);
}

}  // namespace herald::cli
