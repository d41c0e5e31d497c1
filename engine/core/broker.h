// The Broker is the core messaging engine of one node: it owns the accounts and the client
// connections, routes every published message to the matching subscriptions (one member per
// queue group), and batches the resulting writes. It runs on the node's loop; everything outside
// its memory goes through the io::Env it was given.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth/authenticator.h"
#include "engine/base/log.h"
#include "engine/config/options.h"
#include "engine/core/account.h"
#include "engine/core/client.h"
#include "engine/io/io.h"

namespace herald::core {

// The version advertised in INFO: nats-server 2.9 compatible, so clients enable headers and
// their 2.9 JetStream paths (core-protocol.md §2.1).
inline constexpr std::string_view advertised_version = "2.9.10";

struct BrokerStats {
    std::uint64_t in_msgs = 0;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_msgs = 0;
    std::uint64_t out_bytes = 0;
    std::uint64_t slow_consumers = 0;
    std::uint64_t total_connections = 0;
};

class Broker {
public:
    Broker(io::Env& env,
           const config::Options& options,
           auth::Authenticator authenticator,
           base::Logger log);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;
    Broker(Broker&&) = delete;
    Broker& operator=(Broker&&) = delete;

    // The listening address clients are told about in INFO (set once the listener is up).
    void set_listen_address(std::string host, int port);
    // Takes a new client connection.
    void accept(std::unique_ptr<io::Stream> stream);
    // Flushes every client and closes it; `on_done` runs once all are closed (bounded by the
    // write deadline).
    void shutdown(std::function<void()> on_done);

    const std::string& server_id() const { return server_id_; }
    const std::string& server_name() const { return server_name_; }
    const config::Options& options() const { return options_; }
    const BrokerStats& stats() const { return stats_; }
    std::size_t connection_count() const { return clients_.size(); }
    std::size_t subscription_count() const;
    Instant start_time() const { return start_time_; }
    int listen_port() const { return port_; }
    io::Env& env() { return env_; }
    const std::map<std::uint64_t, std::unique_ptr<Client>>& clients() const { return clients_; }

    // Internal subscriptions, for services inside the server (JetStream, system requests):
    // `handler` runs inline while a message is routed, with views valid only during the call; it
    // may publish_internal() (nested routing), subscribe and unsubscribe. Returns the id.
    using InternalHandler = std::function<void(const protocol::MessageArgs&, std::string_view)>;
    Result<std::uint64_t> subscribe_internal(std::string_view account, std::string_view subject,
                                             std::string_view queue, InternalHandler handler);
    void unsubscribe_internal(std::uint64_t id);
    // Publishes from inside the server to `account`: `headers` is a whole NATS/1.0 header block
    // or empty. Subscribers get it as from any client; nobody gets a no-responders status.
    Status publish_internal(std::string_view account, std::string_view subject,
                            std::string_view reply, std::string_view headers,
                            std::string_view payload);
    // The same, delivered to the subscriptions of `route_subject` (an inbox, a deliver subject)
    // while the message keeps its own `subject`, as JetStream delivers stored messages.
    Status publish_internal_to(std::string_view account, std::string_view route_subject,
                               std::string_view subject, std::string_view reply,
                               std::string_view headers, std::string_view payload);

    // Used by Client.
    void route(Client& from, const protocol::MessageArgs& message, std::string_view payload);
    void queue_flush(Client& client);
    void flush_all();
    // flush_all() at the end of this loop turn, once however often it is asked: internal
    // publishes come in runs (a JetStream pull batch, PubAcks of one group commit) that should
    // leave in one write per client, not one per message.
    void flush_soon();
    void client_closed(Client& client, CloseReason reason);
    Account* find_account(std::string_view name);
    const auth::Authenticator& authenticator() const { return authenticator_; }
    std::uint64_t next_subscription_id() { return ++subscription_ids_; }
    void count_slow_consumer() { ++stats_.slow_consumers; }
    // Consumers pushed past half their max_pending while routing the current read; the
    // publisher takes them after its read to decide whether to stall.
    void note_stalled_consumer(Client& consumer) { stalled_consumers_.push_back(&consumer); }
    std::vector<Client*> take_stalled_consumers();
    void resume_reading(std::uint64_t cid);
    // canary: test-only. Whether a client with this CONNECT name connected before (remembers it).
    bool canary_name_seen(const std::string& name) { return !name.empty() && !canary_names_.insert(name).second; }

private:
    std::string info_line(const Client& client) const;
    void send_no_responders(Client& from, const protocol::MessageArgs& message);
    // Delivers to every match (one member per queue group); `from` is null for internal
    // publishes. Returns how many subscriptions took the message.
    std::uint64_t deliver_all(const SublistResult& result, const Client* from,
                              const protocol::MessageArgs& message, std::string_view payload);
    bool deliver_one(Subscription& sub, const Client* from, const protocol::MessageArgs& message,
                     std::string_view payload);

    struct InternalSubscription {
        Account* account;
        std::unique_ptr<Subscription> subscription;
    };
    void maybe_finish_shutdown();

    io::Env& env_;
    const config::Options& options_;
    base::Logger log_;
    auth::Authenticator authenticator_;
    std::string server_id_;
    std::string server_name_;
    std::string host_;
    int port_ = 0;
    Instant start_time_;
    BrokerStats stats_;

    std::map<std::string, std::unique_ptr<Account>, std::less<>> accounts_;
    std::map<std::uint64_t, std::unique_ptr<Client>> clients_;  // by cid
    std::vector<Client*> flush_queue_;
    std::vector<Client*> stalled_consumers_;  // see note_stalled_consumer
    std::map<std::uint64_t, InternalSubscription> internal_subs_;  // by subscription id
    std::uint64_t next_cid_ = 0;
    std::uint64_t subscription_ids_ = 0;
    bool shutting_down_ = false;
    bool destroying_ = false;
    std::function<void()> on_shutdown_done_;
    std::set<std::string> canary_names_;  // canary: test-only (drop_after_reconnect).
    std::string canary_last_reply_;       // canary: test-only (wrong_requester).
    bool flush_posted_ = false;           // flush_soon() posted a flush_all() not yet run.
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace herald::core
