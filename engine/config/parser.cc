// A recursive-descent rendering of nats-server's conf/lex.go state machine. Each function names
// the lex.go state it follows, so that behaviour can be checked against the reference quickly.
#include "engine/config/parser.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "engine/config/errc.h"

namespace herald::config {
namespace {

constexpr char end_of_input = '\0';

bool is_whitespace(char c) { return c == ' ' || c == '\t'; }
bool is_newline(char c) { return c == '\n' || c == '\r'; }
bool is_space(char c) { return is_whitespace(c) || is_newline(c) || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_key_separator(char c) { return c == '=' || c == ':'; }
// conf/lex.go isNumberSuffix.
bool is_number_suffix(char c) {
    switch (std::tolower(static_cast<unsigned char>(c))) {
        case 'k': case 'm': case 'g': case 't': case 'p': case 'e': return true;
        default: return false;
    }
}

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return result;
}

std::string describe(char c) {
    if (c == end_of_input) return "EOF";
    if (c == '\n') return "\\n";
    if (c == '\r') return "\\r";
    return std::string(1, c);
}

// The multiplier of a size suffix (conf/parse.go): k, m, g... are powers of 1000; kb, ki, kib,
// mb... are powers of 1024. Returns 0 for an unknown suffix.
std::int64_t suffix_multiplier(std::string_view suffix) {
    const std::string name = lower(suffix);
    if (name.empty()) return 1;
    static constexpr std::string_view letters = "kmgtpe";
    const std::size_t power = letters.find(name[0]);
    if (power == std::string_view::npos) return 0;
    const std::string_view rest = std::string_view(name).substr(1);
    std::int64_t base = 0;
    if (rest.empty()) {
        base = 1000;
    } else if (rest == "b" || rest == "i" || rest == "ib") {
        base = 1024;
    } else {
        return 0;
    }
    std::int64_t multiplier = 1;
    for (std::size_t i = 0; i <= power; i++) multiplier *= base;  // 1024^6 fits in int64.
    return multiplier;
}

bool bool_word(std::string_view word, bool& value) {
    const std::string name = lower(word);
    if (name == "true" || name == "yes" || name == "on") {
        value = true;
        return true;
    }
    if (name == "false" || name == "no" || name == "off") {
        value = false;
        return true;
    }
    return false;
}

void set_position(Value& value, const std::string& file, int line) {
    value.file = file;
    value.line = line;
    for (Value& item : value.items) set_position(item, file, line);
    for (MapEntry& entry : value.entries) {
        entry.key_line = line;
        set_position(entry.value, file, line);
    }
}

void put_entry(Value& map, MapEntry entry) {
    ASSERT(map.is_map());
    if (MapEntry* existing = map.find(entry.key)) {
        existing->value = std::move(entry.value);
        existing->key_line = entry.key_line;
        return;
    }
    map.entries.push_back(std::move(entry));
}

class Parser {
public:
    Parser(std::string_view text, std::string file, const Environment& environment,
           int include_depth, std::string& error_message)
        : text_(text),
          file_(std::move(file)),
          environment_(environment),
          include_depth_(include_depth),
          error_message_(error_message) {}

    Result<Value> parse_document() {
        Value root;
        root.kind = ValueKind::map;
        root.file = file_;
        root.line = 1;
        scopes_.push_back(&root);
        const bool parsed = parse_top(root);
        scopes_.pop_back();
        ASSERT(scopes_.empty());
        if (!parsed) {
            ASSERT(!error_message_.empty());
            return error_code_;
        }
        return root;
    }

private:
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : end_of_input;
    }
    bool at_end() const { return pos_ >= text_.size(); }
    char advance() {
        ASSERT(!at_end());
        const char c = text_[pos_++];
        if (c == '\n') line_++;
        return c;
    }

    bool fail(int line, const std::string& problem, Errc code = Errc::syntax_error) {
        error_message_ = file_ + ":" + std::to_string(line) + ": " + problem;
        error_code_ = code;
        return false;
    }
    bool fail(const std::string& problem) { return fail(line_, problem); }

