// A Subscription is one SUB of one client connection (subject, optional queue group, the
// client's sid), or an internal subscription of the server with a handler. Its owner holds it;
// the account's Sublist holds a pointer to it while it is registered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <string>

namespace herald::protocol {
struct MessageArgs;
}  // namespace herald::protocol

namespace herald::core {

class Client;

inline constexpr std::size_t sublist_index_none = static_cast<std::size_t>(-1);

struct Subscription {
    std::uint64_t id = 0;          // unique per server, increasing in creation order
    std::string subject;
    std::string queue;             // empty for a plain subscription
    std::string sid;
    Client* client = nullptr;      // owner; null for an internal subscription of the server
    // The handler of an internal subscription (client == nullptr): called inline by the Broker
    // with the message and its payload (headers first), views valid only during the call.
    std::function<void(const protocol::MessageArgs&, std::string_view)> on_message;
    std::uint64_t max_msgs = 0;    // 0 = no auto-unsubscribe
    std::uint64_t delivered = 0;
    // Slot in the Sublist node that holds this subscription, so removal needs no search. Only
    // the Sublist reads or writes it; sublist_index_none while in no sublist.
    std::size_t sublist_index = sublist_index_none;
};

}  // namespace herald::core
