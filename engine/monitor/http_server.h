// HttpServer: the minimal HTTP/1.1 server behind the monitoring endpoints (/varz, /healthz,
// /connz...). It runs on the node's io::Env (Network, Stream, Loop, Clock) and never touches
// sockets itself, so it works the same over asio and in the simulator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/log.h"
#include "engine/base/result.h"
#include "engine/io/io.h"
#include "engine/monitor/http_parser.h"

namespace herald::monitor {

inline constexpr std::size_t http_connections_max = 128;  // More are closed on accept.
inline constexpr std::size_t http_read_buffer_size = 4096;
// A connection that makes no progress (no complete request, no finished response) for this long
// is closed: idle keep-alive connections, slow senders and readers alike.
inline constexpr Duration http_idle_timeout = Duration::seconds(30);

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    // Extra headers, written after the standard ones.
    std::vector<std::pair<std::string, std::string>> headers;

    static HttpResponse json(std::string body, int status = 200);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Reason phrase of a status code ("Not Found"); "Unknown" for codes it does not know.
std::string_view http_reason_phrase(int status);
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time in nanoseconds.
std::string http_date(std::int64_t realtime_ns);

struct HttpStats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_rejected = 0;  // Over http_connections_max.
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;  // Parse errors (4xx before routing).
};

// Lifecycle: construct, add routes, listen(); destroying it closes the listener and every
// connection (no callback runs afterwards). Everything runs on env.loop; not thread-safe.
// Requests: GET and HEAD on an exact route path (404 otherwise, 405 for other methods), with
// keep-alive and pipelining; one request is handled at a time per connection, in order. Handlers
// run on the loop and must not block. Routes may be added before or after listen().
class HttpServer {
public:
    HttpServer(io::Env& env, base::Logger logger);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Listens on host:port; port 0 picks a free port, reported by port().
    Status listen(const std::string& host, std::uint16_t port);
    std::uint16_t port() const;
    // Registers the handler for an exact path ("/varz"); a second call replaces it.
    void route(std::string path, HttpHandler handler);

    const HttpStats& stats() const { return stats_; }
    // Requests served per route path, for /varz http_req_stats. Sorted by path.
    const std::map<std::string, std::uint64_t>& request_counts() const { return request_counts_; }
    std::size_t connection_count() const { return connections_.size(); }

    void check_invariants() const;

private:
    class Connection;
    friend class Connection;
    using ConnectionId = std::uint64_t;

    void on_accept(Result<std::unique_ptr<io::Stream>> accepted);
    HttpResponse respond(const HttpRequest& request);
    // Closes the connection now and destroys it from a posted task (never inside its callbacks).
    void retire(ConnectionId id);

    io::Env& env_;
    base::Logger logger_;
    std::unique_ptr<io::Listener> listener_;
    std::map<std::string, HttpHandler> routes_;
    std::map<std::string, std::uint64_t> request_counts_;
    std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
    ConnectionId next_connection_id_ = 1;
    HttpStats stats_;
    // Posted tasks and accept callbacks hold a weak copy: they do nothing once the server is gone.
    std::shared_ptr<HttpServer*> self_;
};

}  // namespace herald::monitor
