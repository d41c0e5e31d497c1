// The NATS text protocol parser: a sans-I/O state machine over the bytes of one connection. It
// hands out views into the caller's read buffer and copies only when a control line or a payload
// is split across reads (as nats-server's parser.go does), so the normal path allocates nothing.
// Role::server parses what clients send (CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG); Role::client
// parses what servers send (INFO, MSG, HMSG, +OK, -ERR, PING, PONG).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/assert.h"
#include "engine/base/limits.h"

namespace herald::protocol {

enum class Role { server, client };

enum class ParseError {
    unknown_operation,  // -ERR 'Unknown Protocol Operation', close
    max_control_line,   // -ERR 'maximum control line exceeded', close
    max_payload,        // -ERR 'Maximum Payload Violation', close
    bad_arguments,      // wrong argument count or size: close without -ERR (nats-server)
};

// Arguments of PUB/HPUB (from clients) or MSG/HMSG (from servers). Views are valid only during
// the handler call. For a message with headers, the payload passed with it starts with the
// header block of `header_size` bytes.
struct MessageArgs {
    std::string_view subject;
    std::string_view sid;  // MSG/HMSG only
    std::string_view reply;
    std::size_t header_size = 0;
    std::size_t total_size = 0;
    bool headers = false;
};

struct ParserLimits {
    std::size_t max_control_line = limits::control_line_size_default;
    std::size_t max_payload = limits::payload_size_default;  // 0 = unlimited
};

// Splits `line` on runs of spaces and tabs into at most `out.size()` arguments; returns how many
// were found, or out.size() + 1 if there were more.
std::size_t split_arguments(std::string_view line, std::span<std::string_view> out);

// Parses a decimal size as nats-server's parseSize: digits only, at most 9 of them; else nullopt.
inline std::optional<std::size_t> parse_size(std::string_view digits) {
    constexpr std::size_t digits_max = 9;  // fits an int32, as nats-server parseSize
    if (digits.empty() || digits.size() > digits_max) return std::nullopt;
    std::size_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    return value;
}

// Handlers (duck-typed, for speed) provide, for Role::server:
//   on_connect(std::string_view json), on_pub(const MessageArgs&, std::string_view payload),
//   on_sub(std::string_view subject, std::string_view queue, std::string_view sid),
//   on_unsub(std::string_view sid, std::optional<std::uint64_t> max), on_ping(), on_pong(),
// for Role::client:
//   on_info(std::string_view json), on_msg(const MessageArgs&, std::string_view payload),
//   on_ok(), on_err(std::string_view text), on_ping(), on_pong(),
// and for both: on_parse_error(ParseError) and bool parse_stopped() const, which the parser asks
// after each operation so a handler that closed the connection stops the parse.
class Parser {
public:
    Parser(Role role, ParserLimits limits) : role_(role), limits_(limits) {}

    // Feeds the next bytes of the stream. Returns false once the stream is in error (the handler
    // has been told through on_parse_error); later calls return false and ignore input.
    template <class Handler>
    bool feed(std::span<const char> data, Handler& handler);

    bool failed() const { return failed_; }
    void set_limits(ParserLimits limits) { limits_ = limits; }
    const ParserLimits& limits() const { return limits_; }
    // Bytes held across reads right now (a split control line or payload).
    std::size_t buffered_bytes() const { return line_.size() + payload_.size(); }

private:
    enum class State { control_line, payload };

    // Result of looking at one complete control line.
    enum class LineResult { done, need_payload, error };

    template <class Handler>
    LineResult dispatch_line(std::string_view line, Handler& handler);
    template <class Handler>
    LineResult dispatch_server_verb(std::string_view verb, std::string_view rest, Handler& handler);
    template <class Handler>
    LineResult dispatch_client_verb(std::string_view verb, std::string_view rest, Handler& handler);
    template <class Handler>
    void deliver(std::string_view payload, Handler& handler);
    template <class Handler>
    bool fail(ParseError error, Handler& handler);

    // Fill args_ and payload_needed_; nullopt when the arguments are good.
    std::optional<ParseError> parse_pub_args(std::string_view rest, bool headers);
    std::optional<ParseError> parse_msg_args(std::string_view rest, bool headers);
    // Copies the control line into pending_line_ and points args_ into the copy.
    void rebase_args(std::string_view line);
    bool verb_prefix_valid(std::string_view partial) const;

