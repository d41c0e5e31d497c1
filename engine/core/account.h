// An Account is an isolated subject namespace: every connection belongs to exactly one, and
// messages never cross accounts (imports and exports come later). Owned by the Broker.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "engine/core/sublist.h"

namespace herald::core {

inline constexpr std::string_view global_account_name = "$G";

class Account {
public:
    explicit Account(std::string name) : name_(std::move(name)) {}

    const std::string& name() const { return name_; }
    Sublist& sublist() { return sublist_; }
    const Sublist& sublist() const { return sublist_; }

    std::uint64_t client_count = 0;

private:
    std::string name_;
    Sublist sublist_;
};

}  // namespace herald::core