    void skip_comment() {
        while (!at_end() && !is_newline(peek())) advance();
    }
    // True (and consumed) if a `#` or `//` comment starts here.
    bool take_comment() {
        if (peek() == '#' || (peek() == '/' && peek(1) == '/')) {
            skip_comment();
            return true;
        }
        return false;
    }

    // lexTop and lexTopValueEnd.
    bool parse_top(Value& root) {
        for (;;) {
            while (!at_end() && is_space(peek())) advance();
            if (at_end()) return true;
            // A top-level `{ ... }` around the whole file is allowed and ignored.
            if (peek() == '{' || peek() == '}') {
                advance();
                continue;
            }
            if (take_comment()) continue;
            if (peek() == '/') return fail("unexpected '/'");
            if (!parse_entry(root, /*in_map=*/false)) return false;
            if (!parse_top_value_end()) return false;
        }
    }

    bool parse_top_value_end() {
        for (;;) {
            const char c = peek();
            if (is_whitespace(c)) {
                advance();
            } else if (take_comment() || at_end()) {
                return true;
            } else if (is_newline(c) || c == ';' || c == ',' || c == '}') {
                advance();
                return true;
            } else {
                return fail("expected a top-level value to end with a new line, comment or EOF, "
                            "but got '" + describe(c) + "' instead");
            }
        }
    }

    // lexKeyStart / lexMapKeyStart, lexKey, lexKeyEnd, then the value. `include` is handled here.
    bool parse_entry(Value& map, bool in_map) {
        const int key_line = line_;
        std::string key;
        const char first = peek();
        if (is_key_separator(first)) return fail("unexpected key separator '" + describe(first) + "'");
        if (first == '"' || first == '\'') {
            advance();
            const std::size_t start = pos_;
            while (!at_end() && peek() != first) advance();
            if (at_end()) return fail("unexpected EOF in quoted key");
            key.assign(text_.substr(start, pos_ - start));
            advance();
        } else {
            const std::size_t start = pos_;
            while (!at_end() && !is_space(peek()) && !is_key_separator(peek()) && peek() != '{' &&
                   peek() != '[') {
                advance();
            }
            key.assign(text_.substr(start, pos_ - start));
            if (key.empty()) return fail("expected a key but got '" + describe(peek()) + "'");
            if (is_whitespace(peek()) && lower(key) == "include") return parse_include(map);
        }
        // lexKeyEnd: spaces and new lines, then at most one separator.
        while (!at_end() && is_space(peek())) advance();
        bool separated = false;
        if (is_key_separator(peek())) {
            advance();
            separated = true;
        }
        if (in_map || !separated) {
            // lexMapValue skips new lines after the separator; a top-level separator does not.
            while (!at_end() && is_space(peek())) advance();
        }
        if (at_end() || (in_map && peek() == '}')) {
            return fail(key_line, "expected a value for key \"" + key + "\"");
        }
        if (in_map && peek() == ',') return fail("unexpected map value terminator ','");
        MapEntry entry;
        entry.key = std::move(key);
        entry.key_line = key_line;
        if (!parse_value(entry.value, 0)) return false;
        put_entry(map, std::move(entry));
        return true;
    }

    // lexIncludeStart and lexInclude: `include path`, merged into `map` where it stands.
    bool parse_include(Value& map) {
        const int include_line = line_;
        while (is_whitespace(peek())) advance();
        const char c = peek();
        std::string path;
        if (c == '"' || c == '\'') {
            advance();
            const std::size_t start = pos_;
            while (!at_end() && peek() != c) advance();
            if (at_end()) return fail("unexpected EOF in include path");
            path.assign(text_.substr(start, pos_ - start));
            advance();
        } else if (c == '[' || c == '{' || c == '(' || is_digit(c) || c == '-' || c == '\\' ||
                   is_newline(c) || c == end_of_input) {
            return fail("expected an include path but got '" + describe(c) + "'");
        } else {
            const std::size_t start = pos_;
            while (!at_end() && !is_newline(peek()) && peek() != ';' && peek() != '}' &&
                   !is_whitespace(peek()) && peek() != '\'') {
                advance();
            }
            path.assign(text_.substr(start, pos_ - start));
        }
        if (include_depth_ + 1 > include_depth_max) {
            return fail(include_line, "includes nested deeper than " +
                                          std::to_string(include_depth_max) + " (a cycle?)");
        }
        const std::string full_path = include_path(file_, path);
        std::string read_error;
        Result<std::string> contents = environment_.read_file(full_path, read_error);
        if (!contents) {
            return fail(include_line, "error parsing include file \"" + path + "\": " + read_error,
                        Errc::file_error);
        }
        std::string nested_error;
        Parser nested(*contents, full_path, environment_, include_depth_ + 1, nested_error);
        Result<Value> included = nested.parse_document();
        if (!included) {
            // The nested message already names the included file and line.
            error_message_ = std::move(nested_error);
            error_code_ = nested.error_code_;
            return false;
        }
        for (MapEntry& entry : included->entries) put_entry(map, std::move(entry));
        return true;
    }

