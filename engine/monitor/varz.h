// The monitoring endpoints served over HTTP: /varz and /healthz for now, with nats-server's
// field names (monitor.go Varz) for what Herald has. The full set (/connz, /subsz, /jsz ...)
// comes later.
#pragma once

#include <cstdint>
#include <string>

namespace herald::core {
class Broker;
}  // namespace herald::core

namespace herald::monitor {

class HttpServer;

// Registers every endpoint on `http`. The broker must outlive the HTTP server.
void register_endpoints(HttpServer& http, core::Broker& broker);

// Go's Duration-like uptime text nats-server prints: "3m54s", "2h1m0s", "1d2h3m4s".
std::string uptime_text(std::uint64_t seconds);
// RFC 3339 with nanoseconds in UTC, as Go's time.Time in JSON.
std::string rfc3339(std::int64_t realtime_ns);

}  // namespace herald::monitor
