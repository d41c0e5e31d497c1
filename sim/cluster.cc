#include "sim/cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "engine/base/assert.h"
#include "engine/client/client.h"
#include "engine/server/server.h"
#include "sim/cluster_client_state.h"
#include "sim/node.h"

namespace herald::sim {
namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;
constexpr std::size_t payload_size_min = 24;
constexpr std::size_t request_payload_size = 32;
constexpr std::uint64_t nanoseconds_per_second = 1'000'000'000;

char filler(PayloadId id, std::size_t at) {
    const std::uint64_t mix = id.client * 31U + id.seq * 7U + at;
    return static_cast<char>('a' + static_cast<char>(mix % 26U));
}

std::string format_time(Instant at) {
    return fmt::format("{}.{:06}", at.ns / nanoseconds_per_second,
                       (at.ns % nanoseconds_per_second) / 1000U);
}

bool parse_decimal(std::string_view text, std::uint64_t& value) {
    if (text.empty()) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string make_payload(PayloadId id, std::size_t size) {
    std::string payload = fmt::format("{}{}.{}|", static_cast<char>(id.kind), id.client, id.seq);
    const std::size_t target = std::max(size, payload.size());
    for (std::size_t at = payload.size(); at < target; ++at) payload += filler(id, at);
    return payload;
}

std::optional<PayloadId> parse_payload(std::string_view payload) {
    if (payload.empty()) return std::nullopt;
    const char kind = payload[0];
    if (kind != 'p' && kind != 'q' && kind != 'r') return std::nullopt;
    const auto bar = payload.find('|');
    const auto dot = payload.find('.');
    if (bar == std::string_view::npos || dot == std::string_view::npos || dot > bar) return std::nullopt;
    std::uint64_t client = 0;
    PayloadId id;
    id.kind = static_cast<PayloadKind>(kind);
    if (!parse_decimal(payload.substr(1, dot - 1), client) || client >= no_client) return std::nullopt;
    if (!parse_decimal(payload.substr(dot + 1, bar - dot - 1), id.seq)) return std::nullopt;
    id.client = static_cast<std::uint32_t>(client);
    for (std::size_t at = bar + 1; at < payload.size(); ++at) {
        if (payload[at] != filler(id, at)) return std::nullopt;
    }
    return id;
}


Cluster::Cluster(std::uint64_t seed, ClusterSpec spec)
    : spec_(std::move(spec)),
      world_(std::make_unique<SimWorld>(seed, spec_.world)),
      log_hash_(fnv_offset) {
    ASSERT(!spec_.nodes.empty());
    log_backend_ = std::make_shared<base::LogBackend>();
    log_backend_->level = spec_.server_log_level;
    log_backend_->timestamps = false;  // The sink prefixes simulated time itself.
    log_backend_->sink = [this](base::LogLevel, std::string_view line) { log_line(line); };
    for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
        SimDiskOptions& disk = world_->add_node().file_system().options();
        disk.sync_latency = spec_.nodes[i].sync_latency;
        disk.sync_latency_jitter = spec_.nodes[i].sync_latency_jitter;
    }
    servers_.resize(spec_.nodes.size());
    server_generations_.resize(spec_.nodes.size());
    for (std::uint32_t c = 0; c < spec_.clients.size(); ++c) {
        const ClientSpec& client = spec_.clients[c];
        ASSERT(!client.servers.empty());
        for (const std::uint32_t server : client.servers) ASSERT(server < spec_.nodes.size());
        SimNode& node = world_->add_node();
        ClientRecord record{client.name, node.index(), {}};
        for (const auto& sub : client.subscribe) record.subscriptions.push_back({sub.subject, sub.queue, false});
        for (const auto& sub : client.respond) record.subscriptions.push_back({sub.subject, sub.queue, true});
        history_.clients.push_back(std::move(record));
        clients_.push_back(std::make_unique<ClientState>());
        clients_.back()->js_publishers.resize(client.js_publish.size());
        clients_.back()->js_pullers.resize(client.js_consume.size());
    }
}

Cluster::~Cluster() {
    // Clients first (their destructors close streams), then servers, then the world.
    for (auto& client : clients_) client->connection.reset();
    for (auto& server : servers_) server.reset();
}

NodeIndex Cluster::client_node(std::uint32_t client) const {
    ASSERT(client < clients_.size());
    return static_cast<NodeIndex>(spec_.nodes.size() + client);
}

void Cluster::start() {
    for (std::uint32_t s = 0; s < servers_.size(); ++s) start_server(s);
    workload_running_ = true;
    for (std::uint32_t c = 0; c < clients_.size(); ++c) start_client(c);
}

void Cluster::stop_workload() {
    workload_running_ = false;
    history_.workload_end = world_->now();
    note("workload stops");
}

void Cluster::start_server(std::uint32_t server) {
    ASSERT(servers_[server] == nullptr);
    ++server_generations_[server];
    config::Options options = spec_.nodes[server].options;
    options.host = "0.0.0.0";
    options.port = server_port;
    options.http_port = 0;
    SimNode& node = world_->node(server);
    servers_[server] = std::make_unique<server::Server>(
        node.env(), options, base::Logger(log_backend_, fmt::format("n{}", server)));
    const Status started = servers_[server]->start();
    ASSERT(started);
}

void Cluster::start_client(std::uint32_t c) {
    ClientState& state = *clients_[c];
    const ClientSpec& spec = spec_.clients[c];
    ASSERT(state.connection == nullptr);
    state.up = true;
    ++state.incarnation;
    client::Options options;
    options.servers.clear();
    for (const std::uint32_t server : spec.servers) {
        options.servers.push_back(fmt::format("nats://{}:{}", world_->node(server).host(), server_port));
    }
    options.name = spec.name;
    options.allow_reconnect = true;
    options.max_reconnect_attempts = -1;
    options.retry_on_failed_connect = true;
    options.ping_interval = spec.ping_interval;
    options.max_pings_out = spec.max_pings_out;
    options.connect_timeout = spec.connect_timeout;
    options.reconnect_wait = spec.reconnect_wait;
    options.reconnect_wait_max = spec.reconnect_wait_max;
    const std::uint64_t incarnation = state.incarnation;
    options.on_disconnected = [this, c, incarnation](std::error_code why) {
        if (clients_[c]->incarnation == incarnation) connection_lost(c, why.message());
    };
    options.on_reconnected = [this, c, incarnation] {
        if (clients_[c]->incarnation == incarnation) current_epoch(c);
    };
    options.on_closed = [this, c, incarnation] {
        if (clients_[c]->incarnation == incarnation) connection_lost(c, "closed");
    };
    SimNode& node = world_->node(client_node(c));
    state.connection = std::make_unique<client::Connection>(node.env(), std::move(options));
    client::Connection& connection = *state.connection;
    // Subscriptions made while connecting go out with the handshake (and again on every
    // reconnect).
    connection.connect([this, c, incarnation](Status status) {
        if (clients_[c]->incarnation != incarnation) return;
        if (status) current_epoch(c);
    });
    const auto& records = history_.clients[c].subscriptions;
    for (std::uint32_t index = 0; index < records.size(); ++index) {
        const SubscriptionRecord& record = records[index];
        auto handler = [this, c, index](const client::Message& message) {
            on_message(c, index, message.subject, message.reply, message.payload);
        };
        const auto made = record.queue.empty()
                              ? connection.subscribe(record.subject, handler)
                              : connection.queue_subscribe(record.subject, record.queue, handler);
        ASSERT(made);
    }
    arm_timers(c);
}

namespace {

Duration interval_of(std::uint64_t rate_per_second) {
    return Duration{nanoseconds_per_second / std::max<std::uint64_t>(rate_per_second, 1)};
}

// A first delay spread by client and stream so that clients do not all fire in step.
Duration phase_of(std::uint32_t client, std::size_t index, Duration interval) {
    return Duration{(client * 7919ULL + index * 104729ULL) % std::max<std::uint64_t>(interval.ns, 1) + 1};
}

}  // namespace

void Cluster::arm_timers(std::uint32_t c) {
    const ClientSpec& spec = spec_.clients[c];
    const std::uint64_t incarnation = clients_[c]->incarnation;
    for (std::size_t i = 0; i < spec.publish.size(); ++i) {
        const Duration interval = interval_of(spec.publish[i].rate_per_second);
        repeat(c, incarnation, phase_of(c, i, interval), interval, [this, c, i] {
            if (!workload_running_) return false;
            do_publish(c, i);
            return true;
        });
    }
    for (std::size_t i = 0; i < spec.request.size(); ++i) {
        const Duration interval = interval_of(spec.request[i].rate_per_second);
        repeat(c, incarnation, phase_of(c, i + 17, interval), interval, [this, c, i] {
            if (!workload_running_) return false;
            do_request(c, i);
            return true;
        });
    }
    arm_js_timers(c);
    repeat(c, incarnation, phase_of(c, 31, spec.flush_interval), spec.flush_interval, [this, c] {
        do_flush(c);
        return true;
    });
}

void Cluster::repeat(std::uint32_t c, std::uint64_t incarnation, Duration after, Duration interval,
                     std::function<bool()> action) {
    auto& loop = world_->node(client_node(c)).env().loop;
    static_cast<void>(loop.schedule(after, [this, c, incarnation, interval, action = std::move(action)]() mutable {
        const ClientState& state = *clients_[c];
        if (state.incarnation != incarnation || !state.up) return;
        if (!action()) return;
        repeat(c, incarnation, interval, interval, std::move(action));
    }));
}

std::size_t Cluster::add_entry(Entry entry) {
    history_.entries.push_back(std::move(entry));
    return history_.entries.size() - 1;
}

void Cluster::do_publish(std::uint32_t c, std::size_t index) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    const PublishSpec& spec = spec_.clients[c].publish[index];
    Entry entry;
    entry.client = c;
    entry.op = Op::publish;
    entry.invoke = world_->now();
    entry.complete = entry.invoke;
    entry.epoch = sending_epoch(c);
    entry.subject = spec.subject;
    entry.id = PayloadId{PayloadKind::publish, c, ++state.publish_seq};
    const Status status = state.connection->publish(spec.subject, make_payload(entry.id, std::max<std::size_t>(spec.size_bytes, payload_size_min)));
    entry.outcome = status ? Outcome::ok : Outcome::fail;
    if (!status) entry.error = status.error().message();
    add_entry(std::move(entry));
}

