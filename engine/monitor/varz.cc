#include "engine/monitor/varz.h"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/core/broker.h"
#include "engine/monitor/http_server.h"

namespace herald::monitor {

std::string uptime_text(std::uint64_t seconds) {
    const std::uint64_t days = seconds / 86400;
    const std::uint64_t hours = (seconds / 3600) % 24;
    const std::uint64_t minutes = (seconds / 60) % 60;
    const std::uint64_t secs = seconds % 60;
    if (days > 0) return fmt::format("{}d{}h{}m{}s", days, hours, minutes, secs);
    if (hours > 0) return fmt::format("{}h{}m{}s", hours, minutes, secs);
    if (minutes > 0) return fmt::format("{}m{}s", minutes, secs);
    return fmt::format("{}s", secs);
}

std::string rfc3339(std::int64_t realtime_ns) {
    const std::time_t seconds = realtime_ns / 1'000'000'000;
    const auto nanos = static_cast<long>(realtime_ns % 1'000'000'000);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                       parts.tm_year + 1900,
                       parts.tm_mon + 1,
                       parts.tm_mday,
                       parts.tm_hour,
                       parts.tm_min,
                       parts.tm_sec,
                       nanos);
}

namespace {

// Matches nats-server monitor.go Varz for the fields Herald has.
nlohmann::json varz(core::Broker& broker, const HttpServer& http, io::Env& env) {
    const config::Options& options = broker.options();
    const core::BrokerStats& stats = broker.stats();
    const Duration uptime = env.clock.monotonic().since(broker.start_time());
    const std::int64_t now = env.clock.realtime_ns();
    nlohmann::json http_req_stats = nlohmann::json::object();
    for (const auto& [path, count] : http.request_counts())
        http_req_stats[path] = count;
    return {
        {"server_id", broker.server_id()},
        {"server_name", broker.server_name()},
        {"version", core::advertised_version},
        {"proto", 1},
        {"go", "herald"},
        {"host", options.host},
        {"port", broker.listen_port()},
        {"auth_required", broker.authenticator().auth_required()},
        {"max_connections", options.max_connections},
        {"ping_interval", options.ping_interval.ns},
        {"ping_max", options.ping_max},
        {"http_host", options.http_host},
        {"http_port", http.port()},
        {"https_port", 0},
        {"auth_timeout", static_cast<double>(options.auth_timeout.ns) / 1e9},
        {"max_control_line", options.max_control_line},
        {"max_payload", options.max_payload},
        {"max_pending", options.max_pending},
        {"tls_timeout", 2},
        {"write_deadline", options.write_deadline.ns},
        {"start", rfc3339(now - static_cast<std::int64_t>(uptime.ns))},
        {"now", rfc3339(now)},
        {"uptime", uptime_text(uptime.ns / 1'000'000'000)},
        {"connections", broker.connection_count()},
        {"total_connections", stats.total_connections},
        {"routes", 0},
        {"remotes", 0},
        {"leafnodes", 0},
        {"in_msgs", stats.in_msgs},
        {"out_msgs", stats.out_msgs},
        {"in_bytes", stats.in_bytes},
        {"out_bytes", stats.out_bytes},
        {"slow_consumers", stats.slow_consumers},
        {"subscriptions", broker.subscription_count()},
        {"http_req_stats", http_req_stats},
        {"config_load_time", rfc3339(now - static_cast<std::int64_t>(uptime.ns))},
        {"system_account", ""},
        {"connect_urls", nlohmann::json::array()},
    };
}

}  // namespace

void register_endpoints(HttpServer& http, core::Broker& broker) {
    io::Env& env = broker.env();
    http.route("/varz", [&http, &broker, &env](const HttpRequest&) {
        return HttpResponse::json(varz(broker, http, env).dump(2));
    });
    http.route("/healthz",
               [](const HttpRequest&) { return HttpResponse::json(R"({"status":"ok"})"); });
    http.route("/", [](const HttpRequest&) {
        HttpResponse response;
        response.content_type = "text/html; charset=utf-8";
        response.body =
            "<html><body><h1>herald-server</h1><ul><li><a href=\"varz\">varz</a></li>"
            "<li><a href=\"healthz\">healthz</a></li></ul></body></html>\n";
        return response;
    });
}

}  // namespace herald::monitor
