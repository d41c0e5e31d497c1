// HTTP/1.x request parser. Leniencies follow Go's net/http, which serves nats-server's monitoring
// port: bare LF line ends, empty lines before the request line, query pairs with a bad escape
// dropped (url.ParseQuery as used by r.URL.Query()).
#include "engine/monitor/http_parser.h"

#include <algorithm>
#include <charconv>

#include "engine/base/assert.h"

namespace herald::monitor {
namespace {

bool is_token_char(char c) {
    if (c >= 'a' && c <= 'z') return true;
    if (c >= 'A' && c <= 'Z') return true;
    if (c >= '0' && c <= '9') return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = to_lower(c);
    return result;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t index = 0; index < a.size(); ++index) {
        if (to_lower(a[index]) != to_lower(b[index])) return false;
    }
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Whether a comma-separated header value holds `token` (Connection: keep-alive, Upgrade).
bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        if (equals_ignoring_case(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string result;
    result.reserve(text.size());
    for (std::size_t index = 0; index < text.size(); ++index) {
        const char c = text[index];
        if (c == '%') {
            if (index + 2 >= text.size()) return {};  // Needs two hex digits.
            const int high = hex_value(text[index + 1]);
            const int low = hex_value(text[index + 2]);
            if (high < 0 || low < 0) return {};
            result.push_back(static_cast<char>(high * 16 + low));
            index += 2;
        } else if (c == '+' && plus_is_space) {
            result.push_back(' ');
        } else {
            result.push_back(c);
        }
    }
    return result;
}

std::optional<std::string_view> HttpRequest::query_value(std::string_view name) const {
    for (const auto& [key, value] : query) {
        if (key == name) return std::string_view(value);
    }
    return {};
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) return std::string_view(value);
    }
    return {};
}

void HttpRequestParser::reset() {
    phase_ = Phase::request_line;
    state_ = ParseState::need_more;
    line_.clear();
    line_.reserve(256);
    request_bytes_ = 0;
    body_left_ = 0;
    request_ = HttpRequest{};
    error_status_ = 0;
    error_reason_.clear();
}

const HttpRequest& HttpRequestParser::request() const {
    ASSERT(state_ == ParseState::complete);
    return request_;
}

int HttpRequestParser::error_status() const {
    ASSERT(state_ == ParseState::error);
    return error_status_;
}

std::string_view HttpRequestParser::error_reason() const {
    ASSERT(state_ == ParseState::error);
    return error_reason_;
}

void HttpRequestParser::fail(int status, std::string_view reason) {
    ASSERT(status >= 400);
    if (state_ == ParseState::error) return;  // The first error wins.
    state_ = ParseState::error;
    error_status_ = status;
    error_reason_ = std::string(reason);
}

HttpRequestParser::Outcome HttpRequestParser::feed(std::string_view input) {
    ASSERT(state_ == ParseState::need_more);
    std::size_t position = 0;
    while (position < input.size() && state_ == ParseState::need_more) {
        if (phase_ == Phase::body) {
            const std::size_t take = static_cast<std::size_t>(
                std::min<std::uint64_t>(body_left_, input.size() - position));
            body_left_ -= take;
            position += take;
            if (body_left_ == 0) {
                phase_ = Phase::done;
                state_ = ParseState::complete;
            }
            continue;
        }
        const std::size_t newline = input.find('\n', position);
        const bool line_ends = newline != std::string_view::npos;
        const std::size_t end = line_ends ? newline : input.size();
        const std::size_t chunk = end - position + (line_ends ? 1 : 0);
        if (request_bytes_ + chunk > http_request_size_max) {
            fail(431, "request header fields too large");
            position += chunk;
            break;
        }
        request_bytes_ += chunk;
        line_.append(input.substr(position, end - position));
        position += chunk;
        if (line_ends) {
            std::string_view line = line_;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            on_line(line);
            line_.clear();
        }
    }
    check_invariants();
    return Outcome{state_, position};
}

void HttpRequestParser::on_line(std::string_view line) {
    ASSERT(line.find('\n') == std::string_view::npos);
    if (phase_ == Phase::request_line) {
        if (line.empty()) return;  // Tolerated before the request line (RFC 9112 §2.2).
        on_request_line(line);
        if (state_ == ParseState::need_more) phase_ = Phase::header_line;
        return;
    }
    ASSERT(phase_ == Phase::header_line);
    if (line.empty()) {
        on_headers_end();
    } else {
        on_header_line(line);
    }
}

// Request line: method SP request-target SP HTTP-version (Go parseRequestLine).
void HttpRequestParser::on_request_line(std::string_view line) {
    const std::size_t first = line.find(' ');
    const std::size_t second =
        first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos) return fail(400, "malformed request line");
    const std::string_view method = line.substr(0, first);
    const std::string_view target = line.substr(first + 1, second - first - 1);
    const std::string_view version = line.substr(second + 1);
    if (!is_token(method)) return fail(400, "bad method");
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return fail(400, "malformed HTTP version");
    }
    if (version[5] != '1') return fail(505, "HTTP version not supported");
    request_.version_minor = version[7] - '0';
    request_.method = std::string(method);
    request_.method_kind = method == "GET"    ? HttpMethod::get
                           : method == "HEAD" ? HttpMethod::head
                                              : HttpMethod::other;
    request_.target = std::string(target);

    std::string_view rest = target;
    if (rest.substr(0, 7) == "http://" || rest.substr(0, 8) == "https://") {
        rest.remove_prefix(rest.find("://") + 3);  // Absolute form: drop scheme and authority.
        const std::size_t slash = rest.find_first_of("/?");
        rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
        if (!rest.empty() && rest.front() == '?') request_.path = "/";
    } else if (rest != "*" && (rest.empty() || rest.front() != '/')) {
        return fail(400, "bad request target");
    }
    const std::size_t fragment = rest.find('#');
    if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
    const std::size_t question = rest.find('?');
    const std::string_view raw_path = rest.substr(0, question);
    if (!raw_path.empty()) {
        std::optional<std::string> path = percent_decode(raw_path, false);
        if (!path) return fail(400, "bad escape in path");
        request_.path = std::move(*path);
    }
    if (request_.path.empty()) request_.path = "/";
    if (question == std::string_view::npos) return;
    std::string_view query = rest.substr(question + 1);
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        if (request_.query.size() == http_query_params_max) {
            return fail(400, "too many query parameters");
        }
        const std::size_t equals = pair.find('=');
        std::optional<std::string> key = percent_decode(pair.substr(0, equals), true);
        std::optional<std::string> value =
            percent_decode(equals == std::string_view::npos ? std::string_view()
                                                            : pair.substr(equals + 1),
                           true);
        if (!key || !value) continue;  // Go's url.ParseQuery drops a pair with a bad escape.
        request_.query.emplace_back(std::move(*key), std::move(*value));
    }
    ASSERT(request_.query.size() <= http_query_params_max);
}