void Cluster::do_request(std::uint32_t c, std::size_t index) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    const RequestSpec& spec = spec_.clients[c].request[index];
    Entry entry;
    entry.client = c;
    entry.op = Op::request;
    entry.invoke = world_->now();
    entry.epoch = sending_epoch(c);
    entry.subject = spec.subject;
    entry.id = PayloadId{PayloadKind::request, c, ++state.request_seq};
    const PayloadId id = entry.id;
    const std::size_t at = add_entry(std::move(entry));
    state.connection->request(spec.subject, make_payload(id, request_payload_size), spec.timeout,
                              [this, at](Result<client::Message> reply) {
                                  Entry& done = history_.entries[at];
                                  done.complete = world_->now();
                                  if (!reply) {
                                      done.outcome = Outcome::fail;
                                      done.error = reply.error().message();
                                      return;
                                  }
                                  done.outcome = Outcome::ok;
                                  done.reply = parse_payload(reply->payload);
                                  done.payload_valid = done.reply.has_value();
                              });
}

void Cluster::do_flush(std::uint32_t c) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    if (!state.connection->connected()) return;
    Entry entry;
    entry.client = c;
    entry.op = Op::flush;
    entry.invoke = world_->now();
    entry.epoch = current_epoch(c);
    const std::size_t at = add_entry(std::move(entry));
    const Duration timeout = spec_.clients[c].ping_interval * (spec_.clients[c].max_pings_out + 1ULL);
    state.connection->flush(timeout, [this, at](Status status) {
        Entry& done = history_.entries[at];
        done.complete = world_->now();
        done.outcome = status ? Outcome::ok : Outcome::fail;
        if (!status) done.error = status.error().message();
    });
}

