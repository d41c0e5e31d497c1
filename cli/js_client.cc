#include "cli/js_client.h"

#include <csignal>
#include <cstdio>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::cli {
namespace {

constexpr std::size_t handlers_unbounded = std::numeric_limits<std::size_t>::max();

}  // namespace

JsClient::JsClient(const GlobalOptions& global, std::size_t max_pending_async) : global_(global) {
    client::Options options = client_options(global);
    options.on_closed = [this] {
        closed_ = true;
    };
    connection_ = std::make_unique<client::Connection>(asio_.env(), std::move(options));
    client::JetStreamOptions js_options;
    js_options.timeout = global.timeout;
    js_options.max_pending_async = max_pending_async;
    js_ = std::make_unique<client::JetStream>(asio_.env(), *connection_, js_options);
}

JsClient::~JsClient() {
    js_.reset();
    if (!connection_->closed() && connection_->state() != client::State::idle) connection_->close();
    // Let the callbacks that are ready (the close's own) run before the Connection goes; not
    // longer: timers and the signal set would keep the loop busy for ever.
    auto reached = std::make_shared<bool>(false);
    env().loop.post([reached] { *reached = true; });
    asio_.run_until([&] { return *reached; }, handlers_unbounded);
    connection_.reset();
}

void JsClient::catch_signals() {
    asio_.handle_signals({SIGINT, SIGTERM}, [this](int) { interrupted_ = true; });
}

bool JsClient::connect() {
    // Callbacks hold their slot, not the stack: one may still come after a wait gave up.
    auto outcome = std::make_shared<std::optional<Status>>();
    connection_->connect([outcome](Status status) { *outcome = status; });
    run_until([&] { return outcome->has_value(); }, global_.timeout * 2 + Duration::seconds(1));
    if (!outcome->has_value()) *outcome = Status(client::Errc::timeout);
    if (!**outcome) {
        print_error(describe_connect_error((*outcome)->error(), *connection_, global_));
        return false;
    }
    closed_ = false;
    return true;
}

bool JsClient::run_until(const std::function<bool()>& done) {
    asio_.run_until([&] { return done() || interrupted_ || closed_; }, handlers_unbounded);
    return done();
}

bool JsClient::run_until(const std::function<bool()>& done, Duration limit) {
    if (done()) return true;
    auto expired = std::make_shared<bool>(false);
    const io::TimerId timer = env().loop.schedule(limit, [expired] { *expired = true; });
    asio_.run_until([&] { return done() || interrupted_ || closed_ || *expired; },
                    handlers_unbounded);
    env().loop.cancel(timer);
    return done();
}

client::JsResult<std::string> JsClient::api_request(std::string_view subject_suffix,
                                                    std::string_view body) {
    auto slot = std::make_shared<std::optional<Result<client::Message>>>();
    connection_->request(
        js_->api_prefix() + std::string(subject_suffix),
        body,
        global_.timeout,
        [slot](Result<client::Message> message) { slot->emplace(std::move(message)); });
    if (!run_until([&] { return slot->has_value(); }, wait_limit())) {
        return client::JsResult<std::string>(client::Errc::timeout);
    }
    auto& reply = *slot;
    if (!*reply) {
        if (reply->error() == client::Errc::no_responders) return client::JsErrc::not_enabled;
        return reply->error();
    }
    const std::string& text = reply->value().payload;
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_object()) return client::JsErrc::bad_response;
    if (const auto error = json.find("error"); error != json.end() && error->is_object()) {
        client::JsError failure{make_error_code(client::JsErrc::api_error), {}};
        failure.api.code = error->value("code", 0);
        failure.api.err_code = error->value("err_code", 0);
        failure.api.description = error->value("description", std::string{});
        if (failure.api.err_code == 10058) failure.code = client::JsErrc::stream_name_in_use;
        if (failure.api.err_code == 10059) failure.code = client::JsErrc::stream_not_found;
        return failure;
    }
    return text;
}

void JsClient::close() {
    if (connection_->closed() || connection_->state() == client::State::idle) return;
    auto drained = std::make_shared<bool>(false);
    connection_->drain([drained](Status) { *drained = true; });
    // Not run_until: the drain closes the connection before its callback runs.
    auto expired = std::make_shared<bool>(false);
    const io::TimerId timer = env().loop.schedule(global_.timeout, [expired] { *expired = true; });
    asio_.run_until([&] { return *drained || *expired; }, handlers_unbounded);
    env().loop.cancel(timer);
    if (!connection_->closed()) connection_->close();
}

std::string describe(const client::JsError& error) {
    if (error.api.err_code != 0 || !error.api.description.empty()) {
        return fmt::format("{} ({})", error.api.description, error.api.err_code);
    }
    if (error.code == client::Errc::no_responders || error.code == client::JsErrc::not_enabled)
        return "JetStream not enabled (no responders on the JetStream API)";
    if (error.code == client::Errc::timeout) return "timeout";
    return error.code.message();
}

int js_failure(std::string_view what, const client::JsError& error) {
    print_error(fmt::format("{}: {}", what, describe(error)));
    return exit_failure;
}

}  // namespace herald::cli
