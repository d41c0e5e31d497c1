// A Subscription is one SUB of one client connection: subject, optional queue group and the
// client's sid. The connection owns it; the account's Sublist holds a pointer to it while it is
// registered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace herald::core {

class Client;

inline constexpr std::size_t sublist_index_none = static_cast<std::size_t>(-1);

struct Subscription {
    std::uint64_t id = 0;          // unique per server, increasing in creation order
    std::string subject;
    std::string queue;             // empty for a plain subscription
    std::string sid;
    Client* client = nullptr;      // owner
    std::uint64_t max_msgs = 0;    // 0 = no auto-unsubscribe
    std::uint64_t delivered = 0;
    // Slot in the Sublist node that holds this subscription, so removal needs no search. Only
    // the Sublist reads or writes it; sublist_index_none while in no sublist.
    std::size_t sublist_index = sublist_index_none;
};

}  // namespace herald::core
