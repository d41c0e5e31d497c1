#include "engine/core/broker.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/protocol/encoder.h"

namespace herald::core {

namespace {

// canary: test-only. One routing in this many misbehaves when a canary is on.
constexpr std::uint64_t canary_odds = 500;

// A server id shaped like nats-server's (a 56-character public nkey starting with N), drawn
// from the node's Random so simulated runs are reproducible.
std::string make_server_id(io::Random& random) {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    constexpr std::size_t length = 56;
    std::string id = "N";
    while (id.size() < length)
        id += alphabet[random.uniform(alphabet.size())];
    return id;
}

}  // namespace

Broker::Broker(io::Env& env,
               const config::Options& options,
               auth::Authenticator authenticator,
               base::Logger log)
    : env_(env),
      options_(options),
      log_(std::move(log)),
      authenticator_(std::move(authenticator)),
      server_id_(make_server_id(env.random)),
      server_name_(options.server_name.empty() ? server_id_ : options.server_name),
      host_(options.host),
      port_(options.port),
      start_time_(env.clock.monotonic()) {
    accounts_.emplace(std::string(global_account_name),
                      std::make_unique<Account>(std::string(global_account_name)));
    for (const auto& account : options.accounts) {
        if (accounts_.find(account.name) == accounts_.end()) {
            accounts_.emplace(account.name, std::make_unique<Account>(account.name));
        }
    }
}

Broker::~Broker() {
    // Close without the deferred erase: the clients go with the map right after.
    destroying_ = true;
    for (auto& [cid, client] : clients_)
        client->close(CloseReason::server_shutdown);
}

void Broker::set_listen_address(std::string host, int port) {
    host_ = std::move(host);
    port_ = port;
}

Account* Broker::find_account(std::string_view name) {
    const auto it = accounts_.find(name);
    return it == accounts_.end() ? nullptr : it->second.get();
}

std::size_t Broker::subscription_count() const {
    std::size_t count = 0;
    for (const auto& [name, account] : accounts_)
        count += account->sublist().count();
    return count;
}

std::string Broker::info_line(const Client& client) const {
    nlohmann::json info = {
        {"server_id", server_id_},
        {"server_name", server_name_},
        {"version", advertised_version},
        {"proto", 1},
        {"go", "herald"},
        {"host", host_},
        {"port", port_},
        {"headers", !options_.no_header_support},
        {"max_payload", options_.max_payload},
    };
    if (authenticator_.auth_required()) info["auth_required"] = true;
    if (options_.jetstream) info["jetstream"] = true;
    info["client_id"] = client.cid();
    const std::string& peer = client.peer_address();
    const auto colon = peer.rfind(':');
    info["client_ip"] = colon == std::string::npos ? peer : peer.substr(0, colon);
    // nats-server 2.9 writes a space before the CRLF; clients trim it.
    return fmt::format("INFO {} \r\n", info.dump());
}

void Broker::accept(std::unique_ptr<io::Stream> stream) {
    const std::uint64_t cid = ++next_cid_;
    ++stats_.total_connections;
    auto client = std::make_unique<Client>(
        *this, env_, cid, std::move(stream), log_.child(fmt::format("cid:{}", cid)));
    Client& ref = *client;
    const bool over_limit = clients_.size() >= static_cast<std::size_t>(options_.max_connections);
    clients_.emplace(cid, std::move(client));
    if (shutting_down_) {
        ref.close(CloseReason::server_shutdown);
        return;
    }
    LOG_DEBUG(log_, "client connection created cid={} peer={}", cid, ref.peer_address());
    ref.start(info_line(ref));
    if (over_limit) {
        // Matches nats-server: INFO first, then the error, then close.
        ref.send_error(protocol::ServerError::max_connections_exceeded);
    }
    flush_all();
}

void Broker::route(Client& from, const protocol::MessageArgs& message, std::string_view payload) {
    Account* account = from.account();
    ASSERT(account != nullptr);
    ++stats_.in_msgs;
    stats_.in_bytes += payload.size();
    // canary: test-only. Now and then a reply carries the previous reply (another request's answer).
    std::string canary_reply;
    if (options_.canaries.wrong_requester && !message.headers && message.subject.starts_with("_INBOX.")) {
        canary_reply = std::exchange(canary_last_reply_, std::string(payload));
        if (!canary_reply.empty() && env_.random.uniform(canary_odds) == 0) {
            COVER("canary: reply to the wrong requester");
            payload = canary_reply;
        }
    }
    // A reference into the publisher's memo: it stays alive through this pass even if a
    // delivery below removes a subscription (auto-unsubscribe, slow consumer).
    const SublistResult& result = from.match(message.subject);
    const std::uint64_t delivered = deliver_all(result, &from, message, payload);
    if (delivered == 0 && !message.reply.empty() && from.connect_options().no_responders) {
        send_no_responders(from, message);
    }
}

bool Broker::deliver_one(Subscription& sub, const Client* from, const protocol::MessageArgs& message,
                         std::string_view payload) {
    if (sub.client == nullptr) {
        // An internal subscription (JetStream, system services): handled inline.
        ASSERT(sub.on_message);
        if (sub.max_msgs != 0 && sub.delivered >= sub.max_msgs) return false;
        ++sub.delivered;
        sub.on_message(message, payload);
        return true;
    }
    Client* target = sub.client;
    if (target == from && !target->echo()) return false;
    if (target->closed() || !target->delivery_allowed(message.subject)) return false;
    if (!message.reply.empty()) target->allow_response(message.reply);
    return target->deliver(sub, message, payload);
}

std::uint64_t Broker::deliver_all(const SublistResult& result, const Client* from,
                                  const protocol::MessageArgs& message, std::string_view payload) {
    std::uint64_t delivered = 0;
    for (Subscription* sub : result.plain) {
        if (deliver_one(*sub, from, message, payload)) ++delivered;
        // canary: test-only. Now and then one subscription gets the message twice.
        if (options_.canaries.duplicate_delivery && sub->client != nullptr &&
            env_.random.uniform(canary_odds) == 0) {
            COVER("canary: duplicate delivery");
            static_cast<void>(sub->client->deliver(*sub, message, payload));
        }
    }
    for (const QueueGroup& group : result.queue_groups) {
        // One member per group, chosen with the node's Random; skip members that cannot take it.
        const std::size_t size = group.members.size();
        const std::size_t start = env_.random.uniform(size);
        for (std::size_t i = 0; i < size; ++i) {
            if (deliver_one(*group.members[(start + i) % size], from, message, payload)) {
                ++delivered;
                break;
            }
        }
    }
    stats_.out_msgs += delivered;
    stats_.out_bytes += delivered * payload.size();
    return delivered;
}

Result<std::uint64_t> Broker::subscribe_internal(std::string_view account_name,
                                                 std::string_view subject, std::string_view queue,
                                                 InternalHandler handler) {
    Account* account = find_account(account_name);
    if (account == nullptr) return base::Errc::not_found;
    ASSERT(handler);
    auto sub = std::make_unique<Subscription>();
    sub->id = next_subscription_id();
    sub->subject.assign(subject);
    sub->queue.assign(queue);
    sub->on_message = std::move(handler);
    if (Status inserted = account->sublist().insert(*sub); !inserted) return inserted.error();
    const std::uint64_t id = sub->id;
    internal_subs_.emplace(id, InternalSubscription{account, std::move(sub)});
    return id;
}

void Broker::unsubscribe_internal(std::uint64_t id) {
    const auto it = internal_subs_.find(id);
    if (it == internal_subs_.end()) return;
    const Status removed = it->second.account->sublist().remove(*it->second.subscription);
    ASSERT(removed);
    // A routing pass in progress may still hold the pointer: free it on a later turn.
    env_.loop.post([retired = std::shared_ptr<Subscription>(std::move(it->second.subscription))] {
        MAYBE(retired.use_count() == 1);
    });
    internal_subs_.erase(it);
}

Status Broker::publish_internal(std::string_view account_name, std::string_view subject,
                                std::string_view reply, std::string_view headers,
                                std::string_view payload) {
    return publish_internal_to(account_name, subject, subject, reply, headers, payload);
}

Status Broker::publish_internal_to(std::string_view account_name, std::string_view route_subject,
                                   std::string_view subject, std::string_view reply,
                                   std::string_view headers, std::string_view payload) {
    Account* account = find_account(account_name);
    if (account == nullptr) return base::Errc::not_found;
    std::string body;
    body.reserve(headers.size() + payload.size());
    body.append(headers).append(payload);
    protocol::MessageArgs message;
    message.subject = subject;
    message.reply = reply;
    message.headers = !headers.empty();
    message.header_size = headers.size();
    message.total_size = body.size();
    ++stats_.in_msgs;
    stats_.in_bytes += body.size();
    const SublistResultPtr result = account->sublist().match(route_subject);
    deliver_all(*result, nullptr, message, body);
    flush_soon();
    return ok();
}

void Broker::send_no_responders(Client& from, const protocol::MessageArgs& message) {
    // Matches nats-server client.go: the 503 goes to the publisher's own subscription that
    // matches the reply subject, if it has one.
    const SublistResultPtr result = from.account()->sublist().match(message.reply);
    Subscription* target = nullptr;
    for (Subscription* sub : result->plain) {
        if (sub->client == &from) {
            target = sub;
            break;
        }
    }
    if (target == nullptr) {
        for (const QueueGroup& group : result->queue_groups) {
            for (Subscription* sub : group.members) {
                if (sub->client == &from) target = sub;
            }
        }
    }
    if (target == nullptr) return;
    protocol::MessageArgs status;
    status.subject = message.reply;
    status.headers = true;
    status.header_size = protocol::no_responders_headers.size();
    status.total_size = status.header_size;
    from.deliver(*target, status, protocol::no_responders_headers);
}

std::vector<Client*> Broker::take_stalled_consumers() {
    std::vector<Client*> consumers;
    consumers.swap(stalled_consumers_);
    for (Client* consumer : consumers) consumer->stall_noted_ = false;
    return consumers;
}

void Broker::resume_reading(std::uint64_t cid) {
    const auto it = clients_.find(cid);
    if (it != clients_.end()) it->second->resume_reading();
}

void Broker::queue_flush(Client& client) {
    flush_queue_.push_back(&client);
}

void Broker::flush_soon() {
    if (shutting_down_ || destroying_) return flush_all();  // Nothing may wait for a later turn.
    if (flush_posted_) return;
    flush_posted_ = true;
    env_.loop.post([this, life = std::weak_ptr<int>(life_)] {
        if (life.expired()) return;
        flush_posted_ = false;
        flush_all();
    });
}

void Broker::flush_all() {
    // Index loop: flushing never adds to the queue, but be robust if it ever does.
    for (std::size_t i = 0; i < flush_queue_.size(); ++i)
        flush_queue_[i]->flush();
    flush_queue_.clear();
}

void Broker::client_closed(Client& client, CloseReason reason) {
    MAYBE(reason == CloseReason::client_closed);
    if (client.account() != nullptr) {
        ASSERT(client.account()->client_count > 0);
        --client.account()->client_count;
    }
    std::erase(flush_queue_, &client);
    std::erase(stalled_consumers_, &client);
    if (destroying_) return;
    const std::uint64_t cid = client.cid();
    // Destroy on a later turn: the caller may be inside the client's own callback, and a
    // routing pass may still hold pointers to its subscriptions.
    env_.loop.post([this, cid] {
        clients_.erase(cid);
        maybe_finish_shutdown();
    });
}

void Broker::shutdown(std::function<void()> on_done) {
    shutting_down_ = true;
    on_shutdown_done_ = std::move(on_done);
    std::vector<Client*> open;
    for (auto& [cid, client] : clients_) {
        if (!client->closed()) open.push_back(client.get());
    }
    for (Client* client : open)
        client->close_after_flush(CloseReason::server_shutdown);
    flush_all();
    maybe_finish_shutdown();
}

void Broker::maybe_finish_shutdown() {
    if (!shutting_down_ || !on_shutdown_done_) return;
    if (!clients_.empty()) return;
    auto done = std::move(on_shutdown_done_);
    on_shutdown_done_ = nullptr;
    done();
}

}  // namespace herald::core
