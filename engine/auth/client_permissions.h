// The per-connection permission state the client session holds: the compiled publish/subscribe
// lists (PermissionChecker) plus the allow_responses permits (ResponsePermits), behind the calls
// engine/core/client.cc makes. Times are arguments; nothing here reads a clock.
#pragma once

#include <optional>
#include <string_view>

#include "engine/auth/permission_checker.h"
#include "engine/auth/response_permits.h"
#include "engine/base/time.h"
#include "engine/config/options.h"

namespace herald::auth {

class ClientPermissions {
public:
    explicit ClientPermissions(const config::Permissions& permissions);

    // PUB: allowed by the publish lists, or (allow_responses) a permit for a reply subject this
    // client received; using a permit counts one response (nats-server pubAllowedFullCheck).
    bool can_publish(std::string_view subject, Instant now);
    bool can_subscribe(std::string_view subject, std::string_view queue) const {
        return checker_.can_subscribe(subject, queue);
    }
    // Deliveries on subjects the subscribe deny list covers are withheld (nats-server
    // checkDenySub), for wildcard subscriptions that were accepted.
    bool delivery_denied(std::string_view subject) { return checker_.delivery_denied(subject); }
    // A message with reply subject `reply` was delivered to this client at `now`.
    void allow_response(std::string_view reply, Instant now);

    const PermissionChecker& checker() const { return checker_; }

private:
    PermissionChecker checker_;
    std::optional<ResponsePermits> permits_;  // only with allow_responses
};

}  // namespace herald::auth