    // lexValue: everything that can follow a key or stand in an array.
    bool parse_value(Value& value, int depth) {
        if (depth > nesting_depth_max) {
            return fail("maps and arrays nested deeper than " + std::to_string(nesting_depth_max));
        }
        while (is_whitespace(peek())) advance();
        value.file = file_;
        value.line = line_;
        const char c = peek();
        switch (c) {
            case '[': advance(); return parse_array(value, depth);
            case '{': advance(); return parse_map(value, depth);
            case '\'': advance(); return parse_raw_string(value);
            case '"': advance(); return parse_quoted_string(value);
            case '-': return parse_negative_number(value);
            case '(': advance(); return parse_block(value);
            case '.': return fail("floats must start with a digit");
            case end_of_input: return fail("expected a value but found EOF");
            default: break;
        }
        if (is_newline(c)) return fail("expected a value but found a new line");
        if (is_digit(c)) return parse_number_or_string(value);
        return parse_bare_string(value, pos_, std::string());
    }

    // lexArrayValue and lexArrayValueEnd.
    bool parse_array(Value& array, int depth) {
        array.kind = ValueKind::array;
        for (;;) {
            while (!at_end() && is_space(peek())) advance();
            if (take_comment()) continue;
            if (peek() == ',') return fail("unexpected array value terminator ','");
            if (peek() == ']') {
                advance();
                return true;
            }
            if (at_end()) return fail(array.line, "array is not closed with ']'");
            Value item;
            if (!parse_value(item, depth + 1)) return false;
            array.items.push_back(std::move(item));
            for (;;) {
                const char c = peek();
                if (is_whitespace(c)) {
                    advance();
                    continue;
                }
                if (take_comment()) continue;
                if (c == ',' || is_newline(c)) {
                    advance();
                    break;
                }
                if (c == ']') break;
                return fail("expected an array value terminator ',' or an array terminator ']', "
                            "but got '" + describe(c) + "' instead");
            }
        }
    }

    // lexMapKeyStart, lexMapValueEnd and lexMapEnd. The map is a variable scope while open.
    bool parse_map(Value& map, int depth) {
        map.kind = ValueKind::map;
        scopes_.push_back(&map);
        const bool parsed = parse_map_body(map, depth);
        scopes_.pop_back();
        return parsed;
    }

    bool parse_map_body(Value& map, int depth) {
        for (;;) {
            while (!at_end() && is_space(peek())) advance();
            if (take_comment()) continue;
            const char c = peek();
            if (c == '}') {
                advance();
                return true;
            }
            if (at_end()) return fail(map.line, "map is not closed with '}'");
            if (c == ']') return fail("unexpected array end ']' in a map");
            if (c == '/') return fail("unexpected '/'");
            if (depth + 1 > nesting_depth_max) {
                return fail("maps and arrays nested deeper than " +
                            std::to_string(nesting_depth_max));
            }
            if (!parse_entry(map, /*in_map=*/true)) return false;
            for (;;) {
                const char end = peek();
                if (is_whitespace(end)) {
                    advance();
                    continue;
                }
                if (take_comment()) continue;
                if (end == ';' || end == ',' || is_newline(end)) {
                    advance();
                    break;
                }
                if (end == '}') break;
                return fail("expected a map value terminator ',' or a map terminator '}', "
                            "but got '" + describe(end) + "' instead");
            }
        }
    }

