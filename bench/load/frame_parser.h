// Parser for what a NATS server sends a client (INFO, MSG, HMSG, PING, PONG, +OK, -ERR), used by
// the load tool. Sans-I/O: it consumes whole frames from a byte range and reports how much it
// used; the caller keeps the rest and appends the next read, so frames split at any byte work.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace herald::load {

// A control line longer than this without '\n' is a protocol error (INFO can be a few KiB).
inline constexpr std::size_t control_line_size_max = 64 * 1024;

struct MsgFrame {
    std::string_view subject;
    std::string_view sid;
    std::string_view reply;    // Empty if none.
    std::string_view headers;  // HMSG only.
    std::string_view payload;
};

struct ParseOutcome {
    std::size_t consumed = 0;  // Bytes of whole frames handled; the rest must be fed again.
    bool ok = true;
    std::string error;
};

namespace detail {

// Splits `line` on runs of spaces and tabs into at most `count_max` tokens; returns the count,
// or count_max + 1 if there are more.
inline std::size_t split_arguments(std::string_view line, std::string_view* tokens,
                                   std::size_t count_max) {
    std::size_t count = 0;
    std::size_t index = 0;
    while (index < line.size()) {
        while (index < line.size() && (line[index] == ' ' || line[index] == '\t')) ++index;
        if (index == line.size()) break;
        const std::size_t start = index;
        while (index < line.size() && line[index] != ' ' && line[index] != '\t') ++index;
        if (count == count_max) return count_max + 1;
        tokens[count++] = line.substr(start, index - start);
    }
    return count;
}

inline bool parse_size(std::string_view text, std::size_t& value) {
    const char* end = text.data() + text.size();
    auto [pointer, error] = std::from_chars(text.data(), end, value);
    return error == std::errc() && pointer == end;
}

inline bool starts_with_verb(std::string_view line, std::string_view verb) {
    if (line.size() < verb.size()) return false;
    if (line.compare(0, verb.size(), verb) != 0) return false;
    return line.size() == verb.size() || line[verb.size()] == ' ' || line[verb.size()] == '\t';
}

}  // namespace detail

// Handler needs: on_msg(const MsgFrame&), on_ping(), on_pong(), on_info(std::string_view),
// on_ok(), on_err(std::string_view). Calls happen in wire order.
template <class Handler>
ParseOutcome parse_frames(const char* data, std::size_t size, Handler& handler) {
    ParseOutcome outcome;
    std::size_t position = 0;
    while (position < size) {
        const char* line_begin = data + position;
        const auto* newline =
            static_cast<const char*>(std::memchr(line_begin, '\n', size - position));
        if (newline == nullptr) {
            if (size - position > control_line_size_max) {
                outcome.ok = false;
                outcome.error = "control line too long";
            }
            break;
        }
        std::size_t line_size = static_cast<std::size_t>(newline - line_begin);
        const std::size_t line_total = line_size + 1;
        if (line_size > 0 && line_begin[line_size - 1] == '\r') --line_size;
        const std::string_view line(line_begin, line_size);

        const bool is_msg = detail::starts_with_verb(line, "MSG");
        const bool is_hmsg = !is_msg && detail::starts_with_verb(line, "HMSG");
        if (is_msg || is_hmsg) {
            std::string_view tokens[6];
            const std::size_t count = detail::split_arguments(line, tokens, 6);
            MsgFrame frame;
            std::size_t header_size = 0;
            std::size_t total_size = 0;
            bool valid = false;
            if (is_msg && (count == 4 || count == 5)) {
                frame.subject = tokens[1];
                frame.sid = tokens[2];
                frame.reply = count == 5 ? tokens[3] : std::string_view();
                valid = detail::parse_size(tokens[count - 1], total_size);
            } else if (is_hmsg && (count == 5 || count == 6)) {
                frame.subject = tokens[1];
                frame.sid = tokens[2];
                frame.reply = count == 6 ? tokens[3] : std::string_view();
                valid = detail::parse_size(tokens[count - 2], header_size) &&
                        detail::parse_size(tokens[count - 1], total_size) &&
                        header_size <= total_size;
            }
            if (!valid) {
                outcome.ok = false;
                outcome.error = "bad frame: " + std::string(line);
                break;
            }
            const std::size_t frame_size = line_total + total_size + 2;
            if (size - position < frame_size) break;  // Payload not complete yet.
            const char* body = line_begin + line_total;
            if (body[total_size] != '\r' || body[total_size + 1] != '\n') {
                outcome.ok = false;
                outcome.error = "payload not followed by CRLF";
                break;
            }
            frame.headers = std::string_view(body, header_size);
            frame.payload = std::string_view(body + header_size, total_size - header_size);
            handler.on_msg(frame);
            position += frame_size;
            continue;
        }
        if (line == "PING") {
            handler.on_ping();
        } else if (line == "PONG") {
            handler.on_pong();
        } else if (line == "+OK") {
            handler.on_ok();
        } else if (detail::starts_with_verb(line, "INFO")) {
            handler.on_info(line.substr(4));
        } else if (detail::starts_with_verb(line, "-ERR")) {
            handler.on_err(line.substr(4));
        } else {
            outcome.ok = false;
            outcome.error = "unknown frame: " + std::string(line.substr(0, 80));
            break;
        }
        position += line_total;
    }
    outcome.consumed = position;
    return outcome;
}

}  // namespace herald::load
