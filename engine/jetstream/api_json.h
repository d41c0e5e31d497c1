// Small encoders the JetStream API needs: Go's time.RFC3339Nano, standard base64 (StoredMsg
// hdrs/data) and lookups in a raw NATS/1.0 header block. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::jetstream {

// Go time.Time.Format(time.RFC3339Nano) in UTC: trailing zeros of the fraction trimmed, no
// fraction when it is zero; 0 is Go's zero time "0001-01-01T00:00:00Z" (jetstream-api.md intro).
std::string rfc3339_nano(std::int64_t unix_ns);

std::string base64_encode(std::string_view bytes);

// The value of the first header named `key` (case-sensitive, as nats-server getHeader), trimmed
// of surrounding spaces; nullopt when absent. `block` is a whole "NATS/1.0...\r\n\r\n" block.
std::optional<std::string_view> header_value(std::string_view block, std::string_view key);

// Appends "key: value\r\n" before the block's final CRLF, or builds a new block when `block` is
// empty (nats-server genHeader).
void append_header(std::string& block, std::string_view key, std::string_view value);

// Removes the first "key: ..." line (nats-server removeHeaderIfPresent); a block left with no
// field becomes empty.
void remove_header(std::string& block, std::string_view key);

// Parses a non-negative decimal (a sequence header); nullopt when it is not one.
std::optional<std::uint64_t> parse_uint(std::string_view text);

}  // namespace herald::jetstream