    // lexQuotedString: single quotes, no escapes.
    bool parse_raw_string(Value& value) {
        const int start_line = line_;
        const std::size_t start = pos_;
        while (!at_end() && peek() != '\'') advance();
        if (at_end()) return fail(start_line, "unexpected EOF in a quoted string");
        value.kind = ValueKind::string;
        value.text.assign(text_.substr(start, pos_ - start));
        advance();
        return true;
    }

    // lexStringEscape and lexStringBinary: the character after a backslash.
    bool parse_escape(std::string& target) {
        const char c = at_end() ? end_of_input : advance();
        switch (c) {
            case 't': target.push_back('\t'); return true;
            case 'n': target.push_back('\n'); return true;
            case 'r': target.push_back('\r'); return true;
            case '"': target.push_back('"'); return true;
            case '\\': target.push_back('\\'); return true;
            case 'x': {
                const char high = peek();
                const char low = peek(1);
                if (is_newline(high) || is_newline(low) || high == end_of_input ||
                    low == end_of_input) {
                    return fail("expected two hexadecimal digits after '\\x', but hit end of line");
                }
                unsigned byte = 0;
                const char digits[2] = {high, low};
                auto [end, error] = std::from_chars(digits, digits + 2, byte, 16);
                if (error != std::errc() || end != digits + 2) {
                    return fail("expected two hexadecimal digits after '\\x', but got '" +
                                std::string(digits, 2) + "'");
                }
                advance();
                advance();
                target.push_back(static_cast<char>(byte));
                return true;
            }
            default:
                return fail("invalid escape character '" + describe(c) +
                            "'. Only the following escape characters are allowed: \\xXX, \\t, "
                            "\\n, \\r, \\\", \\\\");
        }
    }

    // lexDubQuotedString.
    bool parse_quoted_string(Value& value) {
        const int start_line = line_;
        value.kind = ValueKind::string;
        for (;;) {
            if (at_end()) return fail(start_line, "unexpected EOF in a quoted string");
            const char c = advance();
            if (c == '"') return true;
            if (c == '\\') {
                if (!parse_escape(value.text)) return false;
            } else {
                value.text.push_back(c);
            }
        }
    }

    // lexBlock: `(` up to a `)` alone on its line; the text between, as a string.
    bool parse_block(Value& value) {
        const int start_line = line_;
        const std::size_t start = pos_;
        for (;;) {
            if (at_end()) return fail(start_line, "block '(' is not closed with ')' on its own line");
            const std::size_t here = pos_;
            const char c = advance();
            if (c == ')' && here > start && text_[here - 1] == '\n' &&
                (peek() == '\n' || at_end())) {
                value.kind = ValueKind::string;
                value.text.assign(text_.substr(start, here - 1 - start));
                return true;
            }
        }
    }

    static bool ends_bare_string(char c) {
        return is_newline(c) || c == end_of_input || c == ';' || c == ',' || c == ']' ||
               c == '}' || is_whitespace(c);
    }

    // lexString: an unquoted string from `start` (part of it may already be consumed, with
    // escapes already decoded into `decoded`). Becomes a boolean or a variable when it reads as one.
    bool parse_bare_string(Value& value, std::size_t start, std::string decoded) {
        const int start_line = line_;
        bool escaped = !decoded.empty();
        std::size_t chunk = start;
        for (;;) {
            const char c = peek();
            if (c == '\\') {
                decoded.append(text_.substr(chunk, pos_ - chunk));
                advance();
                if (!parse_escape(decoded)) return false;
                escaped = true;
                chunk = pos_;
                continue;
            }
            if (ends_bare_string(c) || c == '\'') break;
            advance();
        }
        decoded.append(text_.substr(chunk, pos_ - chunk));
        if (peek() == '\'') advance();  // lex.go ends a bare string at a quote and eats it.
        value.kind = ValueKind::string;
        bool flag = false;
        if (!escaped && bool_word(decoded, flag)) {
            value.kind = ValueKind::boolean;
            value.boolean = flag;
            return true;
        }
        if (!escaped && decoded.size() > 1 && decoded[0] == '$') {
            return resolve_variable(value, decoded.substr(1), start_line);
        }
        value.text = std::move(decoded);
        return true;
    }

