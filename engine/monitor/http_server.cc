// HttpServer: accepts connections through io::Network, parses requests with HttpRequestParser and
// answers from the route table. One request per connection is in flight at a time: while a
// response is being written nothing more is read, and pipelined bytes wait in the read buffer.
#include "engine/monitor/http_server.h"

#include <array>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "engine/base/assert.h"

namespace herald::monitor {
namespace {

// Appends `text` as the inside of a JSON string (it may be a client-sent path).
void append_json_escaped(std::string& target, std::string_view text) {
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            target.push_back('\\');
            target.push_back(c);
        } else if (byte < 0x20) {
            target.append(fmt::format("\\u{:04x}", byte));
        } else {
            target.push_back(c);
        }
    }
}

std::string error_body(int status, std::string_view detail) {
    std::string body = "{\"error\":\"";
    body.append(http_reason_phrase(status));
    if (!detail.empty()) {
        body.append(": ");
        append_json_escaped(body, detail);
    }
    body.append("\",\"status\":").append(std::to_string(status)).append("}");
    return body;
}

}  // namespace

HttpResponse HttpResponse::json(std::string body, int status) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

std::string_view http_reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Request Entity Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string http_date(std::int64_t realtime_ns) {
    static constexpr std::array<const char*, 7> weekdays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    constexpr std::int64_t ns_per_s = 1'000'000'000;
    constexpr std::int64_t s_per_day = 86'400;
    std::int64_t seconds = realtime_ns / ns_per_s;
    if (realtime_ns % ns_per_s < 0) seconds -= 1;
    std::int64_t days = seconds / s_per_day;
    std::int64_t second_of_day = seconds % s_per_day;
    if (second_of_day < 0) {
        second_of_day += s_per_day;
        days -= 1;
    }
    const std::int64_t weekday = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4).
    // civil_from_days (Howard Hinnant): proleptic Gregorian calendar.
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t day_of_era = z - era * 146097;
    const std::int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const std::int64_t month_index = (5 * day_of_year + 2) / 153;  // March = 0.
    const std::int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
    const std::int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
    const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    ASSERT(weekday >= 0 && weekday < 7);
    ASSERT(month >= 1 && month <= 12);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                       weekdays[static_cast<std::size_t>(weekday)], day,
                       months[static_cast<std::size_t>(month - 1)], year, second_of_day / 3600,
                       second_of_day / 60 % 60, second_of_day % 60);
}

