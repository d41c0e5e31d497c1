#include "engine/protocol/parser.h"

#include <array>

namespace herald::protocol {

std::size_t split_arguments(std::string_view line, std::span<std::string_view> out) {
    std::size_t count = 0;
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        if (i == n) break;
        const std::size_t start = i;
        while (i < n && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (count == out.size()) return out.size() + 1;
        out[count++] = line.substr(start, i - start);
    }
    return count;
}

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// PUB's arguments, read from the right: the size is the last word, the subject the first, and a
// reply, if any, the one in between. This is the hot path of every publish, so no argument
// array and no second pass.
bool split_pub_arguments(std::string_view rest,
                         std::string_view& subject,
                         std::string_view& reply,
                         std::string_view& size) {
    std::size_t end = rest.size();
    while (end > 0 && is_blank(rest[end - 1]))
        --end;
    std::size_t start = end;
    while (start > 0 && !is_blank(rest[start - 1]))
        --start;
    if (start == 0) return false;  // one word or none
    size = rest.substr(start, end - start);
    std::size_t subject_end = 0;
    while (subject_end < start && !is_blank(rest[subject_end]))
        ++subject_end;
    subject = rest.substr(0, subject_end);
    std::size_t middle = subject_end;
    while (middle < start && is_blank(rest[middle]))
        ++middle;
    if (middle == start) {
        reply = {};
        return true;
    }
    std::size_t middle_end = middle;
    while (middle_end < start && !is_blank(rest[middle_end]))
        ++middle_end;
    reply = rest.substr(middle, middle_end - middle);
    // Anything else between reply and size is one word too many.
    for (std::size_t i = middle_end; i < start; ++i) {
        if (!is_blank(rest[i])) return false;
    }
    return true;
}

}  // namespace

std::optional<ParseError> Parser::parse_pub_args(std::string_view rest, bool headers) {
    args_ = MessageArgs{};
    args_.headers = headers;
    std::optional<std::size_t> total;
    if (!headers) {
        std::string_view size;
        if (!split_pub_arguments(rest, args_.subject, args_.reply, size)) {
            return ParseError::bad_arguments;
        }
        total = parse_size(size);
        if (!total) return ParseError::bad_arguments;
    } else {
        std::array<std::string_view, 4> args{};
        const std::size_t count = split_arguments(rest, args);
        if (count != 3 && count != 4) return ParseError::bad_arguments;  // subject [reply] hdr size
        args_.subject = args[0];
        if (count == 4) args_.reply = args[1];
        total = parse_size(args[count - 1]);
        const auto header = parse_size(args[count - 2]);
        // Matches nats-server processHeaderPub: header size may not exceed the total.
        if (!total || !header || *header > *total) return ParseError::bad_arguments;
        args_.header_size = *header;
    }
    args_.total_size = *total;
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
    while (end < partial.size() && partial[end] != ' ' && partial[end] != '\t'
           && partial[end] != '\r') {
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