    // lexNumberOrDateOrStringOrIP: an integer (maybe with a size suffix), a float, a datetime, an
    // IP address or a bare string that starts with a digit.
    bool parse_number_or_string(Value& value) {
        const std::size_t start = pos_;
        while (is_digit(peek())) advance();
        const char c = peek();
        if (c == '-') {
            if (pos_ - start != 4) return fail("all ISO8601 dates must be in full Zulu form");
            return parse_datetime(value, start);
        }
        if (c == '.') return parse_float_or_ip(value, start);
        if (is_number_suffix(c)) return parse_suffixed(value, start);
        if (!ends_number(c)) return parse_bare_string(value, start, std::string());
        return make_integer(value, text_.substr(start, pos_ - start));
    }

    // Herald also ends a number at ']' (lex.go would make "[1, 2]" hold the string "2").
    static bool ends_number(char c) {
        return is_newline(c) || c == end_of_input || c == '}' || c == ']' || c == ';' ||
               c == ',' || is_whitespace(c);
    }

    // lexNegNumberStart and lexNegNumber.
    bool parse_negative_number(Value& value) {
        const std::size_t start = pos_;
        advance();
        if (!is_digit(peek())) {
            if (peek() == '.') return fail("floats must start with a digit, not '.'");
            return fail("expected a digit but got '" + describe(peek()) + "'");
        }
        while (is_digit(peek())) advance();
        if (peek() == '.') return parse_float_or_ip(value, start);
        if (is_number_suffix(peek())) return parse_suffixed(value, start);
        return make_integer(value, text_.substr(start, pos_ - start));
    }

    // lexConvenientNumber: 1k, 1KB, 1Mi, 1MiB...; anything else after it makes a bare string.
    bool parse_suffixed(Value& value, std::size_t start) {
        advance();
        while (peek() == 'b' || peek() == 'B' || peek() == 'i' || peek() == 'I') advance();
        if (!ends_number(peek())) return parse_bare_string(value, start, std::string());
        return make_integer(value, text_.substr(start, pos_ - start));
    }

    // conf/parse.go itemInteger: digits, then an optional size suffix.
    bool make_integer(Value& value, std::string_view written) {
        std::size_t digits = 0;
        while (digits < written.size() && (is_digit(written[digits]) || written[digits] == '-')) {
            digits++;
        }
        std::int64_t number = 0;
        auto [end, error] = std::from_chars(written.data(), written.data() + digits, number);
        if (error == std::errc::result_out_of_range) {
            return fail("integer '" + std::string(written) + "' is out of range");
        }
        if (error != std::errc() || end != written.data() + digits) {
            return fail("expected an integer, but got '" + std::string(written) + "'");
        }
        const std::int64_t multiplier = suffix_multiplier(written.substr(digits));
        if (multiplier == 0) {
            return fail("unknown size suffix in '" + std::string(written) + "'");
        }
        if (number > std::numeric_limits<std::int64_t>::max() / multiplier ||
            number < std::numeric_limits<std::int64_t>::min() / multiplier) {
            return fail("integer '" + std::string(written) + "' is out of range");
        }
        value.kind = ValueKind::integer;
        value.integer = number * multiplier;
        return true;
    }

    // lexFloatStart, lexFloat and lexIPAddr.
    bool parse_float_or_ip(Value& value, std::size_t start) {
        advance();  // '.'
        if (!is_digit(peek())) {
            return fail("floats must have a digit after the '.', but got '" + describe(peek()) +
                        "' instead");
        }
        while (is_digit(peek())) advance();
        if (peek() == '.') {
            while (is_digit(peek()) || peek() == '.' || peek() == ':' || peek() == '-') advance();
            value.kind = ValueKind::string;
            value.text.assign(text_.substr(start, pos_ - start));
            return true;
        }
        const std::string written(text_.substr(start, pos_ - start));
        char* end = nullptr;
        const double number = std::strtod(written.c_str(), &end);
        if (end != written.c_str() + written.size()) {
            return fail("expected a float, but got '" + written + "'");
        }
        value.kind = ValueKind::floating;
        value.floating = number;
        return true;
    }