    Role role_;
    ParserLimits limits_;
    State state_ = State::control_line;
    bool failed_ = false;
    std::string line_;                // a control line split across reads
    std::string pending_line_;        // the PUB/MSG line whose payload is split across reads
    std::vector<char> payload_;       // a payload split across reads (reused, never shrinks)
    MessageArgs args_;                // of the message whose payload is awaited
    std::size_t payload_needed_ = 0;  // payload bytes + CRLF
};

namespace detail {

inline char to_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

inline bool verb_equals(std::string_view verb, std::string_view upper) {
    if (verb.size() != upper.size()) return false;
    for (std::size_t i = 0; i < verb.size(); ++i) {
        if (to_upper(verb[i]) != upper[i]) return false;
    }
    return true;
}

inline std::string_view trim_left(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return s.substr(i);
}

inline std::string_view trim_right(std::string_view s) {
    std::size_t n = s.size();
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        --n;
    return s.substr(0, n);
}

}  // namespace detail

template <class Handler>
bool Parser::fail(ParseError error, Handler& handler) {
    failed_ = true;
    line_.clear();
    payload_.clear();
    handler.on_parse_error(error);
    return false;
}

template <class Handler>
bool Parser::feed(std::span<const char> data, Handler& handler) {
    if (failed_) return false;
    std::size_t pos = 0;
    const std::size_t size = data.size();
    while (pos < size) {
        if (handler.parse_stopped()) return !failed_;
        if (state_ == State::control_line) {
            const char* start = data.data() + pos;
            const auto* newline = static_cast<const char*>(std::memchr(start, '\n', size - pos));
            if (newline == nullptr) {
                line_.append(start, size - pos);
                // Matches nats-server: an over-long unterminated line is cut off early, so a
                // client cannot make the server buffer without bound.
                if (line_.size() > limits_.max_control_line + 16) {
                    return fail(ParseError::max_control_line, handler);
                }
                if (!verb_prefix_valid(line_)) return fail(ParseError::unknown_operation, handler);
                return true;
            }
            const auto length = static_cast<std::size_t>(newline - start);
            pos += length + 1;
            std::string_view line;
            if (line_.empty()) {
                line = std::string_view(start, length);
            } else {
                line_.append(start, length);
                line = line_;
            }
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            const LineResult result = dispatch_line(line, handler);
            if (result == LineResult::error) return false;
            if (result == LineResult::need_payload) {
                const std::size_t available = size - pos;
                if (available >= payload_needed_) {
                    const std::string_view body(data.data() + pos, payload_needed_);
                    pos += payload_needed_;
                    if (body[body.size() - 2] != '\r' || body[body.size() - 1] != '\n') {
                        return fail(ParseError::unknown_operation, handler);
                    }
                    deliver(body.substr(0, body.size() - 2), handler);
                } else {
                    // Split payload: keep the control line (args point into it) and the bytes.
                    rebase_args(line);
                    payload_.clear();
                    payload_.reserve(payload_needed_);
                    payload_.insert(payload_.end(), data.data() + pos, data.data() + size);
                    pos = size;
                    state_ = State::payload;
                }
            }
            line_.clear();
        } else {
            const std::size_t missing = payload_needed_ - payload_.size();
            const std::size_t take = std::min(missing, size - pos);
            payload_.insert(payload_.end(), data.data() + pos, data.data() + pos + take);
            pos += take;
            if (payload_.size() == payload_needed_) {
                if (payload_[payload_needed_ - 2] != '\r'
                    || payload_[payload_needed_ - 1] != '\n') {
                    return fail(ParseError::unknown_operation, handler);
                }
                state_ = State::control_line;
                deliver(std::string_view(payload_.data(), payload_needed_ - 2), handler);
                payload_.clear();
                pending_line_.clear();
            }
        }
    }
    return !failed_;
}

template <class Handler>
void Parser::deliver(std::string_view payload, Handler& handler) {
    ASSERT(payload.size() == args_.total_size);
    if constexpr (requires { handler.on_pub(args_, payload); }) {
        if (role_ == Role::server) handler.on_pub(args_, payload);
    }
    if constexpr (requires { handler.on_msg(args_, payload); }) {
        if (role_ == Role::client) handler.on_msg(args_, payload);
    }
}

template <class Handler>
Parser::LineResult Parser::dispatch_line(std::string_view line, Handler& handler) {
    std::size_t verb_end = 0;
    while (verb_end < line.size() && line[verb_end] != ' ' && line[verb_end] != '\t')
        ++verb_end;
    const std::string_view verb = line.substr(0, verb_end);
    const std::string_view rest = detail::trim_left(line.substr(verb_end));
    if (rest.size() > limits_.max_control_line) {
        fail(ParseError::max_control_line, handler);
        return LineResult::error;
    }
    // A handler serves one role; the other role's verbs are unknown to it.
    if (role_ == Role::server) {
        if constexpr (requires { handler.on_pub(args_, std::string_view()); }) {
            return dispatch_server_verb(verb, rest, handler);
        }
    } else {
        if constexpr (requires { handler.on_msg(args_, std::string_view()); }) {
            return dispatch_client_verb(verb, rest, handler);
        }
    }
    fail(ParseError::unknown_operation, handler);
    return LineResult::error;
}

template <class Handler>
Parser::LineResult Parser::dispatch_server_verb(std::string_view verb,
                                                std::string_view rest,
                                                Handler& handler) {
    using detail::verb_equals;
    if (verb_equals(verb, "PUB") || verb_equals(verb, "HPUB")) {
        if (const auto error = parse_pub_args(rest, verb.size() == 4)) {
            fail(*error, handler);
            return LineResult::error;
        }
        return LineResult::need_payload;
    }
    if (verb_equals(verb, "SUB")) {
        std::array<std::string_view, 3> args{};
        const std::size_t count = split_arguments(rest, args);
        if (count == 2) {
            handler.on_sub(args[0], std::string_view(), args[1]);
        } else if (count == 3) {
            handler.on_sub(args[0], args[1], args[2]);
        } else {
            fail(ParseError::bad_arguments, handler);
            return LineResult::error;
        }
        return LineResult::done;
    }
    if (verb_equals(verb, "UNSUB")) {
        std::array<std::string_view, 2> args{};
        const std::size_t count = split_arguments(rest, args);
        if (count == 1) {
            handler.on_unsub(args[0], std::nullopt);
        } else if (count == 2) {
            const auto max = parse_size(args[1]);
            if (!max) {
                fail(ParseError::bad_arguments, handler);
                return LineResult::error;
            }
            handler.on_unsub(args[0], static_cast<std::uint64_t>(*max));
        } else {
            fail(ParseError::bad_arguments, handler);
            return LineResult::error;
        }
        return LineResult::done;
    }
    if (verb_equals(verb, "PING")) {
        handler.on_ping();
        return LineResult::done;
    }
    if (verb_equals(verb, "PONG")) {
        handler.on_pong();
        return LineResult::done;
    }
    if (verb_equals(verb, "CONNECT") && !rest.empty()) {
        handler.on_connect(detail::trim_right(rest));
        return LineResult::done;
    }
    fail(ParseError::unknown_operation, handler);
    return LineResult::error;
}

template <class Handler>
Parser::LineResult Parser::dispatch_client_verb(std::string_view verb,
                                                std::string_view rest,
                                                Handler& handler) {
    using detail::verb_equals;
    if (verb_equals(verb, "MSG") || verb_equals(verb, "HMSG")) {
        if (const auto error = parse_msg_args(rest, verb.size() == 4)) {
            fail(*error, handler);
            return LineResult::error;
        }
        return LineResult::need_payload;
    }
    if (verb_equals(verb, "PING")) {
        handler.on_ping();
        return LineResult::done;
    }
    if (verb_equals(verb, "PONG")) {
        handler.on_pong();
        return LineResult::done;
    }
    if (verb_equals(verb, "+OK")) {
        handler.on_ok();
        return LineResult::done;
    }
    if (verb_equals(verb, "-ERR")) {
        std::string_view text = detail::trim_right(rest);
        if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
            text = text.substr(1, text.size() - 2);
        }
        handler.on_err(text);
        return LineResult::done;
    }
    if (verb_equals(verb, "INFO") && !rest.empty()) {
        handler.on_info(detail::trim_right(rest));
        return LineResult::done;
    }
    fail(ParseError::unknown_operation, handler);
    return LineResult::error;
}

}  // namespace herald::protocol
