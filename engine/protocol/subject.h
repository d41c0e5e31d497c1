// Subjects: dot-separated tokens naming where a message goes, with `*` (one token) and `>` (one
// or more trailing tokens) as wildcards in subscriptions. The parser, the sublist, permissions and
// JetStream use these checks; all of them work on views and never allocate.
#pragma once

#include <cstddef>
#include <string_view>

namespace herald::protocol {

inline constexpr char subject_separator = '.';
inline constexpr std::string_view partial_wildcard = "*";   // pwc in nats-server
inline constexpr std::string_view full_wildcard = ">";      // fwc in nats-server

// Space, tab, CR, LF and FF may not appear in a subject (nats-server IsValidSubject).
constexpr bool is_subject_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

constexpr bool is_partial_wildcard(std::string_view token) { return token == partial_wildcard; }
constexpr bool is_full_wildcard(std::string_view token) { return token == full_wildcard; }
constexpr bool is_wildcard_token(std::string_view token) {
    return token.size() == 1 && (token[0] == '*' || token[0] == '>');
}

// Walks the tokens of a subject from left to right, empty tokens included: "a..b" gives "a", "",
// "b" and "" gives one empty token. The reader views the subject; it must outlive the reader.
class TokenReader {
public:
    explicit constexpr TokenReader(std::string_view subject) : subject_(subject) {}

    constexpr bool done() const { return done_; }

    // The next token. Precondition: !done().
    constexpr std::string_view next() {
        const std::size_t dot = subject_.find(subject_separator, position_);
        if (dot == std::string_view::npos) {
            done_ = true;
            return subject_.substr(position_);
        }
        const std::string_view token = subject_.substr(position_, dot - position_);
        position_ = dot + 1;
        return token;
    }

    // Tokens not yet read, as one view ("" once done).
    constexpr std::string_view rest() const { return done_ ? std::string_view{} : subject_.substr(position_); }

private:
    std::string_view subject_;
    std::size_t position_ = 0;
    bool done_ = false;
};

// Number of tokens, counting empty ones ("a..b" has 3). Never 0: "" has one empty token.
std::size_t subject_token_count(std::string_view subject);

// Non-empty tokens split by '.', no whitespace, '>' only as the last token. `*` and `>` are
// wildcards only as whole tokens: "foo*" and "a>b" are literal tokens. Matches nats-server
// IsValidSubject.
bool is_valid_subject(std::string_view subject);

// A valid subject without wildcard tokens: what a publish should use (nats-server
// IsValidPublishSubject).
bool is_valid_literal_subject(std::string_view subject);

// Matches nats-server 2.9.10 processSub: the queue name is the middle argument of SUB as split by
// splitArg, so it is any non-empty byte string without space, tab, CR or LF. Dots and `*`/`>` are
// allowed and taken literally; the sublist never interprets a queue name.
bool is_valid_queue_name(std::string_view queue);

// True if any whole token is `*` or `>`. Does not check validity (nats-server subjectIsLiteral).
bool subject_has_wildcard(std::string_view subject);

// Whether a subscription on `pattern` receives a message published to `subject`. Pattern tokens
// `*` and `>` are wildcards; subject tokens are taken literally, so a publish to "foo.*" reaches
// "foo.*", "foo.>" and ">" but not "foo.bar" (nats-server matchLevel). A subject with an empty
// token matches nothing (nats-server Sublist.match). `pattern` is assumed valid.
bool subject_matches(std::string_view pattern, std::string_view subject);

// Whether every subject matched by `narrower` is also matched by `wider`; both may contain
// wildcards. "foo.*" is a subset of "foo.*", "*.*", "foo.>" and ">", but not of "foo.bar"
// (nats-server isSubsetMatchTokenized). Both are assumed valid.
bool subject_is_subset(std::string_view narrower, std::string_view wider);

}  // namespace herald::protocol
