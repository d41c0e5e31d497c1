#include "engine/auth/client_permissions.h"

namespace herald::auth {

ClientPermissions::ClientPermissions(const config::Permissions& permissions) : checker_(permissions) {
    if (permissions.allow_responses) permits_.emplace(*permissions.allow_responses);
}

bool ClientPermissions::can_publish(std::string_view subject, Instant now) {
    if (checker_.can_publish(subject)) return true;
    return permits_.has_value() && permits_->try_use(subject, now);
}

void ClientPermissions::allow_response(std::string_view reply, Instant now) {
    if (permits_ && !reply.empty()) permits_->on_delivered(reply, now);
}

}  // namespace herald::auth
