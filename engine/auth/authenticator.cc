#include "engine/auth/authenticator.h"

#include <openssl/crypto.h>

#include "engine/auth/bcrypt.h"
#include "engine/auth/errc.h"
#include "engine/config/loader.h"

namespace herald::auth {
namespace {

Status check_password(const std::string& who, const std::string& password,
                      std::string& error_message) {
    if (config::is_bcrypt_hash(password) && !is_valid_bcrypt_hash(password)) {
        error_message = who + ": password looks like a bcrypt hash but is not a valid one";
        return Errc::invalid_config;
    }
    return ok();
}

Identity identity_of(const config::User& user) {
    Identity identity;
    identity.account = user.account.empty() ? std::string(global_account_name) : user.account;
    identity.user = user.username;
    identity.permissions = user.permissions;
    return identity;
}

}  // namespace

bool passwords_match(std::string_view configured, std::string_view given) {
    if (config::is_bcrypt_hash(configured)) return bcrypt_matches(configured, given);
    if (configured.size() != given.size()) return false;
    if (configured.empty()) return true;
    return CRYPTO_memcmp(configured.data(), given.data(), configured.size()) == 0;
}

Authenticator::Authenticator(const config::Options& options)
    : timeout_(options.auth_timeout),
      username_(options.username),
      password_(options.password),
      token_(options.token),
      no_auth_user_(options.no_auth_user) {
    // A user name that appears twice keeps its first entry (create() refuses duplicates).
    for (const config::User& user : options.users) users_.emplace(user.username, user);
    for (const config::AccountConfig& account : options.accounts) {
        for (config::User user : account.users) {
            user.account = account.name;
            users_.emplace(user.username, std::move(user));
        }
    }
    auth_required_ = !users_.empty() || !username_.empty() || !token_.empty();
    if (!no_auth_user_.empty() && users_.count(no_auth_user_) == 0) {
        no_auth_user_.clear();  // create() and the config loader refuse this
    }
}

Result<Authenticator> Authenticator::create(const config::Options& options,
                                            std::string& error_message) {
    std::size_t user_count = 0;
    auto check_user = [&](const config::User& user) -> Status {
        user_count++;
        return check_password("user \"" + user.username + "\"", user.password, error_message);
    };
    for (const config::User& user : options.users) {
        Status checked = check_user(user);
        if (!checked) return checked.error();
    }
    for (const config::AccountConfig& account : options.accounts) {
        for (const config::User& user : account.users) {
            Status checked = check_user(user);
            if (!checked) return checked.error();
        }
    }
    Status single = check_password("authorization password", options.password, error_message);
    if (!single) return single.error();
    Status token = check_password("authorization token", options.token, error_message);
    if (!token) return token.error();
    Authenticator authenticator(options);
    if (authenticator.users_.size() != user_count) {
        error_message = "duplicate user names in authorization and accounts";
        return Errc::invalid_config;
    }
    if (!options.no_auth_user.empty() && authenticator.no_auth_user_.empty()) {
        error_message = "no_auth_user: \"" + options.no_auth_user + "\" not present as user";
        return Errc::invalid_config;
    }
    return authenticator;
}

Result<Identity> Authenticator::authenticate(const Credentials& credentials) const {
    if (!auth_required_) return Identity{std::string(global_account_name), {}, std::nullopt};
    if (!users_.empty()) {
        std::string_view name = credentials.user;
        bool assumed = false;
        // nats-server: a client without a username is taken as no_auth_user, without a password
        // check (the server copies that user's own password into the client options).
        if (name.empty() && !no_auth_user_.empty()) {
            name = no_auth_user_;
            assumed = true;
        }
        if (!name.empty()) {
            auto found = users_.find(name);
            if (found == users_.end()) return Errc::authorization_violation;
            if (!assumed && !passwords_match(found->second.password, credentials.pass)) {
                return Errc::authorization_violation;
            }
            return identity_of(found->second);
        }
    }
    if (!token_.empty()) {
        if (!passwords_match(token_, credentials.auth_token)) return Errc::authorization_violation;
        return Identity{std::string(global_account_name), {}, std::nullopt};
    }
    if (!username_.empty()) {
        if (credentials.user != username_ || !passwords_match(password_, credentials.pass)) {
            return Errc::authorization_violation;
        }
        return Identity{std::string(global_account_name), username_, std::nullopt};
    }
    return Errc::authorization_violation;
}

}  // namespace herald::auth
