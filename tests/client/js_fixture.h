// A herald Server with JetStream on one SimNode and client Connections (with a JetStream context)
// on another, all in one simulated world; `await` runs the world until an async client operation
// reports, within a step bound. Shared by jetstream_test, kv_test and object_store_test.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/client/client.h"
#include "engine/client/jetstream.h"
#include "engine/server/server.h"
#include "sim/node.h"
#include "sim/world.h"

namespace herald::testing {

constexpr std::uint64_t client_js_steps_max = 2'000'000;

struct ClientJsFixture {
    explicit ClientJsFixture(std::uint64_t seed = 1, client::JetStreamOptions js_options = {},
                             std::string domain = {})
        : world(seed) {
        server_node = &world.add_node();
        client_node = &world.add_node();
        server_options.host = "0.0.0.0";
        server_options.port = 4222;
        server_options.jetstream = true;
        server_options.store_dir = "/data";
        server_options.jetstream_domain = std::move(domain);
        start_server();
        connection = &connect();
        js = std::make_unique<client::JetStream>(client_node->env(), *connection, std::move(js_options));
    }
    ~ClientJsFixture() {
        js.reset();
        clients.clear();
        // A clean shutdown, so the server's stores and consumers are closed before it goes.
        bool stopped = false;
        server->shutdown([&] { stopped = true; });
        (void)wait([&] { return stopped; });
        server.reset();
    }

    void start_server() {
        server = std::make_unique<server::Server>(server_node->env(), server_options, base::Logger());
        REQUIRE(server->start());
        REQUIRE(wait([&] { return server->jetstream_ready(); }));
    }
    // A clean shutdown, then a new Server on the same node and disk; clients reconnect by themselves.
    void restart_server() {
        bool stopped = false;
        server->shutdown([&] { stopped = true; });
        REQUIRE(wait([&] { return stopped; }));
        server.reset();
        start_server();
    }

    client::Connection& connect() {
        client::Options o;
        o.servers = {"nats://" + server_node->host() + ":4222"};
        clients.push_back(std::make_unique<client::Connection>(client_node->env(), o));
        client::Connection& c = *clients.back();
        bool done = false;
        Status result = client::Errc::timeout;
        c.connect([&](Status status) {
            done = true;
            result = status;
        });
        REQUIRE(wait([&] { return done; }));
        REQUIRE(result);
        return c;
    }

    bool wait(const std::function<bool()>& done, std::uint64_t steps = client_js_steps_max) {
        return world.run_until(done, steps);
    }

    // Starts `op` with a callback and runs the world until the callback ran.
    template <class T>
    client::JsResult<T> await(const std::function<void(client::JsCallback<T>)>& op) {
        std::optional<client::JsResult<T>> result;
        op([&](client::JsResult<T> r) { result.emplace(std::move(r)); });
        REQUIRE(wait([&] { return result.has_value(); }));
        return std::move(*result);
    }

    // Shorthands for setting up state.
    client::StreamInfo add_stream(const client::StreamConfig& config) {
        auto info = await<client::StreamInfo>([&](auto cb) { js->add_stream(config, std::move(cb)); });
        INFO((info ? std::string("ok") : info.error().message()));
        REQUIRE(info);
        return *info;
    }
    client::PubAck publish(const std::string& subject, const std::string& payload,
                           const client::PublishOptions& options = {}) {
        auto ack = await<client::PubAck>([&](auto cb) { js->publish(subject, payload, options, std::move(cb)); });
        INFO((ack ? std::string("ok") : ack.error().message()));
        REQUIRE(ack);
        return *ack;
    }

    sim::SimWorld world;
    config::Options server_options;
    sim::SimNode* server_node = nullptr;
    sim::SimNode* client_node = nullptr;
    std::unique_ptr<server::Server> server;
    std::vector<std::unique_ptr<client::Connection>> clients;
    client::Connection* connection = nullptr;
    std::unique_ptr<client::JetStream> js;
};

}  // namespace herald::testing
