// Publish and subscribe permission checks for one client, compiled from config::Permissions with
// nats-server 2.9 semantics (client.go setPermissions, pubAllowedFullCheck, canSubscribe,
// checkDenySub): deny wins over allow; no allow list means everything not denied; a SUB subject
// is matched against the lists as if its tokens were literal; "subject queue" entries are queue
// permissions. One checker per connection, used on the connection's loop.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/options.h"

namespace herald::auth {

// Publish and delivery-deny results cached per checker (nats-server maxPermCacheSize); when
// full, the cache drops entries down to this bound minus the sweep (pruneSize).
inline constexpr std::size_t permission_cache_entries_max = 128;
inline constexpr std::size_t permission_cache_sweep_count = 32;
static_assert(permission_cache_sweep_count < permission_cache_entries_max);

class PermissionChecker {
public:
    explicit PermissionChecker(const config::Permissions& permissions);

    // May this client publish to `subject` (a valid literal subject)? Cached. Does not consider
    // allow_responses: on false, the server asks its ResponsePermits next.
    bool can_publish(std::string_view subject);

    // May this client subscribe to `subject` (possibly with wildcards) in `queue` (empty = no
    // queue group)? Matches nats-server canSubscribe, including its quirks: with allow "foo.*",
    // SUB "foo.>" is accepted because the token ">" is matched literally against "*".
    bool can_subscribe(std::string_view subject, std::string_view queue) const;

    // True if the client has subscribe deny entries, so deliveries must go through
    // delivery_denied (a wildcard SUB may cover a denied subject).
    bool has_delivery_filter() const { return !subscribe_deny_.subjects.empty(); }

    // Must a message on `subject` be withheld from this client? nats-server checkDenySub: the
    // subscribe deny list applied to delivered messages. Cached.
    bool delivery_denied(std::string_view subject);

    const std::optional<config::ResponsePermission>& allow_responses() const { return allow_responses_; }

private:
    struct QueueEntry {
        std::string subject;
        std::string queue;
    };
    struct SubjectList {
        bool present = false;                 // an allow list that exists (even empty) restricts
        std::vector<std::string> subjects;    // plain entries
        std::vector<QueueEntry> queues;       // "subject queue" entries
    };

    static SubjectList compile(const std::vector<std::string>& entries, bool present);
    static bool any_matches(const std::vector<std::string>& patterns, std::string_view subject);
    // The queue entries whose subject matches `subject`; nats-server queueMatches on them.
    static bool has_matching_queues(const SubjectList& list, std::string_view subject);
    static bool queue_matches(const SubjectList& list, std::string_view subject, std::string_view queue);
    static void remember(std::map<std::string, bool, std::less<>>& cache, std::string_view subject, bool value);

    SubjectList publish_allow_;
    SubjectList publish_deny_;
    SubjectList subscribe_allow_;
    SubjectList subscribe_deny_;
    std::optional<config::ResponsePermission> allow_responses_;
    std::map<std::string, bool, std::less<>> publish_cache_;
    std::map<std::string, bool, std::less<>> delivery_cache_;
};

}  // namespace herald::auth
