// JsClient: a connection and a JetStream context for the CLI's JetStream commands, driven one
// call at a time. await() starts a callback operation and runs the loop on the calling thread
// until its callback ran, so a command reads as a sequence of steps. Every wait ends: each
// request of engine/client carries --timeout, and waits of our own are bounded by a deadline.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/args.h"
#include "cli/session.h"
#include "engine/client/jetstream.h"
#include "engine/io/asio/asio_env.h"

namespace herald::cli {

class JsClient {
public:
    explicit JsClient(const GlobalOptions& global, std::size_t max_pending_async = 4000);
    ~JsClient();
    JsClient(const JsClient&) = delete;
    JsClient& operator=(const JsClient&) = delete;

    // Connects; on failure prints the connection error ("nats: connection refused: URL").
    bool connect();
    // SIGINT/SIGTERM set interrupted() (waits of run_until end); call before connect().
    void catch_signals();
    bool interrupted() const { return interrupted_; }

    io::Env& env() { return asio_.env(); }
    client::Connection& connection() { return *connection_; }
    client::JetStream& js() { return *js_; }
    const GlobalOptions& global() const { return global_; }

    // Runs the loop until `done()` holds, interrupted() or the connection closed. Returns done().
    bool run_until(const std::function<bool()>& done);
    // Runs the loop until `done()`, interruption, closing, or `limit` passed. Returns done().
    bool run_until(const std::function<bool()>& done, Duration limit);

    template <class T>
    client::JsResult<T> await(const std::function<void(client::JsCallback<T>)>& start) {
        auto slot = std::make_shared<std::optional<client::JsResult<T>>>();
        start([slot](client::JsResult<T> result) { slot->emplace(std::move(result)); });
        // The client's own timeout ends every operation; the extra bound covers a lost callback.
        if (!run_until([&] { return slot->has_value(); }, wait_limit())) {
            return client::JsResult<T>(interrupted_ ? client::Errc::connection_closed
                                                    : client::Errc::timeout);
        }
        return std::move(**slot);
    }

    // A raw $JS.API request (for configs sent exactly as stored, e.g. restore and --config):
    // the reply's JSON text, or the error (timeout, no responders = JetStream not enabled, or the
    // reply's {"error":{...}}).
    client::JsResult<std::string> api_request(std::string_view subject_suffix,
                                              std::string_view body);

    // Drains (sends every buffered publish and ack) and closes, bounded by --timeout.
    void close();

private:
    Duration wait_limit() const { return global_.timeout * 2 + Duration::seconds(1); }

    GlobalOptions global_;
    io::AsioEnv asio_;
    std::unique_ptr<client::Connection> connection_;
    std::unique_ptr<client::JetStream> js_;
    bool interrupted_ = false;
    bool closed_ = false;
};

// "stream not found (10059)" for server errors (description and err_code, as natscli prints
// them), else the client's reason ("timeout", "jetstream not enabled").
std::string describe(const client::JsError& error);
// Prints "herald: <what>: <describe(error)>" and gives exit_failure.
int js_failure(std::string_view what, const client::JsError& error);

}  // namespace herald::cli
