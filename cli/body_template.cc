#include "cli/body_template.h"

#include <ctime>

#include <fmt/format.h>

#include "cli/args.h"
#include "engine/base/assert.h"

namespace herald::cli {
namespace {

constexpr std::string_view alphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::size_t id_size = 22;  // as long as a NUID
constexpr std::uint64_t random_size_max = 1024 * 1024;

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while (at < text.size()) {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t'))
            ++at;
        const std::size_t start = at;
        while (at < text.size() && text[at] != ' ' && text[at] != '\t')
            ++at;
        if (at > start) words.push_back(text.substr(start, at - start));
    }
    return words;
}

void append_random(io::Random& random, std::size_t size, std::string& out) {
    for (std::size_t i = 0; i < size; ++i)
        out.push_back(alphabet[random.next_u64() % alphabet.size()]);
}

std::tm local_time(std::int64_t unix_ns, std::int64_t& nanoseconds) {
    const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
    nanoseconds = unix_ns % 1'000'000'000;
    std::tm parts{};
    localtime_r(&seconds, &parts);
    return parts;
}

}  // namespace

std::optional<BodyTemplate> BodyTemplate::parse(std::string_view text, std::string& error) {
    BodyTemplate result;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t open = text.find("{{", at);
        if (open == std::string_view::npos) {
            result.segments_.push_back({Kind::text, std::string(text.substr(at))});
            break;
        }
        if (open > at)
            result.segments_.push_back({Kind::text, std::string(text.substr(at, open - at))});
        const std::size_t close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            error = fmt::format("unterminated template action at byte {}: missing }}}}", open);
            return std::nullopt;
        }
        const std::string_view action = trim(text.substr(open + 2, close - open - 2));
        std::vector<std::string_view> words = split_words(action);
        if (!words.empty() && words[0].starts_with('.')) words[0].remove_prefix(1);
        const std::string_view name = words.empty() ? std::string_view{} : words[0];
        Segment segment;
        if (name == "Random") {
            const auto low = words.size() == 3 ? parse_count(words[1]) : std::nullopt;
            const auto high = words.size() == 3 ? parse_count(words[2]) : std::nullopt;
            if (!low || !high || *low > *high || *high > random_size_max) {
                error = fmt::format(
                    "template {{{{{}}}}}: use {{{{Random MIN MAX}}}} with 0 <= MIN "
                    "<= MAX <= {}",
                    action,
                    random_size_max);
                return std::nullopt;
            }
            segment = {Kind::random, {}, *low, *high};
        } else if (words.size() != 1) {
            error = fmt::format("unknown template action {{{{{}}}}}", action);
            return std::nullopt;
        } else if (name == "Count") {
            segment.kind = Kind::count;
        } else if (name == "TimeStamp") {
            segment.kind = Kind::timestamp;
        } else if (name == "Unix") {
            segment.kind = Kind::unix_s;
        } else if (name == "UnixNano") {
            segment.kind = Kind::unix_ns;
        } else if (name == "Time") {
            segment.kind = Kind::kitchen_time;
        } else if (name == "ID") {
            segment.kind = Kind::id;
        } else if (name == "Request") {
            segment.kind = Kind::request;
        } else {
            error = fmt::format(
                "unknown template action {{{{{}}}}} (known: Count, TimeStamp, "
                "Unix, UnixNano, Time, ID, Random MIN MAX, Request)",
                action);
            return std::nullopt;
        }
        result.segments_.push_back(std::move(segment));
        at = close + 2;
    }
    return result;
}

bool BodyTemplate::is_static() const {
    for (const Segment& segment : segments_) {
        if (segment.kind != Kind::text) return false;
    }
    return true;
}

std::string BodyTemplate::render(const TemplateContext& context) const {
    std::string out;
    render(context, out);
    return out;
}

void BodyTemplate::render(const TemplateContext& context, std::string& out) const {
    for (const Segment& segment : segments_) {
        std::int64_t nanoseconds = 0;
        switch (segment.kind) {
            case Kind::text:
                out += segment.text;
                break;
            case Kind::count:
                fmt::format_to(std::back_inserter(out), "{}", context.count);
                break;
            case Kind::timestamp: {
                // RFC 3339 in local time with the offset, as Go's time.Now().Format(RFC3339).
                const std::tm parts = local_time(context.unix_ns, nanoseconds);
                char buffer[64];
                const std::size_t size =
                    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S%z", &parts);
                std::string stamp(buffer, size);
                if (stamp.size() >= 5 && stamp.ends_with("+0000")) {
                    stamp.replace(stamp.size() - 5, 5, "Z");
                } else if (stamp.size() >= 5) {
                    stamp.insert(stamp.size() - 2, ":");
                }
                out += stamp;
                break;
            }
            case Kind::unix_s:
                fmt::format_to(std::back_inserter(out), "{}", context.unix_ns / 1'000'000'000);
                break;
            case Kind::unix_ns:
                fmt::format_to(std::back_inserter(out), "{}", context.unix_ns);
                break;
            case Kind::kitchen_time: {
                const std::tm parts = local_time(context.unix_ns, nanoseconds);
                const int hour = parts.tm_hour % 12 == 0 ? 12 : parts.tm_hour % 12;
                fmt::format_to(std::back_inserter(out),
                               "{}:{:02}{}",
                               hour,
                               parts.tm_min,
                               parts.tm_hour < 12 ? "AM" : "PM");
                break;
            }
            case Kind::id:
                ASSERT(context.random != nullptr);
                append_random(*context.random, id_size, out);
                break;
            case Kind::random: {
                ASSERT(context.random != nullptr);
                const std::uint64_t span = segment.random_max - segment.random_min + 1;
                const std::uint64_t size = segment.random_min + context.random->next_u64() % span;
                append_random(*context.random, static_cast<std::size_t>(size), out);
                break;
            }
            case Kind::request:
                out += context.request;
                break;
        }
    }
}

}  // namespace herald::cli
