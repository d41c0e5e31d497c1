// Encoders for the NATS text protocol: append whole frames to a byte buffer. Used by the server
// (MSG, HMSG, INFO, -ERR) and by the client library and tests (CONNECT, PUB, HPUB, SUB, UNSUB).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::protocol {

// Appends the decimal digits of `value`.
void append_decimal(std::string& out, std::uint64_t value);

// "MSG <subject> <sid> [reply] <size>\r\n" or the HMSG form when header_size is non-zero-headers.
void append_msg_line(std::string& out,
                     std::string_view subject,
                     std::string_view sid,
                     std::string_view reply,
                     std::size_t total_size);
void append_hmsg_line(std::string& out,
                      std::string_view subject,
                      std::string_view sid,
                      std::string_view reply,
                      std::size_t header_size,
                      std::size_t total_size);

// Whole client frames.
void append_pub(std::string& out,
                std::string_view subject,
                std::string_view reply,
                std::string_view payload);
void append_hpub(std::string& out,
                 std::string_view subject,
                 std::string_view reply,
                 std::string_view headers,
                 std::string_view payload);
void append_sub(std::string& out,
                std::string_view subject,
                std::string_view queue,
                std::string_view sid);
void append_unsub(std::string& out, std::string_view sid, std::uint64_t max_msgs /*0 = none*/);

void append_err(std::string& out, std::string_view text);  // "-ERR '<text>'\r\n"

inline constexpr std::string_view ping_frame = "PING\r\n";
inline constexpr std::string_view pong_frame = "PONG\r\n";
inline constexpr std::string_view ok_frame = "+OK\r\n";
inline constexpr std::string_view crlf = "\r\n";
// The status message of a request nobody was subscribed to (core-protocol.md §5.1).
inline constexpr std::string_view no_responders_headers = "NATS/1.0 503\r\n\r\n";

}  // namespace herald::protocol
