#include "engine/auth/response_permits.h"

#include <algorithm>

#include "engine/base/assert.h"

namespace herald::auth {

// nats-server: past max responses or older than expires (max < 0 and expires 0 mean no limit).
bool ResponsePermits::exhausted(const Permit& permit, Instant now) const {
    if (permission_.max_msgs > 0 && permit.responses >= permission_.max_msgs) return true;
    return permission_.expires.ns > 0 && now.since(permit.granted) > permission_.expires;
}

void ResponsePermits::on_delivered(std::string_view reply_subject, Instant now) {
    ASSERT(!reply_subject.empty());
    auto found = permits_.find(reply_subject);
    if (found == permits_.end()) {
        if (permits_.size() >= response_permits_max) prune(now);
        found = permits_.emplace(std::string(reply_subject), Permit{}).first;
    }
    found->second = Permit{now, 0, grants_++};
    ASSERT(permits_.size() <= response_permits_max);
}

bool ResponsePermits::try_use(std::string_view subject, Instant now) {
    auto found = permits_.find(subject);
    if (found == permits_.end()) return false;
    if (exhausted(found->second, now)) {
        permits_.erase(found);
        return false;
    }
    found->second.responses++;
    return true;
}

void ResponsePermits::prune(Instant now) {
    std::erase_if(permits_, [&](const auto& entry) { return exhausted(entry.second, now); });
    if (permits_.size() < response_permits_max) return;
    COVER("auth: response permits full of live entries, the oldest is dropped");
    auto oldest = std::min_element(permits_.begin(), permits_.end(), [](const auto& a, const auto& b) {
        return a.second.order < b.second.order;
    });
    permits_.erase(oldest);
    ASSERT(permits_.size() < response_permits_max);
}

}  // namespace herald::auth
