#include "engine/auth/permission_checker.h"

#include <iterator>

#include "engine/base/assert.h"
#include "engine/protocol/subject.h"

namespace herald::auth {

PermissionChecker::PermissionChecker(const config::Permissions& permissions)
    : allow_responses_(permissions.allow_responses) {
    if (permissions.publish) {
        const config::SubjectPermission& publish = *permissions.publish;
        publish_allow_ = compile(publish.allow.value_or(std::vector<std::string>{}), publish.allow.has_value());
        publish_deny_ = compile(publish.deny, !publish.deny.empty());
    }
    if (permissions.subscribe) {
        const config::SubjectPermission& subscribe = *permissions.subscribe;
        subscribe_allow_ = compile(subscribe.allow.value_or(std::vector<std::string>{}), subscribe.allow.has_value());
        subscribe_deny_ = compile(subscribe.deny, !subscribe.deny.empty());
    }
}

// nats-server splitSubjectQueue: "subject" or "subject queue" split on whitespace.
PermissionChecker::SubjectList PermissionChecker::compile(const std::vector<std::string>& entries,
                                                          bool present) {
    SubjectList list;
    list.present = present;
    for (const std::string& entry : entries) {
        const std::size_t space = entry.find_first_of(" \t");
        if (space == std::string::npos) {
            list.subjects.push_back(entry);
            continue;
        }
        const std::size_t queue_start = entry.find_first_not_of(" \t", space);
        ASSERT(queue_start != std::string::npos);  // the config loader validated the entry
        list.queues.push_back({entry.substr(0, space), entry.substr(queue_start)});
    }
    return list;
}

bool PermissionChecker::any_matches(const std::vector<std::string>& patterns, std::string_view subject) {
    for (const std::string& pattern : patterns) {
        if (protocol::subject_matches(pattern, subject)) return true;
    }
    return false;
}

bool PermissionChecker::has_matching_queues(const SubjectList& list, std::string_view subject) {
    for (const QueueEntry& entry : list.queues) {
        if (protocol::subject_matches(entry.subject, subject)) return true;
    }
    return false;
}

// nats-server queueMatches: the queue name equals the permitted one, or is covered by a
// permitted name with wildcards.
bool PermissionChecker::queue_matches(const SubjectList& list, std::string_view subject,
                                      std::string_view queue) {
    for (const QueueEntry& entry : list.queues) {
        if (!protocol::subject_matches(entry.subject, subject)) continue;
        if (queue == entry.queue) return true;
        if (protocol::subject_has_wildcard(entry.queue) && protocol::subject_is_subset(queue, entry.queue)) {
            return true;
        }
    }
    return false;
}

void PermissionChecker::remember(std::map<std::string, bool, std::less<>>& cache,
                                 std::string_view subject, bool value) {
    if (cache.size() >= permission_cache_entries_max) {
        // Sweep the first entries in key order: deterministic, unlike Go's map order.
        auto end = cache.begin();
        std::advance(end, static_cast<std::ptrdiff_t>(permission_cache_sweep_count));
        cache.erase(cache.begin(), end);
    }
    cache.emplace(std::string(subject), value);
    ASSERT(cache.size() <= permission_cache_entries_max);
}

bool PermissionChecker::can_publish(std::string_view subject) {
    if (auto cached = publish_cache_.find(subject); cached != publish_cache_.end()) return cached->second;
    bool allowed = !publish_allow_.present || any_matches(publish_allow_.subjects, subject);
    if (allowed && publish_deny_.present) allowed = !any_matches(publish_deny_.subjects, subject);
    remember(publish_cache_, subject, allowed);
    return allowed;
}

bool PermissionChecker::can_subscribe(std::string_view subject, std::string_view queue) const {
    bool allowed = true;
    if (subscribe_allow_.present) {
        allowed = any_matches(subscribe_allow_.subjects, subject);
        if (!queue.empty() && has_matching_queues(subscribe_allow_, subject)) {
            allowed = queue_matches(subscribe_allow_, subject, queue);
        }
    }
    if (allowed && subscribe_deny_.present) {
        allowed = !any_matches(subscribe_deny_.subjects, subject);
        if (!queue.empty() && has_matching_queues(subscribe_deny_, subject)) {
            allowed = !queue_matches(subscribe_deny_, subject, queue);
        }
    }
    return allowed;
}

bool PermissionChecker::delivery_denied(std::string_view subject) {
    if (subscribe_deny_.subjects.empty()) return false;
    if (auto cached = delivery_cache_.find(subject); cached != delivery_cache_.end()) return cached->second;
    const bool denied = any_matches(subscribe_deny_.subjects, subject);
    remember(delivery_cache_, subject, denied);
    return denied;
}

}  // namespace herald::auth
