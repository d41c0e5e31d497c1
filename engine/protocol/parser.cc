#include "engine/protocol/parser.h"

#include <array>

namespace herald::protocol {

std::size_t split_arguments(std::string_view line, std::span<std::string_view> out) {
    std::size_t count = 0;
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == n) break;
        const std::size_t start = i;
        while (i < n && line[i] != ' ' && line[i] != '\t') ++i;
        if (count == out.size()) return out.size() + 1;
        out[count++] = line.substr(start, i - start);
    }
    return count;
}

std::optional<std::size_t> parse_size(std::string_view digits) {
    // Matches nats-server parseSize: at most 9 digits (fits an int32), digits only.
    constexpr std::size_t digits_max = 9;
    if (digits.empty() || digits.size() > digits_max) return std::nullopt;
    std::size_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    return value;
}

std::optional<ParseError> Parser::parse_pub_args(std::string_view rest, bool headers) {
    std::array<std::string_view, 4> args{};
    const std::size_t count = split_arguments(rest, args);
    args_ = MessageArgs{};
    args_.headers = headers;
    const std::size_t fixed = headers ? 3 : 2;  // subject [reply] [hdr] size
    if (count != fixed && count != fixed + 1) return ParseError::bad_arguments;
    args_.subject = args[0];
    if (count == fixed + 1) args_.reply = args[1];
    const auto total = parse_size(args[count - 1]);
    if (!total) return ParseError::bad_arguments;
    args_.total_size = *total;
    if (headers) {
        const auto header = parse_size(args[count - 2]);
        // Matches nats-server processHeaderPub: header size may not exceed the total.
        if (!header || *header > *total) return ParseError::bad_arguments;
        args_.header_size = *header;
    }
    if (limits_.max_payload != 0 && args_.total_size > limits_.max_payload) {
        return ParseError::max_payload;
    }
    payload_needed_ = args_.total_size + 2;
    return std::nullopt;
}

std::optional<ParseError> Parser::parse_msg_args(std::string_view rest, bool headers) {
    std::array<std::string_view, 5> args{};
    const std::size_t count = split_arguments(rest, args);
    args_ = MessageArgs{};
    args_.headers = headers;
    const std::size_t fixed = headers ? 4 : 3;  // subject sid [reply] [hdr] size
    if (count != fixed && count != fixed + 1) return ParseError::bad_arguments;
    args_.subject = args[0];
    args_.sid = args[1];
    if (count == fixed + 1) args_.reply = args[2];
    const auto total = parse_size(args[count - 1]);
    if (!total) return ParseError::bad_arguments;
    args_.total_size = *total;
    if (headers) {
        const auto header = parse_size(args[count - 2]);
        if (!header || *header > *total) return ParseError::bad_arguments;
        args_.header_size = *header;
    }
    payload_needed_ = args_.total_size + 2;
    return std::nullopt;
}

void Parser::rebase_args(std::string_view line) {
    pending_line_.assign(line);
    const char* old_base = line.data();
    const char* new_base = pending_line_.data();
    auto rebase = [&](std::string_view& view) {
        if (view.empty()) return;
        const auto offset = static_cast<std::size_t>(view.data() - old_base);
        ASSERT(offset + view.size() <= pending_line_.size());
        view = std::string_view(new_base + offset, view.size());
    };
    rebase(args_.subject);
    rebase(args_.sid);
    rebase(args_.reply);
}

bool Parser::verb_prefix_valid(std::string_view partial) const {
    static constexpr std::array<std::string_view, 7> server_verbs = {
        "CONNECT", "PUB", "HPUB", "SUB", "UNSUB", "PING", "PONG"};
    static constexpr std::array<std::string_view, 7> client_verbs = {
        "INFO", "MSG", "HMSG", "+OK", "-ERR", "PING", "PONG"};
    std::size_t end = 0;
    while (end < partial.size() && partial[end] != ' ' && partial[end] != '\t' &&
           partial[end] != '\r') {
        ++end;
    }
    const bool complete = end < partial.size();
    const std::string_view token = partial.substr(0, end);
    const auto& verbs = role_ == Role::server ? std::span<const std::string_view>(server_verbs)
                                              : std::span<const std::string_view>(client_verbs);
    for (const std::string_view verb : verbs) {
        if (complete ? token.size() != verb.size() : token.size() > verb.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < token.size() && same; ++i) {
            same = detail::to_upper(token[i]) == verb[i];
        }
        if (same) return true;
    }
    return false;
}

}  // namespace herald::protocol