void Cluster::on_message(std::uint32_t c, std::uint32_t subscription, std::string_view subject,
                         std::string_view reply, std::string_view payload) {
    Entry entry;
    entry.client = c;
    entry.op = Op::deliver;
    entry.invoke = world_->now();
    entry.complete = entry.invoke;
    entry.outcome = Outcome::ok;
    entry.epoch = current_epoch(c);
    entry.subscription = subscription;
    entry.subject = std::string(subject);
    const auto id = parse_payload(payload);
    entry.payload_valid = id.has_value();
    if (id) entry.id = *id;
    add_entry(std::move(entry));
    const SubscriptionRecord& record = history_.clients[c].subscriptions[subscription];
    if (!record.responder || reply.empty() || !id || id->kind != PayloadKind::request) return;
    ClientState& state = *clients_[c];
    Entry answer;
    answer.client = c;
    answer.op = Op::respond;
    answer.invoke = world_->now();
    answer.complete = answer.invoke;
    answer.epoch = sending_epoch(c);
    answer.subject = std::string(reply);
    answer.id = PayloadId{PayloadKind::reply, id->client, id->seq};
    ++state.respond_seq;
    const Status status = state.connection->publish(reply, make_payload(answer.id, request_payload_size));
    answer.outcome = status ? Outcome::ok : Outcome::fail;
    if (!status) answer.error = status.error().message();
    add_entry(std::move(answer));
}

