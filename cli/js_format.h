// Pure helpers of the JetStream commands (stream, consumer, kv, object, bench --js): the value
// parsers of their flags (storage, retention, discard, ack, deliver, replay), and the way natscli
// prints figures (Go durations "2m0s", IEC sizes "1.5 KiB", "20,000", boxed tables), plus base64
// for backups. No client types here, so tests_cli checks them without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/time.h"

namespace herald::cli {

// Go's time.Duration.String(): "0s", "1.5s", "2m0s", "24h0m0s", "500ms", "100µs".
std::string go_duration(Duration duration);
// natscli's durations for --max-age/--ttl: Go durations plus "1d", "1w", "1M" (30d), "1y" (365d)
// units, and "0"/"unlimited"/"-1"... as 0 (unlimited).
std::optional<Duration> parse_age(std::string_view text);
// go-humanize IBytes: "0 B", "512 B", "1.5 KiB", "16 MiB".
std::string ibytes(std::uint64_t bytes);
// go-humanize Comma: "20,000".
std::string comma(std::int64_t value);
// A limit as natscli shows it: "unlimited" for -1 (or 0 when zero_unlimited), else comma().
std::string limit_text(std::int64_t value, bool zero_unlimited = false);
// A size limit: "unlimited" for -1/0, else ibytes().
std::string size_limit_text(std::int64_t value);
// Limits in flags: "-1"/"unlimited" = -1; else a count or size ("1KB", "1MiB", "2GB").
std::optional<std::int64_t> parse_limit(std::string_view text, bool size);

// Flag enums. Each returns nullopt for an unknown word; natscli's spellings are accepted.
enum class StorageWord { file, memory };
enum class RetentionWord { limits, interest, work };
enum class DiscardWord { old_messages, new_messages };
enum class AckWord { none, all, explicit_ack };
enum class ReplayWord { instant, original };
std::optional<StorageWord> parse_storage(std::string_view text);      // file|f, memory|mem|m
std::optional<RetentionWord> parse_retention(std::string_view text);  // limits|interest|work[queue]
std::optional<DiscardWord> parse_discard(std::string_view text);      // old|new
std::optional<AckWord> parse_ack(std::string_view text);              // none|all|explicit
std::optional<ReplayWord> parse_replay(std::string_view text);        // instant|original

// --deliver: all | last | new | last-per-subject | SEQ (a stream sequence) | DURATION (messages
// newer than now - DURATION, natscli's "1h").
struct DeliverChoice {
    enum class Kind { all, last, new_messages, last_per_subject, by_start_sequence, by_start_time };
    Kind kind = Kind::all;
    std::uint64_t sequence = 0;
    Duration age{};
};
std::optional<DeliverChoice> parse_deliver(std::string_view text);

// "a,b c" → {"a", "b", "c"}: natscli splits --subjects on commas and spaces.
std::vector<std::string> split_list(std::string_view text);

// An RFC 3339 time as natscli prints it: "2026-11-26 16:30:05" (UTC, seconds).
std::string short_time(std::string_view rfc3339);

// A boxed table like natscli's (go-pretty StyleRounded): a title row, a header row, data rows.
class Table {
public:
    Table(std::string title, std::vector<std::string> header);
    void add_row(std::vector<std::string> row);
    std::string render() const;

private:
    std::string title_;
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// "Key: value" lines with the keys right-aligned to the longest, natscli's info layout.
class Section {
public:
    void add(std::string key, std::string value);
    std::string render() const;

private:
    std::vector<std::pair<std::string, std::string>> lines_;
};

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace herald::cli
