// Authentication and permissions for client connections, from the config's authorization {},
// accounts {} and no_auth_user (nats-server auth.go). Authenticator maps CONNECT credentials to
// an account and permissions; ClientPermissions answers, per connection, whether a publish or a
// subscription is allowed, with nats-server 2.9's rules.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "engine/base/result.h"
#include "engine/base/time.h"
#include "engine/config/options.h"

namespace herald::auth {

enum class Errc {
    ok = 0,
    authorization_violation,  // wrong or missing credentials
    unsupported_credential,   // e.g. a bcrypt password hash, not implemented yet
};
const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

struct Credentials {
    std::string_view user;
    std::string_view password;
    std::string_view token;
};

struct Identity {
    std::string account;  // "$G" for the global account
    std::string user;     // empty for token or anonymous access
    std::optional<config::Permissions> permissions;
};

class Authenticator {
public:
    explicit Authenticator(const config::Options& options);

    // Whether clients must present credentials (INFO auth_required).
    bool auth_required() const { return required_; }
    // Whether a client that sends none is accepted anyway (no auth, or no_auth_user).
    bool allows_anonymous() const { return !required_ || no_auth_user_ != nullptr; }
    Result<Identity> authenticate(const Credentials& credentials) const;

private:
    Identity identity_of(const config::User& user) const;

    const config::Options& options_;
    bool required_ = false;
    std::map<std::string, const config::User*, std::less<>> users_;  // by user name
    const config::User* no_auth_user_ = nullptr;
};

// Bounds of the per-connection permission state.
inline constexpr std::size_t publish_cache_entries_max = 128;
inline constexpr std::size_t response_permits_max = 64 * 1024;

class ClientPermissions {
public:
    explicit ClientPermissions(const config::Permissions& permissions);

    // Publish check; a reply subject this client received with a request may be answered
    // within allow_responses' max and expiry even if publish permissions deny it.
    bool can_publish(std::string_view subject, Instant now);
    bool can_subscribe(std::string_view subject, std::string_view queue) const;
    // Matches nats-server's deny filter: a wildcard subscription that covers a denied subject
    // does not receive messages on it.
    bool delivery_denied(std::string_view subject) const;
    // Records a request's reply subject delivered to this client (allow_responses).
    void allow_response(std::string_view reply, Instant now);

private:
    // A permission entry: a subject pattern and, for subscribe entries, an optional queue.
    struct Entry {
        std::string subject;
        std::string queue;
    };
    struct Direction {
        bool restricted = false;  // false: everything allowed (nothing configured)
        bool has_allow = false;
        std::vector<Entry> allow;
        std::vector<Entry> deny;
    };
    struct Permit {
        std::int64_t remaining = 0;
        Instant expires;
    };

    static Direction compile(const config::SubjectPermission& permission, bool with_queues);
    bool publish_allowed_by_lists(std::string_view subject) const;
    bool use_response_permit(std::string_view subject, Instant now);

    Direction publish_;
    Direction subscribe_;
    std::optional<config::ResponsePermission> responses_;
    std::unordered_map<std::string, bool> publish_cache_;  // lookup only; never iterated
    std::map<std::string, Permit, std::less<>> permits_;
};

}  // namespace herald::auth

template <>
struct std::is_error_code_enum<herald::auth::Errc> : std::true_type {};
