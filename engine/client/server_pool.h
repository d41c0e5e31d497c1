// ServerPool: the servers a Connection may use, in visiting order: the configured URLs and the
// connect_urls a server advertises in INFO (nats.go's srvPool). It parses "nats://" URLs and
// tracks attempts per server for reconnect backoff.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/base/time.h"
#include "engine/io/io.h"

namespace herald::client {

inline constexpr std::uint16_t default_port = 4222;

struct ServerUrl {
    std::string host;
    std::uint16_t port = default_port;
    std::string user;
    std::string password;
    std::string token;

    std::string address() const;  // "host:port" ("[v6]:port" for IPv6 hosts)
};

// Parses "nats://[user:pass@|token@]host[:port]", "host:port" or "host". Other schemes (tls,
// ws) are refused with Errc::invalid_argument until the client speaks them.
Result<ServerUrl> parse_server_url(std::string_view url);

struct ServerEntry {
    ServerUrl url;
    bool discovered = false;          // learned from connect_urls
    std::uint32_t failures = 0;       // attempts since the last successful handshake
    std::optional<Instant> last_attempt;
};

class ServerPool {
public:
    // Adds every URL of `urls` (each may list several, split by commas). Duplicates are skipped.
    Status add_configured(const std::vector<std::string>& urls);
    // Adds "host:port" from connect_urls if new; returns whether it was new.
    bool add_discovered(std::string_view host_port);
    void shuffle(io::Random& random);

    // The server tried last (or to try first).
    ServerEntry& current();
    // Moves the current server to the end of the pool, or drops it when it has failed more than
    // `attempts_max` times (-1: never). Returns false when the pool is empty.
    bool rotate(std::int32_t attempts_max);

    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    const std::vector<ServerEntry>& entries() const { return entries_; }

private:
    bool contains(const std::string& address) const;
    std::vector<ServerEntry> entries_;
};

}  // namespace herald::client
