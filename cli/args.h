// Command-line parsing for `herald`: a table of flags per command, parsed into values and
// positionals with clear usage errors, plus the value parsers (counts, sizes, Go durations)
// the commands share. Flag syntax follows the nats CLI (kingpin): --name value, --name=value,
// -s value, repeatable -H, boolean --raw, and `--` ending the flags.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/time.h"

namespace herald::cli {

// Exit statuses of every subcommand (documented in docs/cli.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // the operation failed: connect, timeout, no responders
inline constexpr int exit_usage = 2;    // bad command line: unknown flag, bad value, missing arg

struct FlagSpec {
    std::string_view long_name;   // "count" for --count
    char short_name = 0;          // 's' for -s, 0 if none
    std::string_view value_name;  // "N"; empty for a boolean flag
    std::string_view help;
    bool repeatable = false;
};

// What one command line said: flag values in order of appearance and the positionals.
class ParsedArgs {
public:
    bool has(std::string_view long_name) const;
    // The last value of a flag (flags given twice keep the last, as kingpin does).
    std::optional<std::string> value(std::string_view long_name) const;
    std::vector<std::string> values(std::string_view long_name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

private:
    friend std::optional<ParsedArgs> parse_args(std::span<const std::string> args,
                                                std::span<const FlagSpec> specs,
                                                std::string& error);
    std::vector<std::pair<std::string, std::string>> flags_;
    std::vector<std::string> positionals_;
};

// Parses `args` (without the program and command names) against `specs`. On a usage error
// returns nullopt and sets `error`, e.g. "unknown flag --cout".
std::optional<ParsedArgs> parse_args(std::span<const std::string> args,
                                     std::span<const FlagSpec> specs,
                                     std::string& error);

// Finds the spec of a flag as written on the command line ("--count", "-s"), for the pre-scan
// that separates global flags from the command name.
const FlagSpec* find_flag(std::span<const FlagSpec> specs, std::string_view written);

// Value parsers. Each returns nullopt on a bad value; the caller names the flag in its error.
std::optional<std::uint64_t> parse_count(std::string_view text);
// Go's time.ParseDuration: "2s", "500ms", "1m30s", "1.5h", "100us", "0". A unit is required.
std::optional<Duration> parse_duration(std::string_view text);
// Bytes with an optional binary unit: "16", "1KB", "1KiB", "4MB" (1 KB = 1024 B, as nats bench).
std::optional<std::uint64_t> parse_size(std::string_view text);

// Renders a Duration the way Go prints one, with a sensible precision: "1.234ms", "2s".
std::string format_duration(Duration duration);

}  // namespace herald::cli
