#include "engine/jetstream/subject_transform.h"

#include "engine/jetstream/api_json.h"
#include "engine/protocol/subject.h"

namespace herald::jetstream {

namespace {

std::vector<std::string> tokens_of(std::string_view subject) {
    std::vector<std::string> tokens;
    protocol::TokenReader reader(subject);
    while (!reader.done())
        tokens.emplace_back(reader.next());
    return tokens;
}

// `$N` or `{{wildcard(N)}}` (spaces allowed inside the braces): N, else 0; -1 when malformed.
int placeholder_index(std::string_view token) {
    if (token.starts_with("$")) {
        const auto n = parse_uint(token.substr(1));
        return n && *n > 0 && *n < 1000 ? static_cast<int>(*n) : -1;
    }
    if (!token.starts_with("{{") || !token.ends_with("}}")) return 0;
    std::string inner;
    for (const char c : token.substr(2, token.size() - 4)) {
        if (c != ' ') inner += c;
    }
    if (!inner.starts_with("wildcard(") || !inner.ends_with(")")) return -1;
    const auto n = parse_uint(std::string_view(inner).substr(9, inner.size() - 10));
    return n && *n > 0 && *n < 1000 ? static_cast<int>(*n) : -1;
}

}  // namespace

std::optional<SubjectTransform> SubjectTransform::create(std::string_view source,
                                                         std::string_view destination) {
    if (source.empty()) source = ">";
    if (!protocol::is_valid_subject(source) || !protocol::is_valid_subject(destination))
        return std::nullopt;
    SubjectTransform transform;
    transform.source_.assign(source);
    transform.source_tokens_ = tokens_of(source);
    const std::vector<std::string> destination_tokens = tokens_of(destination);
    const bool source_rest = transform.source_tokens_.back() == ">";
    const bool destination_rest = destination_tokens.back() == ">";
    if (source_rest != destination_rest) return std::nullopt;
    for (std::size_t i = 0; i < transform.source_tokens_.size(); ++i) {
        if (transform.source_tokens_[i] == "*") transform.wildcard_positions_.push_back(i);
    }
    transform.identity_ = source == ">" && destination == ">";
    std::size_t placeholders = 0;
    const bool wildcards = !transform.wildcard_positions_.empty() || source_rest;
    for (const std::string& token : destination_tokens) {
        if (token == "*") return std::nullopt;
        Token out;
        if (token == ">") {
            out.rest = true;
        } else if (const int index = wildcards ? placeholder_index(token) : 0; index > 0) {
            if (static_cast<std::size_t>(index) > transform.wildcard_positions_.size())
                return std::nullopt;
            out.wildcard = index;
            placeholders += 1;
        } else if (index < 0) {
            return std::nullopt;
        } else {
            out.literal = token;
        }
        transform.destination_.push_back(std::move(out));
    }
    if (placeholders < transform.wildcard_positions_.size()) return std::nullopt;
    return transform;
}

std::optional<std::string> SubjectTransform::apply(std::string_view subject) const {
    if (!protocol::subject_matches(source_, subject)) return std::nullopt;
    if (identity_) return std::string(subject);
    const std::vector<std::string> tokens = tokens_of(subject);
    std::string out;
    for (const Token& token : destination_) {
        if (!out.empty()) out += '.';
        if (token.rest) {
            // The subject's tokens from where the source's `>` starts.
            for (std::size_t i = source_tokens_.size() - 1; i < tokens.size(); ++i) {
                if (i != source_tokens_.size() - 1) out += '.';
                out += tokens[i];
            }
        } else if (token.wildcard > 0) {
            out += tokens[wildcard_positions_[static_cast<std::size_t>(token.wildcard - 1)]];
        } else {
            out += token.literal;
        }
    }
    return out;
}

}  // namespace herald::jetstream