std::uint32_t Cluster::current_epoch(std::uint32_t c) {
    ClientState& state = *clients_[c];
    if (state.connection == nullptr || !state.connection->connected()) return 0;
    const auto number = static_cast<std::uint32_t>(state.epoch_base + 1 + state.connection->stats().reconnects);
    if (number == state.epoch_current) return number;
    ASSERT(number > state.epoch_current);
    if (state.epoch_open) history_.epochs[state.epoch_index].down = world_->now();
    Epoch epoch;
    epoch.client = c;
    epoch.number = number;
    epoch.node = server_of_address(state.connection->connected_address());
    epoch.up = world_->now();
    history_.epochs.push_back(epoch);
    state.epoch_current = number;
    state.epoch_index = history_.epochs.size() - 1;
    state.epoch_open = true;
    note(fmt::format("client {} ({}) connected to n{} epoch={}", c, spec_.clients[c].name, epoch.node, number));
    return number;
}

std::uint32_t Cluster::sending_epoch(std::uint32_t c) {
    ClientState& state = *clients_[c];
    ASSERT(state.connection != nullptr);
    const auto reconnects = static_cast<std::uint32_t>(state.connection->stats().reconnects);
    std::uint32_t epoch = 0;
    switch (state.connection->state()) {
        case client::State::connected:
            epoch = current_epoch(c);
            break;
        case client::State::idle:
        case client::State::connecting:
            epoch = state.epoch_base + 1;
            break;
        case client::State::reconnecting:
            epoch = state.epoch_base + 2 + reconnects;
            break;
        case client::State::draining:
        case client::State::closed:
            break;
    }
    state.epoch_reserved = std::max(state.epoch_reserved, epoch);
    return epoch;
}

void Cluster::connection_lost(std::uint32_t c, std::string_view why) {
    ClientState& state = *clients_[c];
    if (!state.epoch_open) return;
    history_.epochs[state.epoch_index].down = world_->now();
    state.epoch_open = false;
    note(fmt::format("client {} ({}) lost epoch={}: {}", c, spec_.clients[c].name, state.epoch_current, why));
}

std::uint32_t Cluster::server_of_address(const std::string& address) const {
    const auto colon = address.rfind(':');
    const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
    for (std::uint32_t s = 0; s < servers_.size(); ++s) {
        if (world_->node(s).host() == host) return s;
    }
    return no_client;
}

