// SubjectTransform: maps a subject matching `source` to `destination` as nats-server's
// transform (accounts.go newTransform/Match) does for stream republish: destination tokens `$N`
// and `{{wildcard(N)}}` take the subject's token at the source's N-th `*`, a trailing `>` takes
// the rest. nats-server's other mapping functions (partition, split...) are not supported.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::jetstream {

class SubjectTransform {
public:
    // nullopt when the pair is not a valid transform (invalid subjects, `*` in the destination,
    // `>` in one but not the other, a wildcard index out of range or a source wildcard unused).
    static std::optional<SubjectTransform> create(std::string_view source,
                                                  std::string_view destination);

    // The destination for `subject`, or nullopt when it does not match the source.
    std::optional<std::string> apply(std::string_view subject) const;

private:
    struct Token {
        std::string literal;
        int wildcard = 0;   // 1-based index of a source `*`, 0 = literal.
        bool rest = false;  // `>`.
    };
    std::string source_;
    std::vector<std::string> source_tokens_;
    std::vector<std::size_t> wildcard_positions_;  // Token index of each source `*`.
    std::vector<Token> destination_;
    bool identity_ = false;
};

}  // namespace herald::jetstream
