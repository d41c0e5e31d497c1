#include "engine/server/server.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/jetstream/jetstream.h"
#include "engine/monitor/http_server.h"
#include "engine/monitor/varz.h"

namespace herald::server {

namespace {

// Port -1 asks for a random free port, as nats-server's RANDOM_PORT.
int listen_port(int configured) {
    return configured < 0 ? 0 : configured;
}

// The address to put in URLs: a wildcard listen address is reached on loopback.
std::string url_host(const std::string& host) {
    if (host.empty() || host == "0.0.0.0" || host == "::") return "127.0.0.1";
    return host;
}

}  // namespace

Server::Server(io::Env& env, config::Options options, base::Logger log)
    : env_(env), options_(std::move(options)), log_(std::move(log)) {}

Server::~Server() = default;

Status Server::start() {
    std::string error_message;
    auto authenticator = auth::Authenticator::create(options_, error_message);
    if (!authenticator) {
        LOG_ERROR(log_, "{}", error_message);
        return authenticator.error();
    }
    broker_ = std::make_unique<core::Broker>(env_, options_, std::move(*authenticator), log_);
    const std::string address = fmt::format("{}:{}", options_.host, listen_port(options_.port));
    auto listener =
        env_.network.listen(address, [this](Result<std::unique_ptr<io::Stream>> stream) {
            if (!stream) {
                LOG_ERROR(log_, "error accepting client connection: {}", stream.error().message());
                return;
            }
            if (!accepting_) return hold(std::move(*stream));
            broker_->accept(std::move(*stream));
        });
    if (!listener) {
        LOG_ERROR(log_, "error listening on {}: {}", address, listener.error().message());
        return listener.error();
    }
    listener_ = std::move(*listener);
    client_port_ = listener_->local_port();
    broker_->set_listen_address(options_.host, client_port_);
    LOG_INFO(log_,
             "Starting herald-server version {} (nats-server {} compatible)",
             herald_version,
             core::advertised_version);
    LOG_INFO(log_, "Server name: {}", broker_->server_name());
    LOG_INFO(log_, "Server ID: {}", broker_->server_id());
    // As nats-server, which enables JetStream before its accept loop: clients are served once
    // the file streams are recovered, so nothing they send meets a stream that is not back yet.
    accepting_ = !options_.jetstream;
    if (options_.jetstream) start_jetstream();
    if (options_.http_port != 0) {
        if (Status status = start_monitoring(); !status) return status;
    }
    LOG_INFO(log_, "Listening for client connections on {}:{}", options_.host, client_port_);
    LOG_INFO(log_, "Server is ready");
    return ok();
}

// JetStream for the global account when no accounts are configured, else for the accounts that
// enable it (nats-server configJetStream); the others answer $JS.API with 503/10039. As
// nats-server: `-sd DIR` stores under DIR/jetstream, and the default is the temp directory's
// jetstream/.
void Server::start_jetstream() {
    jetstream::JetStreamConfig config;
    config.store_dir = options_.store_dir.empty() ? std::string("/tmp/jetstream")
                                                  : options_.store_dir + "/jetstream";
    config.domain = options_.jetstream_domain;
    config.sync_interval = options_.jetstream_sync_interval;
    if (config.sync_interval.ns != 0) {
        LOG_WARN(log_, "JetStream file stores are lazy: a publish is acked before fsync, which runs every {} ms "
                       "(sync_interval; remove it for the durable default)",
                 config.sync_interval.ns / 1'000'000);
    }
    for (const auto& account : options_.accounts) {
        if (account.jetstream) config.accounts.push_back(account.name);
    }
    // As nats-server globalAccountOnly(): without configured accounts the global account has it.
    if (options_.accounts.empty()) config.accounts.emplace_back(core::global_account_name);
    auto enabled = [&](const std::string& name) {
        return std::find(config.accounts.begin(), config.accounts.end(), name) != config.accounts.end();
    };
    if (!enabled(std::string(core::global_account_name))) {
        config.disabled_accounts.emplace_back(core::global_account_name);
    }
    for (const auto& account : options_.accounts) {
        if (!enabled(account.name)) config.disabled_accounts.push_back(account.name);
    }
    jetstream_ = std::make_unique<jetstream::JetStream>(env_, *broker_, std::move(config), log_);
    jetstream_->start([this](Status status) {
        if (!status) LOG_ERROR(log_, "JetStream failed to start: {}", status.error().message());
        accept_held();
    });
}

// A connection that arrives while JetStream recovers waits, unread, up to max_connections of them
// (the broker's own limit then applies); past that it is closed at once.
void Server::hold(std::unique_ptr<io::Stream> stream) {
    if (held_.size() >= static_cast<std::size_t>(std::max(options_.max_connections, std::int64_t{0}))) {
        LOG_WARN(log_, "closing a client connection that arrived while JetStream recovers: {} already wait",
                 held_.size());
        return;
    }
    held_.push_back(std::move(stream));
}

void Server::accept_held() {
    accepting_ = true;
    if (!held_.empty()) LOG_INFO(log_, "JetStream is ready: serving {} waiting client connections", held_.size());
    std::vector<std::unique_ptr<io::Stream>> held = std::move(held_);
    held_.clear();
    for (auto& stream : held) broker_->accept(std::move(stream));
}

bool Server::jetstream_ready() const { return jetstream_ && jetstream_->ready(); }

Status Server::start_monitoring() {
    http_ = std::make_unique<monitor::HttpServer>(env_, log_.child("http"));
    monitor::register_endpoints(*http_, *broker_);
    const Status status = http_->listen(
        options_.http_host, static_cast<std::uint16_t>(listen_port(options_.http_port)));
    if (!status) {
        LOG_ERROR(log_,
                  "error listening for monitoring on {}:{}: {}",
                  options_.http_host,
                  options_.http_port,
                  status.error().message());
        return status;
    }
    http_port_ = http_->port();
    return ok();
}

void Server::shutdown(std::function<void()> on_done) {
    LOG_INFO(log_, "Initiating Shutdown...");
    listener_.reset();
    held_.clear();
    http_.reset();
    if (!broker_) {
        if (on_done) on_done();
        return;
    }
    auto stop_broker = [this, done = std::move(on_done)]() mutable {
        broker_->shutdown([this, done = std::move(done)] {
            LOG_INFO(log_, "Server Exiting..");
            if (done) done();
        });
    };
    if (!jetstream_) return stop_broker();
    // JetStream first: its stores flush and close while clients are still connected.
    jetstream_->shutdown(std::move(stop_broker));
}

std::string Server::ports_json() const {
    nlohmann::json ports;
    ports["nats"] = {fmt::format("nats://{}:{}", url_host(options_.host), client_port_)};
    if (http_port_ != 0) {
        ports["monitoring"] = {
            fmt::format("http://{}:{}", url_host(options_.http_host), http_port_)};
    }
    return ports.dump();
}

}  // namespace herald::server
