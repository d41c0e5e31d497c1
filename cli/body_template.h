// BodyTemplate: the Go-template subset the nats CLI accepts in `pub` bodies and header values
// and in `reply` answers: {{Count}} (1-based message number), {{TimeStamp}} (RFC 3339),
// {{Unix}}, {{UnixNano}}, {{Time}} (3:04PM), {{ID}} (a unique id), {{Random MIN MAX}} (random
// letters and digits, MIN to MAX of them) and, in `reply`, {{Request}} (the request body).
// `{{ .Count }}` (with a dot and spaces) is the same as `{{Count}}`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/io/io.h"

namespace herald::cli {

// What a template may refer to when rendered.
struct TemplateContext {
    std::uint64_t count = 1;
    std::int64_t unix_ns = 0;
    std::string_view request;
    io::Random* random = nullptr;  // needed for {{Random}} and {{ID}}
};

class BodyTemplate {
public:
    // Parses `text`; a malformed or unknown action ("{{Cont}}") is an error naming it.
    static std::optional<BodyTemplate> parse(std::string_view text, std::string& error);

    // True when there is no action: render() always gives the text back.
    bool is_static() const;
    std::string render(const TemplateContext& context) const;
    void render(const TemplateContext& context, std::string& out) const;

private:
    enum class Kind { text, count, timestamp, unix_s, unix_ns, kitchen_time, id, random, request };
    struct Segment {
        Kind kind = Kind::text;
        std::string text;
        std::uint64_t random_min = 0;
        std::uint64_t random_max = 0;
    };
    std::vector<Segment> segments_;
};

}  // namespace herald::cli
