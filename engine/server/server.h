// Server: the composition root of one node. From Options and an io::Env it builds the broker,
// listens for clients (and for monitoring over HTTP), and shuts everything down in order. The
// same class runs under herald-server (real Env) and inside the simulator (SimNode Env).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/log.h"
#include "engine/base/result.h"
#include "engine/config/options.h"
#include "engine/core/broker.h"
#include "engine/io/io.h"

namespace herald::monitor {
class HttpServer;
}  // namespace herald::monitor

namespace herald::jetstream {
class JetStream;
}  // namespace herald::jetstream

namespace herald::server {

// Herald's own release, reported by --version (clients see core::advertised_version).
inline constexpr std::string_view herald_version = "0.1.0";

class Server {
public:
    Server(io::Env& env, config::Options options, base::Logger log);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens the client listener (and the monitoring listener when configured). With JetStream,
    // connections are accepted at once but served only when its streams are recovered.
    Status start();
    // Stops accepting, flushes and closes every client; `on_done` runs when all are closed.
    void shutdown(std::function<void()> on_done);

    int client_port() const { return client_port_; }
    int http_port() const { return http_port_; }
    const config::Options& options() const { return options_; }
    core::Broker& broker() { return *broker_; }
    // The JetStream engine when options.jetstream is set (null otherwise); it serves the $JS.API
    // once jetstream_ready().
    jetstream::JetStream* jetstream() { return jetstream_.get(); }
    bool jetstream_ready() const;
    // The ports file content nats-server writes to ports_file_dir (config-and-monitoring.md §2).
    std::string ports_json() const;

private:
    Status start_monitoring();
    void start_jetstream();
    void hold(std::unique_ptr<io::Stream> stream);
    void accept_held();

    io::Env& env_;
    config::Options options_;
    base::Logger log_;
    std::unique_ptr<core::Broker> broker_;
    std::unique_ptr<io::Listener> listener_;
    std::unique_ptr<monitor::HttpServer> http_;
    std::unique_ptr<jetstream::JetStream> jetstream_;
    // Connections accepted while JetStream recovers its streams; served once it is ready.
    std::vector<std::unique_ptr<io::Stream>> held_;
    bool accepting_ = true;
    int client_port_ = 0;
    int http_port_ = 0;
};

}  // namespace herald::server
