// allow_responses bookkeeping for one client (nats-server client.replies, resp, pruneReplyPerms):
// when a message with a reply subject is delivered to a client whose permissions have
// allow_responses, that reply subject becomes publishable for up to `max_msgs` responses within
// `expires`, even if its publish permissions deny it. Time comes in as arguments (from
// io::Clock via the caller); this class never reads a clock. Used on the connection's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/base/time.h"
#include "engine/config/options.h"

namespace herald::auth {

// Reply subjects remembered per client (nats-server replyPermLimit). Past it, used-up and
// expired permits are pruned, then the oldest ones.
inline constexpr std::size_t response_permits_max = 4096;

class ResponsePermits {
public:
    explicit ResponsePermits(config::ResponsePermission permission) : permission_(permission) {}

    // A message carrying `reply_subject` was delivered to this client at `now`. Re-delivery of
    // the same reply subject renews its permit (nats-server overwrites the entry).
    void on_delivered(std::string_view reply_subject, Instant now);

    // The client publishes to `subject` at `now` and its publish permissions said no: true if a
    // permit allows it, counting one response. A used-up or expired permit is dropped.
    bool try_use(std::string_view subject, Instant now);

    std::size_t size() const { return permits_.size(); }

private:
    struct Permit {
        Instant granted;
        std::int64_t responses = 0;
        std::uint64_t order = 0;  // grant sequence, to find the oldest deterministically
    };

    bool exhausted(const Permit& permit, Instant now) const;
    void prune(Instant now);

    config::ResponsePermission permission_;
    std::map<std::string, Permit, std::less<>> permits_;
    std::uint64_t grants_ = 0;
};

}  // namespace herald::auth