void Cluster::crash_server(std::uint32_t server, CrashOptions options) {
    ASSERT(server < servers_.size());
    if (servers_[server] == nullptr) return;
    note(fmt::format("crash n{}{}", server, options.peers == PeerView::silent ? " (silent)" : ""));
    world_->crash_node(server, options);
    servers_[server].reset();
}

void Cluster::restart_server(std::uint32_t server) {
    ASSERT(server < servers_.size());
    if (servers_[server] != nullptr) return;
    note(fmt::format("restart n{}", server));
    world_->restart_node(server);
    start_server(server);
}

bool Cluster::server_up(std::uint32_t server) const { return servers_.at(server) != nullptr; }

void Cluster::crash_client(std::uint32_t c, CrashOptions options) {
    ClientState& state = *clients_[c];
    if (!state.up) return;
    note(fmt::format("crash client {} ({}){}", c, spec_.clients[c].name, options.peers == PeerView::silent ? " (silent)" : ""));
    connection_lost(c, "process crashed");
    world_->crash_node(client_node(c), options);
    state.up = false;
    // Publishes buffered for a connection that never came die with the process: the next
    // incarnation's epochs start past every number handed out.
    state.epoch_base = std::max(state.epoch_current, state.epoch_reserved);
    state.connection.reset();
}

void Cluster::restart_client(std::uint32_t c) {
    ClientState& state = *clients_[c];
    if (state.up) return;
    note(fmt::format("restart client {} ({})", c, spec_.clients[c].name));
    world_->restart_node(client_node(c));
    start_client(c);
}

bool Cluster::client_up(std::uint32_t c) const { return clients_.at(c)->up; }

bool Cluster::client_connected(std::uint32_t c) const {
    const ClientState& state = *clients_.at(c);
    return state.connection != nullptr && state.connection->connected();
}

std::size_t Cluster::kick_client(std::uint32_t c) {
    const std::string prefix = world_->node(client_node(c)).host() + ":";
    std::size_t count = 0;
    for (auto& server : servers_) {
        if (server == nullptr) continue;
        std::vector<core::Client*> targets;
        for (const auto& [cid, client] : server->broker().clients()) {
            if (!client->closed() && client->peer_address().starts_with(prefix)) targets.push_back(client.get());
        }
        for (core::Client* client : targets) client->close(core::CloseReason::read_error);
        count += targets.size();
        server->broker().flush_all();
    }
    note(fmt::format("kick client {} ({}): {} connection(s)", c, spec_.clients[c].name, count));
    return count;
}

std::vector<std::uint64_t> Cluster::server_connections_from(std::uint32_t server, NodeIndex peer_node) {
    std::vector<std::uint64_t> cids;
    if (servers_.at(server) == nullptr) return cids;
    const std::string prefix = world_->node(peer_node).host() + ":";
    for (const auto& [cid, client] : servers_[server]->broker().clients()) {
        if (!client->closed() && client->peer_address().starts_with(prefix)) cids.push_back(cid);
    }
    return cids;
}

void Cluster::note(std::string_view text) { log_line(text); }

void Cluster::log_line(std::string_view text) {
    std::string line = format_time(world_->now());
    line += ' ';
    line += text;
    for (const char ch : line) {
        log_hash_ ^= static_cast<unsigned char>(ch);
        log_hash_ *= fnv_prime;
    }
    log_hash_ ^= '\n';
    log_hash_ *= fnv_prime;
    ++log_lines_;
    if (tail_.size() < log_tail_max) {
        tail_.push_back(line);
    } else {
        tail_[tail_next_] = line;
    }
    tail_next_ = (tail_next_ + 1) % log_tail_max;
    if (keep_log_) {
        log_.push_back(std::move(line));
        log_times_.push_back(world_->now());
    }
}

std::vector<std::string> Cluster::log_tail() const {
    std::vector<std::string> lines;
    if (tail_.size() < log_tail_max) return tail_;
    for (std::size_t i = 0; i < log_tail_max; ++i) lines.push_back(tail_[(tail_next_ + i) % log_tail_max]);
    return lines;
}

}  // namespace herald::sim
