// Client authentication from config::Options: decides, for the credentials of a CONNECT, which
// account the connection belongs to and which permissions it has, following nats-server 2.9
// auth.go processClientOrLeafAuthentication for config-mode users, a single user/password and a
// token. nkeys and JWTs are not handled yet (the config loader refuses them).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/auth/client_permissions.h"  // for users of Identity::permissions
#include "engine/base/result.h"
#include "engine/base/time.h"
#include "engine/config/options.h"

namespace herald::auth {

// The account of connections when no accounts are configured, and of users outside `accounts`.
inline constexpr std::string_view global_account_name = "$G";

// What the client sent in CONNECT (views into the parsed CONNECT; only used during the call).
struct Credentials {
    std::string_view user;
    std::string_view pass;
    std::string_view auth_token;
};

struct Identity {
    std::string account;                                // "$G" or a configured account name
    std::string user;                                   // empty for token or no auth
    std::optional<config::Permissions> permissions;     // none = everything allowed
};

// Built once from Options (and again on reload); then read-only and cheap to query. Runs on the
// node's loop. Copyable; keeps its own copy of what it needs from Options.
class Authenticator {
public:
    // Options that came through config::load_config_* are already checked (bcrypt hashes are
    // well-formed, users unique, no_auth_user exists). A malformed hash here never matches.
    explicit Authenticator(const config::Options& options);

    // The constructor plus the checks, for Options built by hand: every bcrypt-looking password
    // must be a well-formed hash, users unique, no_auth_user present. Fails with
    // Errc::invalid_config and a message naming the user.
    static Result<Authenticator> create(const config::Options& options, std::string& error_message);

    // INFO auth_required: users, a single user or a token are configured.
    bool auth_required() const { return auth_required_; }
    // Whether a client that sends no credentials is accepted (no auth, or no_auth_user).
    bool allows_anonymous() const { return !auth_required_ || !no_auth_user_.empty(); }
    // How long a client has to send CONNECT (authorization.timeout).
    Duration timeout() const { return timeout_; }

    // The identity for these credentials, or Errc::authorization_violation. Passwords and
    // tokens are compared in constant time; bcrypt hashes in the config are checked with bcrypt
    // (slow on purpose: once per CONNECT).
    Result<Identity> authenticate(const Credentials& credentials) const;

private:
    bool auth_required_ = false;
    Duration timeout_;
    std::map<std::string, config::User, std::less<>> users_;  // every user, by name
    std::string username_;
    std::string password_;
    std::string token_;
    std::string no_auth_user_;
};

// nats-server comparePasswords: bcrypt if the configured value is a bcrypt hash, otherwise a
// constant-time comparison (lengths may leak, as in Go's subtle.ConstantTimeCompare).
bool passwords_match(std::string_view configured, std::string_view given);

}  // namespace herald::auth
