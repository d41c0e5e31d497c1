// Small RAII and waiting helpers around the official NATS C client (nats.c), shared by the
// interop tests. Catch2 assertions here run only on the test thread; client callbacks only record
// into Events.
#pragma once

#include <nats/nats.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::interop {

// Every wait in the suite is bounded by this (or a shorter, named) timeout.
constexpr std::int64_t wait_ms = 5'000;

inline std::string status_text(natsStatus status) { return natsStatus_GetText(status); }

// REQUIRE_OK(natsConnection_Flush(nc)) prints the status text when it fails.
#define REQUIRE_OK(expr) REQUIRE(::herald::interop::status_text(expr) == std::string("OK"))
#define CHECK_OK(expr) CHECK(::herald::interop::status_text(expr) == std::string("OK"))

struct ConnectionDeleter {
    void operator()(natsConnection* connection) const { natsConnection_Destroy(connection); }
};
struct SubscriptionDeleter {
    void operator()(natsSubscription* subscription) const { natsSubscription_Destroy(subscription); }
};
struct MessageDeleter {
    void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};
struct OptionsDeleter {
    void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
using Connection = std::unique_ptr<natsConnection, ConnectionDeleter>;
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;
using Message = std::unique_ptr<natsMsg, MessageDeleter>;
using Options = std::unique_ptr<natsOptions, OptionsDeleter>;

// Options pointing at url with a short connect timeout and no reconnects (tests that want
// reconnects turn them back on).
inline Options make_options(const std::string& url) {
    natsOptions* raw = nullptr;
    REQUIRE_OK(natsOptions_Create(&raw));
    Options options(raw);
    REQUIRE_OK(natsOptions_SetURL(raw, url.c_str()));
    REQUIRE_OK(natsOptions_SetTimeout(raw, wait_ms));
    REQUIRE_OK(natsOptions_SetAllowReconnect(raw, false));
    return options;
}

// Connects with options; returns the status so that failure tests can check it.
inline natsStatus try_connect(const Options& options, Connection& connection) {
    natsConnection* raw = nullptr;
    const natsStatus status = natsConnection_Connect(&raw, options.get());
    connection.reset(raw);
    return status;
}

inline Connection connect(const Options& options) {
    Connection connection;
    REQUIRE_OK(try_connect(options, connection));
    return connection;
}

inline Connection connect(const std::string& url) { return connect(make_options(url)); }

inline Subscription subscribe_sync(const Connection& connection, const std::string& subject) {
    natsSubscription* raw = nullptr;
    REQUIRE_OK(natsConnection_SubscribeSync(&raw, connection.get(), subject.c_str()));
    return Subscription(raw);
}

inline Subscription queue_subscribe_sync(const Connection& connection, const std::string& subject,
                                         const std::string& queue) {
    natsSubscription* raw = nullptr;
    REQUIRE_OK(natsConnection_QueueSubscribeSync(&raw, connection.get(), subject.c_str(),
                                                 queue.c_str()));
    return Subscription(raw);
}

// The next message, failing the test if none arrives within timeout_ms.
inline Message next_message(const Subscription& subscription, std::int64_t timeout_ms = wait_ms) {
    natsMsg* raw = nullptr;
    REQUIRE_OK(natsSubscription_NextMsg(&raw, subscription.get(), timeout_ms));
    return Message(raw);
}

// Messages received by the client library but not yet taken by the test.
inline int pending_count(const Subscription& subscription) {
    int messages = 0;
    int bytes = 0;
    REQUIRE_OK(natsSubscription_GetPending(subscription.get(), &messages, &bytes));
    return messages;
}

inline std::string data_of(const natsMsg* message) {
    return std::string(natsMsg_GetData(message),
                       static_cast<std::size_t>(natsMsg_GetDataLength(message)));
}
inline std::string data_of(const Message& message) { return data_of(message.get()); }

inline void publish(const Connection& connection, const std::string& subject,
                    const std::string& data) {
    REQUIRE_OK(natsConnection_Publish(connection.get(), subject.c_str(), data.data(),
                                      static_cast<int>(data.size())));
}

// A PING/PONG round trip: afterwards the server has processed everything this connection sent,
// and every message the server queued for it before the PONG has been read by the client.
inline void flush(const Connection& connection) {
    REQUIRE_OK(natsConnection_FlushTimeout(connection.get(), wait_ms));
}

// Thread-safe record of things client-library callbacks observed, with bounded waits.
class Events {
public:
    void add(std::string event) {
        // Notify under the lock: a waiter that returns may destroy this object right away.
        const std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
        changed_.notify_all();
    }
    // True once at least count events were recorded, false if timeout_ms passed first.
    bool wait_for_count(std::size_t count, std::int64_t timeout_ms = wait_ms) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                 [&] { return events_.size() >= count; });
    }
    std::vector<std::string> snapshot() const {
        const std::lock_guard lock(mutex_);
        return events_;
    }
    std::size_t count() const {
        const std::lock_guard lock(mutex_);
        return events_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> events_;
};

// natsMsgHandler that records each message's payload into the Events passed as closure.
inline void record_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    static_cast<Events*>(closure)->add(data_of(message));
    natsMsg_Destroy(message);
}

// natsConnectionHandler that records a fixed word; the closure is an Events.
inline void record_connection_event(natsConnection*, void* closure) {
    static_cast<Events*>(closure)->add("event");
}

}  // namespace herald::interop
