#include "engine/auth/authenticator.h"

#include "engine/base/assert.h"
#include "engine/config/loader.h"
#include "engine/protocol/subject.h"

namespace herald::auth {

namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.auth"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok: return "ok";
            case Errc::authorization_violation: return "authorization violation";
            case Errc::unsupported_credential: return "unsupported credential (bcrypt hash)";
        }
        return "unknown";
    }
};

// Compares without an early exit, so the time taken does not tell how much matched.
bool equal_constant_time(std::string_view a, std::string_view b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        difference = static_cast<unsigned char>(difference | (x ^ y));
    }
    return difference == 0;
}

}  // namespace

const std::error_category& errc_category() {
    static const Category category;
    return category;
}

Authenticator::Authenticator(const config::Options& options) : options_(options) {
    for (const config::User& user : options.users) users_.emplace(user.username, &user);
    for (const config::AccountConfig& account : options.accounts) {
        for (const config::User& user : account.users) users_.emplace(user.username, &user);
    }
    required_ = !options.username.empty() || !options.token.empty() || !users_.empty();
    if (!options.no_auth_user.empty()) {
        const auto it = users_.find(options.no_auth_user);
        if (it != users_.end()) no_auth_user_ = it->second;
    }
}

Identity Authenticator::identity_of(const config::User& user) const {
    Identity identity;
    identity.account = user.account.empty() ? "$G" : user.account;
    identity.user = user.username;
    identity.permissions = user.permissions ? user.permissions : options_.default_permissions;
    return identity;
}

Result<Identity> Authenticator::authenticate(const Credentials& credentials) const {
    if (!required_) return Identity{"$G", std::string(credentials.user), std::nullopt};
    const bool anonymous =
        credentials.user.empty() && credentials.password.empty() && credentials.token.empty();
    // Matches nats-server: no_auth_user applies only when the client sent no credentials.
    if (anonymous && no_auth_user_ != nullptr) return identity_of(*no_auth_user_);
    if (!options_.token.empty()) {
        if (equal_constant_time(credentials.token, options_.token)) {
            return Identity{"$G", "", options_.default_permissions};
        }
        return Errc::authorization_violation;
    }
    if (!options_.username.empty()) {
        if (equal_constant_time(credentials.user, options_.username) &&
            equal_constant_time(credentials.password, options_.password)) {
            return Identity{"$G", options_.username, options_.default_permissions};
        }
        return Errc::authorization_violation;
    }
    const auto it = users_.find(credentials.user);
    if (it == users_.end()) return Errc::authorization_violation;
    const config::User& user = *it->second;
    if (config::is_bcrypt_hash(user.password)) return Errc::unsupported_credential;
    if (!equal_constant_time(credentials.password, user.password)) {
        return Errc::authorization_violation;
    }
    return identity_of(user);
}

ClientPermissions::Direction ClientPermissions::compile(
    const config::SubjectPermission& permission, bool with_queues) {
    Direction direction;
    direction.restricted = true;
    auto entry = [with_queues](const std::string& text) {
        Entry e;
        const auto space = with_queues ? text.find(' ') : std::string::npos;
        e.subject = text.substr(0, space);
        if (space != std::string::npos) {
            const auto queue_start = text.find_first_not_of(' ', space);
            if (queue_start != std::string::npos) e.queue = text.substr(queue_start);
        }
        return e;
    };
    if (permission.allow) {
        direction.has_allow = true;
        for (const auto& text : *permission.allow) direction.allow.push_back(entry(text));
    }
    for (const auto& text : permission.deny) direction.deny.push_back(entry(text));
    return direction;
}

ClientPermissions::ClientPermissions(const config::Permissions& permissions)
    : responses_(permissions.allow_responses) {
    if (permissions.publish) publish_ = compile(*permissions.publish, false);
    if (permissions.subscribe) subscribe_ = compile(*permissions.subscribe, true);
    // Matches nats-server: allow_responses without publish permissions means "publish only
    // responses".
    if (responses_ && !permissions.publish) {
        publish_.restricted = true;
        publish_.has_allow = true;
    }
}

bool ClientPermissions::publish_allowed_by_lists(std::string_view subject) const {
    if (!publish_.restricted) return true;
    bool allowed = !publish_.has_allow;
    for (const Entry& entry : publish_.allow) {
        if (protocol::subject_matches(entry.subject, subject)) {
            allowed = true;
            break;
        }
    }
    if (!allowed) return false;
    for (const Entry& entry : publish_.deny) {
        if (protocol::subject_matches(entry.subject, subject)) return false;
    }
    return true;
}

bool ClientPermissions::use_response_permit(std::string_view subject, Instant now) {
    const auto it = permits_.find(subject);
    if (it == permits_.end()) return false;
    Permit& permit = it->second;
    const bool expired = permit.expires < now;
    if (!expired) --permit.remaining;
    if (expired || permit.remaining <= 0) permits_.erase(it);
    return !expired;
}

bool ClientPermissions::can_publish(std::string_view subject, Instant now) {
    if (!publish_.restricted) return true;
    if (responses_ && use_response_permit(subject, now)) return true;
    const auto cached = publish_cache_.find(std::string(subject));
    if (cached != publish_cache_.end()) return cached->second;
    const bool allowed = publish_allowed_by_lists(subject);
    if (publish_cache_.size() >= publish_cache_entries_max) publish_cache_.clear();
    publish_cache_.emplace(subject, allowed);
    return allowed;
}

bool ClientPermissions::can_subscribe(std::string_view subject, std::string_view queue) const {
    if (!subscribe_.restricted) return true;
    // Matches nats-server canSubscribe: the SUB subject is matched against the entries as if its
    // tokens were literal (security.md §2); an entry with a queue allows only that queue.
    auto entry_matches = [&](const Entry& entry) {
        if (!protocol::subject_matches(entry.subject, subject)) return false;
        if (entry.queue.empty()) return true;
        return !queue.empty() && protocol::subject_matches(entry.queue, queue);
    };
    if (subscribe_.has_allow) {
        bool allowed = false;
        for (const Entry& entry : subscribe_.allow) allowed = allowed || entry_matches(entry);
        if (!allowed) return false;
    }
    for (const Entry& entry : subscribe_.deny) {
        if (entry_matches(entry)) return false;
    }
    return true;
}

bool ClientPermissions::delivery_denied(std::string_view subject) const {
    for (const Entry& entry : subscribe_.deny) {
        if (entry.queue.empty() && protocol::subject_matches(entry.subject, subject)) return true;
    }
    return false;
}

void ClientPermissions::allow_response(std::string_view reply, Instant now) {
    if (!responses_) return;
    if (permits_.size() >= response_permits_max) {
        std::erase_if(permits_, [now](const auto& item) { return item.second.expires < now; });
        if (permits_.size() >= response_permits_max) return;  // full of live permits: refuse
    }
    Permit& permit = permits_[std::string(reply)];
    permit.remaining = responses_->max_msgs > 0 ? responses_->max_msgs : 1;
    permit.expires = now + responses_->expires;
}

}  // namespace herald::auth
