// HTTP/1.x request parsing for the monitoring server: a sans-I/O state machine that takes bytes
// as they arrive (split at any byte), and the request type the route handlers see. It parses the
// request line, headers, query parameters, and skips a small Content-Length body. HttpServer owns
// one parser per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::monitor {

// Request line plus headers, CRLFs included. Beyond it: 431, as Go's net/http (nats-server's HTTP
// server) answers a request over MaxHeaderBytes.
inline constexpr std::size_t http_request_size_max = 8 * 1024;
inline constexpr std::size_t http_headers_max = 64;        // More: 431.
inline constexpr std::size_t http_query_params_max = 64;   // More: 400.
inline constexpr std::size_t http_body_size_max = 8 * 1024;  // Bodies are read and dropped; more: 413.

static_assert(http_request_size_max >= 1024);

enum class HttpMethod : std::uint8_t { get, head, other };

struct HttpRequest {
    std::string method;  // As sent ("GET").
    HttpMethod method_kind = HttpMethod::other;
    std::string target;  // As sent ("/connz?subs=1&limit=2").
    std::string path;    // Percent-decoded ("/connz").
    std::vector<std::pair<std::string, std::string>> query;    // Decoded, in order.
    std::vector<std::pair<std::string, std::string>> headers;  // Names lower-cased, in order.
    int version_minor = 1;  // HTTP/1.<version_minor>.
    bool keep_alive = true;

    // First value of a query parameter; empty optional if absent ("?subs" gives "").
    std::optional<std::string_view> query_value(std::string_view name) const;
    bool has_query(std::string_view name) const { return query_value(name).has_value(); }
    // First value of a header, by lower-case name.
    std::optional<std::string_view> header(std::string_view name) const;
};

enum class ParseState : std::uint8_t { need_more, complete, error };

// Lifecycle: feed() until it returns complete (request() is then valid) or error (error_status()
// is then valid); call reset() before the next request. feed() never consumes past the end of one
// request, so the rest of a pipelined read is fed again after reset(). Bytes are copied into a
// line buffer bounded by http_request_size_max, so a split anywhere gives the same request.
class HttpRequestParser {
public:
    struct Outcome {
        ParseState state = ParseState::need_more;
        std::size_t consumed = 0;
    };

    HttpRequestParser() { reset(); }

    Outcome feed(std::string_view input);
    void reset();

    ParseState state() const { return state_; }
    const HttpRequest& request() const;
    int error_status() const;               // 400, 413, 431 or 505.
    std::string_view error_reason() const;  // For the error body and the debug log.
    // True once any byte of the current request arrived (idle vs. partial request).
    bool started() const { return request_bytes_ > 0 || body_left_ > 0; }

    void check_invariants() const;

private:
    enum class Phase : std::uint8_t { request_line, header_line, body, done };

    void on_line(std::string_view line);
    void on_request_line(std::string_view line);
    void on_header_line(std::string_view line);
    void on_headers_end();
    void fail(int status, std::string_view reason);

    Phase phase_ = Phase::request_line;
    ParseState state_ = ParseState::need_more;
    std::string line_;                  // The current, unfinished line.
    std::size_t request_bytes_ = 0;     // Request line and header bytes so far.
    std::uint64_t body_left_ = 0;       // Body bytes still to skip.
    HttpRequest request_;
    int error_status_ = 0;
    std::string error_reason_;
};

// Percent-decodes `text` ('+' as space when `plus_is_space`). Empty optional on a bad escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace herald::monitor
