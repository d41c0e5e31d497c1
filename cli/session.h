// Session: one client::Connection on its own AsioEnv, run on the calling thread, plus the global
// options every subcommand shares (-s, --user, --password, --token, --timeout, --name) and the
// wording of connection errors ("nats: connection refused: nats://127.0.0.1:4999").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "engine/base/time.h"
#include "engine/client/client.h"
#include "engine/io/asio/asio_env.h"

namespace herald::cli {

inline constexpr std::string_view default_server_url = "nats://127.0.0.1:4222";
inline constexpr Duration default_timeout = Duration::seconds(5);

struct GlobalOptions {
    std::vector<std::string> servers = {std::string(default_server_url)};
    std::string user;
    std::string password;
    std::string token;
    std::string name = "herald";
    Duration timeout = default_timeout;
};

// The servers as the user wrote them, comma-separated, for messages.
std::string servers_text(const GlobalOptions& options);

// client::Options for a short-lived CLI connection: servers in the given order, connect timeout
// = --timeout, no reconnect (callers that live long turn it back on).
client::Options client_options(const GlobalOptions& options);

// "nats: connection refused: nats://127.0.0.1:4999" and the like: the reason (the stream's error
// when the client only says no server could be reached) and the URL(s) tried.
std::string describe_connect_error(std::error_code error,
                                   const client::Connection& connection,
                                   const GlobalOptions& options);

// Runs one Connection on the calling thread. Lifecycle: construct, call run() once with what to
// do after connecting; the work ends the run with finish() or drain_and_finish(). Everything
// happens on the loop inside run().
class Session {
public:
    Session(const GlobalOptions& options, client::Options client);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    io::Env& env() { return asio_.env(); }
    client::Connection& connection() { return *connection_; }
    const GlobalOptions& options() const { return options_; }

    // Connects (a failure prints describe_connect_error and returns exit_failure), then calls
    // `on_connected` on the loop and runs until finish(). With `interruptible`, SIGINT and
    // SIGTERM drain the connection and end the run with exit_ok (a second signal ends it at once).
    int run(std::function<void()> on_connected, bool interruptible = false);
    // Runs `task` on the loop without connecting the client (for work over io::Network itself),
    // until finish().
    int run_without_connecting(std::function<void()> task);

    // Ends run() with `exit_code` (the connection is closed). Safe to call more than once; the
    // first exit code wins.
    void finish(int exit_code);
    // Drains the connection (pending messages are delivered, buffered publishes sent), then
    // finish(exit_code).
    void drain_and_finish(int exit_code);
    bool finishing() const { return finished_ || draining_; }

private:
    GlobalOptions options_;
    io::AsioEnv asio_;
    std::unique_ptr<client::Connection> connection_;
    int exit_code_ = 0;
    bool finished_ = false;
    bool draining_ = false;
};

// Prints "herald: <message>" on stderr.
void print_error(std::string_view message);

}  // namespace herald::cli