// One accepted connection. Owned by HttpServer::connections_; its callbacks capture `this`,
// which is safe because close() guarantees no stream callback runs afterwards, the idle timer is
// cancelled there, and destruction is deferred to a posted task (HttpServer::retire).
class HttpServer::Connection {
public:
    Connection(HttpServer& server, ConnectionId id, std::unique_ptr<io::Stream> stream)
        : server_(server),
          id_(id),
          stream_(std::move(stream)),
          logger_(server.logger_.child(fmt::format("http={}", id))),
          read_buffer_(http_read_buffer_size) {}
    ~Connection() { close(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start() {
        LOG_DEBUG(logger_, "accepted from {}", stream_->peer_address());
        arm_timer();
        read();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        if (timer_ != 0) server_.env_.loop.cancel(timer_);
        timer_ = 0;
        stream_->close();
    }

    bool closed() const { return closed_; }

    void check_invariants() const {
        ASSERT(input_begin_ <= input_end_);
        ASSERT(input_end_ <= read_buffer_.size());
        if (reading_) ASSERT(!writing_);
        if (reading_) ASSERT(input_begin_ == input_end_);
    }

private:
    void read() {
        ASSERT(!reading_);
        ASSERT(!writing_);
        ASSERT(input_begin_ == input_end_);
        if (closed_) return;
        input_begin_ = 0;
        input_end_ = 0;
        reading_ = true;
        stream_->read_some(std::span<std::byte>(read_buffer_),
                           [this](Result<std::size_t> result) { on_read(result); });
    }

    void on_read(Result<std::size_t> result) {
        ASSERT(reading_);
        reading_ = false;
        if (!result) {
            LOG_DEBUG(logger_, "read error: {}", result.error().message());
            return server_.retire(id_);
        }
        if (*result == 0) {
            LOG_DEBUG(logger_, "closed by peer");
            return server_.retire(id_);
        }
        ASSERT(*result <= read_buffer_.size());
        input_end_ = *result;
        process();
    }

    // Feeds buffered input to the parser until a request completes (then answers it), the input
    // runs out (then reads more), or the request is bad (then answers and closes).
    void process() {
        while (!writing_ && !closed_ && input_begin_ < input_end_) {
            const std::string_view input(
                reinterpret_cast<const char*>(read_buffer_.data()) + input_begin_,
                input_end_ - input_begin_);
            const HttpRequestParser::Outcome outcome = parser_.feed(input);
            ASSERT(outcome.consumed <= input.size());
            input_begin_ += outcome.consumed;
            if (outcome.state == ParseState::complete) {
                arm_timer();
                const HttpRequest& request = parser_.request();
                LOG_TRACE(logger_, "{} {}", request.method, request.target);
                HttpResponse response = server_.respond(request);
                send(std::move(response), request.method_kind == HttpMethod::head,
                     request.keep_alive, request.version_minor);
                parser_.reset();
            } else if (outcome.state == ParseState::error) {
                server_.stats_.bad_requests++;
                LOG_DEBUG(logger_, "bad request: {} {}", parser_.error_status(),
                          parser_.error_reason());
                const int status = parser_.error_status();
                send(HttpResponse::json(error_body(status, parser_.error_reason()), status),
                     false, false, 1);
                input_begin_ = input_end_;  // The rest of the input is unusable.
            } else {
                ASSERT(input_begin_ == input_end_);  // need_more consumes everything.
            }
        }
        if (!writing_ && !closed_) read();
    }

    void send(HttpResponse response, bool head_only, bool keep_alive, int version_minor) {
        ASSERT(!writing_);
        ASSERT(response.status >= 100 && response.status <= 999);
        close_after_write_ = !keep_alive;
        head_ = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                            "Date: {}\r\n",
                            response.status, http_reason_phrase(response.status),
                            response.content_type, response.body.size(),
                            http_date(server_.env_.clock.realtime_ns()));
        if (!keep_alive) {
            head_.append("Connection: close\r\n");
        } else if (version_minor == 0) {
            head_.append("Connection: keep-alive\r\n");
        }
        for (const auto& [name, value] : response.headers) {
            head_.append(name).append(": ").append(value).append("\r\n");
        }
        head_.append("\r\n");
        body_ = head_only ? std::string() : std::move(response.body);
        sources_[0] = std::as_bytes(std::span<const char>(head_));
        sources_[1] = std::as_bytes(std::span<const char>(body_));
        writing_ = true;
        stream_->write_all(std::span<const std::span<const std::byte>>(sources_.data(),
                                                                        body_.empty() ? 1 : 2),
                           [this](Status status) { on_written(status); });
    }

    void on_written(Status status) {
        ASSERT(writing_);
        writing_ = false;
        if (!status) {
            LOG_DEBUG(logger_, "write error: {}", status.error().message());
            return server_.retire(id_);
        }
        if (close_after_write_) return server_.retire(id_);
        arm_timer();
        process();
    }

    void arm_timer() {
        if (closed_) return;
        if (timer_ != 0) server_.env_.loop.cancel(timer_);
        timer_ = server_.env_.loop.schedule(http_idle_timeout, [this] {
            timer_ = 0;
            LOG_DEBUG(logger_, "idle timeout");
            server_.retire(id_);
        });
    }

    HttpServer& server_;
    const ConnectionId id_;
    std::unique_ptr<io::Stream> stream_;
    base::Logger logger_;
    std::vector<std::byte> read_buffer_;
    std::size_t input_begin_ = 0;  // Unparsed input is read_buffer_[input_begin_, input_end_).
    std::size_t input_end_ = 0;
    HttpRequestParser parser_;
    std::string head_;  // The response in flight; alive until on_written.
    std::string body_;
    std::array<std::span<const std::byte>, 2> sources_{};
    io::TimerId timer_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool close_after_write_ = false;
    bool closed_ = false;
};

HttpServer::HttpServer(io::Env& env, base::Logger logger)
    : env_(env), logger_(std::move(logger)), self_(std::make_shared<HttpServer*>(this)) {}

HttpServer::~HttpServer() {
    self_.reset();
    listener_.reset();
    for (auto& [id, connection] : connections_) connection->close();
    connections_.clear();
}

Status HttpServer::listen(const std::string& host, std::uint16_t port) {
    ASSERT(listener_ == nullptr);
    const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
    const std::string address =
        (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    std::weak_ptr<HttpServer*> weak = self_;
    Result<std::unique_ptr<io::Listener>> listening = env_.network.listen(
        address, [weak](Result<std::unique_ptr<io::Stream>> accepted) {
            if (auto self = weak.lock()) (*self)->on_accept(std::move(accepted));
        });
    if (!listening) {
        LOG_ERROR(logger_, "cannot listen for monitoring on {}: {}", address,
                  listening.error().message());
        return listening.error();
    }
    listener_ = std::move(*listening);
    ASSERT(listener_->local_port() != 0);
    LOG_INFO(logger_, "monitoring listening on {}", listener_->local_address());
    return ok();
}

std::uint16_t HttpServer::port() const { return listener_ ? listener_->local_port() : 0; }

void HttpServer::route(std::string path, HttpHandler handler) {
    ASSERT(!path.empty() && path.front() == '/');
    ASSERT(handler);
    routes_[std::move(path)] = std::move(handler);
}

void HttpServer::on_accept(Result<std::unique_ptr<io::Stream>> accepted) {
    if (!accepted) {
        LOG_WARN(logger_, "monitoring accept failed: {}", accepted.error().message());
        return;
    }
    std::unique_ptr<io::Stream> stream = std::move(*accepted);
    ASSERT(stream != nullptr);
    if (connections_.size() >= http_connections_max) {
        stats_.connections_rejected++;
        LOG_WARN(logger_, "monitoring connection from {} refused: {} open",
                 stream->peer_address(), connections_.size());
        stream->close();
        return;
    }
    stats_.connections_accepted++;
    const ConnectionId id = next_connection_id_++;
    auto connection = std::make_unique<Connection>(*this, id, std::move(stream));
    Connection& started = *connection;
    connections_.emplace(id, std::move(connection));
    started.start();
    check_invariants();
}

// Matches the nats-server monitor mux on paths (exact match, 404 otherwise); unlike Go's
// handlers, which accept any method, other methods than GET and HEAD get 405.
HttpResponse HttpServer::respond(const HttpRequest& request) {
    stats_.requests++;
    const auto found = routes_.find(request.path);
    if (found == routes_.end()) {
        return HttpResponse::json(error_body(404, request.path), 404);
    }
    if (request.method_kind == HttpMethod::other) {
        HttpResponse response = HttpResponse::json(error_body(405, request.method), 405);
        response.headers.emplace_back("Allow", "GET, HEAD");
        return response;
    }
    request_counts_[found->first]++;
    HttpResponse response = found->second(request);
    ASSERT(response.status >= 100 && response.status <= 999);
    return response;
}

void HttpServer::retire(ConnectionId id) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) return;
    found->second->close();
    std::weak_ptr<HttpServer*> weak = self_;
    env_.loop.post([weak, id] {
        if (auto self = weak.lock()) {
            (*self)->connections_.erase(id);
            (*self)->check_invariants();
        }
    });
}

void HttpServer::check_invariants() const {
    ASSERT(connections_.size() <= http_connections_max);
    if (listener_) ASSERT(listener_->local_port() != 0);
    for (const auto& [id, connection] : connections_) {
        ASSERT(id < next_connection_id_);
        if (!connection->closed()) connection->check_invariants();
    }
}

}  // namespace herald::monitor