    // lexDateAfterYear: "YYYY-" has been read up to the '-'; the rest must be MM-DDTHH:MM:SSZ.
    bool parse_datetime(Value& value, std::size_t start) {
        static constexpr std::string_view format = "-00-00T00:00:00Z";
        for (const char expected : format) {
            const char c = peek();
            if (expected == '0' ? !is_digit(c) : c != expected) {
                return fail("expected " + std::string(expected == '0' ? "a digit" : "'" + describe(expected) + "'") +
                            " in ISO8601 datetime, but found '" + describe(c) + "' instead");
            }
            advance();
        }
        value.kind = ValueKind::datetime;
        value.text.assign(text_.substr(start, pos_ - start));
        return true;
    }

    // conf/parse.go lookupVariable: enclosing maps from the innermost out, then the environment,
    // whose value is parsed as a config value. `$2a$...` (bcrypt) is a plain string.
    bool resolve_variable(Value& value, const std::string& name, int line) {
        if (name.rfind("2a$", 0) == 0 || name.rfind("2b$", 0) == 0) {
            value.kind = ValueKind::string;
            value.text = "$" + name;
            return true;
        }
        for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
            if (MapEntry* entry = (*scope)->find(name)) {
                entry->used_as_variable = true;
                value = entry->value;
                set_position(value, file_, line);
                return true;
            }
        }
        if (std::optional<std::string> text = environment_.variable(name)) {
            return resolve_environment_variable(value, name, *text, line);
        }
        return fail(line, "variable reference for \"" + name + "\" can not be found");
    }

    bool resolve_environment_variable(Value& value, const std::string& name,
                                      const std::string& text, int line) {
        if (include_depth_ + 1 > include_depth_max) {
            return fail(line, "environment variable \"" + name + "\" refers to itself");
        }
        std::string nested_error;
        Parser nested("pk=" + text, "environment variable " + name, environment_,
                      include_depth_ + 1, nested_error);
        // The nested parser owns its text: keep it alive while parsing.
        Result<Value> parsed = nested.parse_owned();
        if (!parsed) {
            return fail(line, "environment variable \"" + name + "\": " + nested_error);
        }
        const MapEntry* entry = parsed->find("pk");
        if (entry == nullptr) return fail(line, "environment variable \"" + name + "\" is empty");
        value = entry->value;
        set_position(value, file_, line);
        return true;
    }

    // Used for environment values, whose text is a temporary built by the caller.
    Parser(std::string&& owned, std::string file, const Environment& environment,
           int include_depth, std::string& error_message)
        : owned_text_(std::move(owned)),
          text_(owned_text_),
          file_(std::move(file)),
          environment_(environment),
          include_depth_(include_depth),
          error_message_(error_message) {}
    Result<Value> parse_owned() { return parse_document(); }

    std::string owned_text_;
    std::string_view text_;
    std::string file_;
    const Environment& environment_;
    int include_depth_ = 0;
    std::string& error_message_;
    Errc error_code_ = Errc::syntax_error;
    std::size_t pos_ = 0;
    int line_ = 1;
    // Maps still being built that enclose the current position: the variable scopes.
    std::vector<Value*> scopes_;
};

}  // namespace

std::string include_path(const std::string& including_file, const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    const std::size_t slash = including_file.rfind('/');
    if (slash == std::string::npos) return path;
    return including_file.substr(0, slash + 1) + path;
}

Result<Value> parse_config_text(std::string_view text, const std::string& file_name,
                                const Environment& environment, std::string& error_message) {
    Parser parser(text, file_name, environment, 0, error_message);
    return parser.parse_document();
}

Result<Value> parse_config_file(const std::string& path, const Environment& environment,
                                std::string& error_message) {
    Result<std::string> contents = environment.read_file(path, error_message);
    if (!contents) return contents.error();
    return parse_config_text(*contents, path, environment, error_message);
}

}  // namespace herald::config
