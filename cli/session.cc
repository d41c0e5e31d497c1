#include "cli/session.h"

#include <signal.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/args.h"
#include "engine/base/assert.h"
#include "engine/base/errc.h"

namespace herald::cli {

std::string servers_text(const GlobalOptions& options) {
    std::string text;
    for (const std::string& server : options.servers) {
        if (!text.empty()) text += ',';
        text += server;
    }
    return text;
}

client::Options client_options(const GlobalOptions& options) {
    client::Options client;
    client.servers = options.servers;
    client.user = options.user;
    client.password = options.password;
    client.token = options.token;
    client.name = options.name;
    client.randomize = false;  // try the servers in the order given, like `nats -s a,b`
    client.connect_timeout = options.timeout;
    client.flush_timeout = options.timeout;
    client.allow_reconnect = false;
    client.retry_on_failed_connect = false;
    return client;
}

std::string describe_connect_error(std::error_code error,
                                   const client::Connection& connection,
                                   const GlobalOptions& options) {
    std::error_code reason = error;
    // The client reports "no server could be reached"; the stream's error says why.
    if (error == client::Errc::connection_refused || error == client::Errc::no_servers) {
        if (const std::error_code last = connection.last_error(); last && last != error) {
            reason = last;
        } else {
            reason = base::Errc::connection_refused;
        }
    }
    std::string why = reason.message();
    if (reason == base::Errc::timed_out || reason == client::Errc::timeout) why = "timeout";
    return fmt::format("nats: {}: {}", why, servers_text(options));
}

void print_error(std::string_view message) {
    std::fflush(stdout);
    std::fprintf(stderr, "herald: %.*s\n", static_cast<int>(message.size()), message.data());
}

Session::Session(const GlobalOptions& options, client::Options client)
    : options_(options),
      connection_(std::make_unique<client::Connection>(asio_.env(), std::move(client))) {}

Session::~Session() {
    // The Connection goes first: it may still hold timers and a stream on this Env.
    connection_.reset();
}

int Session::run(std::function<void()> on_connected, bool interruptible) {
    ASSERT(on_connected);
    if (interruptible) {
        asio_.handle_signals({SIGINT, SIGTERM}, [this](int) {
            if (draining_ || finished_) {
                finish(exit_code_);
                return;
            }
            drain_and_finish(exit_ok);
        });
    }
    connection_->connect([this, on_connected = std::move(on_connected)](Status status) {
        if (!status) {
            print_error(describe_connect_error(status.error(), *connection_, options_));
            finish(exit_failure);
            return;
        }
        on_connected();
    });
    if (!finished_) asio_.run();
    return exit_code_;
}

int Session::run_without_connecting(std::function<void()> task) {
    ASSERT(task);
    asio_.env().loop.post(std::move(task));
    asio_.run();
    return exit_code_;
}

void Session::finish(int exit_code) {
    if (finished_) return;
    finished_ = true;
    exit_code_ = exit_code;
    const client::State state = connection_->state();
    if (state != client::State::idle && state != client::State::closed) connection_->close();
    asio_.stop();
}

void Session::drain_and_finish(int exit_code) {
    if (draining_ || finished_) return;
    draining_ = true;
    exit_code_ = exit_code;
    if (connection_->closed()) {
        finish(exit_code);
        return;
    }
    connection_->drain([this, exit_code](Status) { finish(exit_code); });
}

}  // namespace herald::cli
