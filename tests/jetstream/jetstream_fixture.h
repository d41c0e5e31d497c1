// A herald Server with JetStream on one SimNode, raw-protocol clients on another, and helpers to
// make $JS.API requests and publishes and read their JSON replies. Everything runs on simulated
// time and the simulated disk, so a test can shut the server down and build a new one on the same
// node to see what the disk kept.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/jetstream/jetstream.h"
#include "engine/server/server.h"
#include "sim/node.h"
#include "sim/world.h"
#include "tests/support/raw_client.h"

namespace herald::testing {

using nlohmann::json;

constexpr std::uint64_t js_steps_max = 400'000;

class JetStreamFixture {
public:
    explicit JetStreamFixture(std::uint64_t seed = 1, std::string domain = {})
        : world(seed), domain_(std::move(domain)) {
        node = &world.add_node();
        client_node = &world.add_node();
        start_server();
        client = &connect();
    }
    ~JetStreamFixture() {
        clients.clear();
        server.reset();
    }

    // `wait_ready` false returns while JetStream may still be recovering streams.
    void start_server(bool wait_ready = true) {
        config::Options options;
        options.host = "0.0.0.0";
        options.port = 4222;
        options.jetstream = true;
        options.store_dir = "/data";
        options.jetstream_domain = domain_;
        options.jetstream_sync_interval = sync_interval;
        server = std::make_unique<server::Server>(node->env(), options, base::Logger());
        REQUIRE(server->start());
        if (wait_ready) REQUIRE(wait([&] { return server->jetstream_ready(); }));
        address = node->host() + ":4222";
    }
    // A clean shutdown (stores flushed and closed), then a new Server on the same node and disk.
    void restart_server(bool wait_ready = true) {
        clients.clear();
        route_sids.clear();
        client = nullptr;
        bool done = false;
        server->shutdown([&] { done = true; });
        REQUIRE(wait([&] { return done; }));
        server.reset();
        start_server(wait_ready);
        client = &connect();
    }

    RawClient& connect() {
        clients.push_back(std::make_unique<RawClient>(client_node->env(), address));
        RawClient& raw = *clients.back();
        REQUIRE(wait([&] { return !raw.info().empty(); }));
        raw.send("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\n"
                 "SUB _INBOX.t.* 1\r\nPING\r\n");
        REQUIRE(wait([&] { return raw.pongs() == 1 || raw.eof(); }));
        return raw;
    }

    bool wait(const std::function<bool()>& done) { return world.run_until(done, js_steps_max); }

    // Publishes (HPUB when `headers` is a header block) with a fresh reply inbox and returns the
    // reply message; `replied` is false when nothing came back within the step bound.
    ReceivedMessage publish_raw(const std::string& subject, const std::string& payload,
                                const std::string& headers = "", bool* replied = nullptr) {
        const std::string inbox = "_INBOX.t." + std::to_string(++inbox_count_);
        if (headers.empty()) {
            client->send("PUB " + subject + " " + inbox + " " + std::to_string(payload.size()) + "\r\n" +
                         payload + "\r\n");
        } else {
            client->send("HPUB " + subject + " " + inbox + " " + std::to_string(headers.size()) + " " +
                         std::to_string(headers.size() + payload.size()) + "\r\n" + headers + payload +
                         "\r\n");
        }
        const auto find = [&]() -> const ReceivedMessage* {
            for (const auto& message : client->messages()) {
                if (message.subject == inbox) return &message;
            }
            return nullptr;
        };
        const bool ok = wait([&] { return find() != nullptr; });
        if (replied != nullptr) *replied = ok;
        if (!ok) return {};
        return *find();
    }
    // A request whose reply is JSON: the parsed reply.
    json request(const std::string& subject, const std::string& body = "") {
        bool replied = false;
        const ReceivedMessage reply = publish_raw(subject, body, "", &replied);
        REQUIRE(replied);
        const json parsed = json::parse(reply.payload, nullptr, false);
        INFO(reply.payload);
        REQUIRE(!parsed.is_discarded());
        return parsed;
    }
    json publish(const std::string& subject, const std::string& payload, const std::string& headers = "") {
        return request_with_headers(subject, payload, headers);
    }
    json request_with_headers(const std::string& subject, const std::string& payload,
                              const std::string& headers) {
        bool replied = false;
        const ReceivedMessage reply = publish_raw(subject, payload, headers, &replied);
        REQUIRE(replied);
        const json parsed = json::parse(reply.payload, nullptr, false);
        INFO(reply.payload);
        REQUIRE(!parsed.is_discarded());
        return parsed;
    }
    json create_stream(const json& config) {
        return request("$JS.API.STREAM.CREATE." + config["name"].get<std::string>(), config.dump());
    }

    Duration sync_interval{};  // Options::jetstream_sync_interval of the next start_server().
    sim::SimWorld world;
    sim::SimNode* node = nullptr;
    sim::SimNode* client_node = nullptr;
    std::unique_ptr<server::Server> server;
    std::string address;
    std::vector<std::unique_ptr<RawClient>> clients;

    // JetStream delivers a stored message under its own subject to an inbox or deliver subject,
    // so tests tell deliveries apart by subscription: route() subscribes `subject` (once, or once
    // per call with a queue group) with a fresh sid, and route_sids remembers which.
    std::map<std::string, std::set<std::string>> route_sids;
    void route(const std::string& subject, const std::string& queue = "") {
        if (queue.empty() && route_sids.count(subject) != 0) return;
        const std::string sid = std::to_string(next_route_sid_++);
        client->send("SUB " + subject + (queue.empty() ? "" : " " + queue) + " " + sid + "\r\n");
        route_sids[subject].insert(sid);
    }
    std::uint64_t next_route_sid_ = 1000;
    RawClient* client = nullptr;

private:
    std::string domain_;
    std::uint64_t inbox_count_ = 0;
};

// {"error":{...}} of a reply, for comparisons.
inline json error_of(int code, int err_code, const std::string& description) {
    return json{{"code", code}, {"err_code", err_code}, {"description", description}};
}

// A header block from "Key: value" lines.
inline std::string header_block(std::initializer_list<std::string> lines) {
    std::string block = "NATS/1.0\r\n";
    for (const auto& line : lines) block += line + "\r\n";
    return block + "\r\n";
}

}  // namespace herald::testing
