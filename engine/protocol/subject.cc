// Subject validation and matching. See subject.h.
#include "engine/protocol/subject.h"

#include <algorithm>

namespace herald::protocol {

std::size_t subject_token_count(std::string_view subject) {
    std::size_t count = 1;
    for (const char c : subject) {
        if (c == subject_separator) count++;
    }
    return count;
}

bool is_valid_subject(std::string_view subject) {
    if (subject.empty()) return false;
    bool after_full_wildcard = false;
    std::size_t token_start = 0;
    for (std::size_t i = 0; i <= subject.size(); i++) {
        if (i == subject.size() || subject[i] == subject_separator) {
            const std::size_t token_size = i - token_start;
            if (token_size == 0 || after_full_wildcard) return false;
            if (token_size == 1 && subject[token_start] == '>') after_full_wildcard = true;
            token_start = i + 1;
        } else if (is_subject_whitespace(subject[i])) {
            return false;
        }
    }
    return true;
}

bool is_valid_literal_subject(std::string_view subject) {
    return is_valid_subject(subject) && !subject_has_wildcard(subject);
}

bool is_valid_queue_name(std::string_view queue) {
    if (queue.empty()) return false;
    return std::ranges::none_of(queue, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

bool subject_has_wildcard(std::string_view subject) {
    const std::size_t size = subject.size();
    for (std::size_t i = 0; i < size; i++) {
        const char c = subject[i];
        if (c != '*' && c != '>') continue;
        const bool starts_token = i == 0 || subject[i - 1] == subject_separator;
        const bool ends_token = i + 1 == size || subject[i + 1] == subject_separator;
        if (starts_token && ends_token) return true;
    }
    return false;
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
    TokenReader patterns(pattern);
    TokenReader subjects(subject);
    while (!patterns.done()) {
        const std::string_view pattern_token = patterns.next();
        if (subjects.done()) return false;
        const std::string_view subject_token = subjects.next();
        if (subject_token.empty()) return false;
        if (is_full_wildcard(pattern_token)) {
            // '>' takes every remaining token, but each of them must still be non-empty.
            while (!subjects.done()) {
                if (subjects.next().empty()) return false;
            }
            return true;
        }
        if (!is_partial_wildcard(pattern_token) && pattern_token != subject_token) return false;
    }
    return subjects.done();
}

bool subject_is_subset(std::string_view narrower, std::string_view wider) {
    TokenReader narrowers(narrower);
    TokenReader widers(wider);
    while (!widers.done()) {
        const std::string_view wider_token = widers.next();
        if (narrowers.done()) return false;
        const std::string_view narrower_token = narrowers.next();
        if (is_full_wildcard(wider_token)) return true;
        if (is_full_wildcard(narrower_token)) return false;
        if (is_partial_wildcard(wider_token)) continue;
        // A literal in `wider` admits only that same literal, never a wildcard.
        if (is_partial_wildcard(narrower_token) || narrower_token != wider_token) return false;
    }
    return narrowers.done();
}

}  // namespace herald::protocol