void HttpRequestParser::on_header_line(std::string_view line) {
    ASSERT(!line.empty());
    if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400, "malformed header line");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return fail(400, "bad header name");
    if (request_.headers.size() == http_headers_max) {
        return fail(431, "request header fields too large");
    }
    request_.headers.emplace_back(lower(name), std::string(trim(line.substr(colon + 1))));
}

void HttpRequestParser::on_headers_end() {
    const std::optional<std::string_view> connection = request_.header("connection");
    if (request_.version_minor == 0) {
        request_.keep_alive = connection && has_token(*connection, "keep-alive");
    } else {
        request_.keep_alive = !(connection && has_token(*connection, "close"));
    }
    if (request_.header("transfer-encoding")) return fail(400, "transfer-encoding not supported");
    std::optional<std::uint64_t> length;
    for (const auto& [key, value] : request_.headers) {
        if (key != "content-length") continue;
        std::uint64_t parsed = 0;
        auto [pointer, code] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (code != std::errc() || pointer != value.data() + value.size() || value.empty()) {
            return fail(400, "bad content-length");
        }
        if (length && *length != parsed) return fail(400, "conflicting content-length");
        length = parsed;
    }
    if (length && *length > http_body_size_max) return fail(413, "request body too large");
    body_left_ = length.value_or(0);
    if (body_left_ > 0) {
        phase_ = Phase::body;
    } else {
        phase_ = Phase::done;
        state_ = ParseState::complete;
    }
}

void HttpRequestParser::check_invariants() const {
    ASSERT(request_bytes_ <= http_request_size_max);
    ASSERT(line_.size() <= request_bytes_);
    if (phase_ != Phase::body) ASSERT(body_left_ == 0 || state_ == ParseState::error);
    if (state_ == ParseState::complete) ASSERT(phase_ == Phase::done);
    if (state_ == ParseState::error) ASSERT(error_status_ >= 400);
    ASSERT(body_left_ <= http_body_size_max);
}

}  // namespace herald::monitor
