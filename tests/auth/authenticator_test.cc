// Tests of CONNECT authentication (engine/auth/authenticator.h) against nats-server 2.9
// behaviour: no auth, token, single user, users lists, accounts, no_auth_user and bcrypt.
#include <catch2/catch.hpp>

#include <string>

#include "engine/auth/authenticator.h"
#include "engine/auth/errc.h"
#include "engine/config/loader.h"

namespace herald::auth {
namespace {

config::Options load(const std::string& text) {
    std::string error;
    config::MemoryEnvironment environment;
    Result<config::Options> loaded =
        config::load_config_text(text, "herald.conf", config::Options{}, error, environment);
    INFO(error);
    REQUIRE(loaded.has_value());
    return std::move(*loaded);
}

Authenticator make(const config::Options& options) {
    std::string error;
    Result<Authenticator> created = Authenticator::create(options, error);
    INFO(error);
    REQUIRE(created.has_value());
    return std::move(*created);
}

bool rejected(const Authenticator& authenticator, Credentials credentials) {
    Result<Identity> identity = authenticator.authenticate(credentials);
    return !identity.has_value() && identity.error() == make_error_code(Errc::authorization_violation);
}

}  // namespace

TEST_CASE("auth: without auth every client is in the global account with no permissions", "[auth][authenticator]") {
    const Authenticator authenticator = make(config::Options{});
    CHECK_FALSE(authenticator.auth_required());
    Result<Identity> identity = authenticator.authenticate({"any", "thing", ""});
    REQUIRE(identity.has_value());
    CHECK(identity->account == "$G");
    CHECK_FALSE(identity->permissions.has_value());
}

TEST_CASE("auth: a token must match", "[auth][authenticator]") {
    const Authenticator authenticator = make(load("authorization { token: s3cr3t, timeout: 3 }\n"));
    CHECK(authenticator.auth_required());
    CHECK(authenticator.timeout() == Duration::seconds(3));
    CHECK(authenticator.authenticate({"", "", "s3cr3t"}).has_value());
    CHECK(rejected(authenticator, {"", "", "s3cr3"}));
    CHECK(rejected(authenticator, {"", "", ""}));
}

TEST_CASE("auth: a single user and password must both match", "[auth][authenticator]") {
    const Authenticator authenticator = make(load("authorization { user: a, password: b }\n"));
    Result<Identity> identity = authenticator.authenticate({"a", "b", ""});
    REQUIRE(identity.has_value());
    CHECK(identity->user == "a");
    CHECK(identity->account == "$G");
    CHECK(rejected(authenticator, {"a", "c", ""}));
    CHECK(rejected(authenticator, {"x", "b", ""}));
    CHECK(rejected(authenticator, {"", "", ""}));
}

TEST_CASE("auth: users carry their account and permissions", "[auth][authenticator]") {
    const Authenticator authenticator = make(load(
        "authorization { users: [ {user: g, password: g, permissions: {publish: \"g.>\"}} ] }\n"
        "accounts { A: { users: [ {user: a, password: pa} ] } }\n"));
    Result<Identity> global = authenticator.authenticate({"g", "g", ""});
    REQUIRE(global.has_value());
    CHECK(global->account == "$G");
    REQUIRE(global->permissions.has_value());
    CHECK(*global->permissions->publish->allow == std::vector<std::string>{"g.>"});
    Result<Identity> in_account = authenticator.authenticate({"a", "pa", ""});
    REQUIRE(in_account.has_value());
    CHECK(in_account->account == "A");
    CHECK(in_account->user == "a");
    CHECK(rejected(authenticator, {"a", "g", ""}));
    CHECK(rejected(authenticator, {"nobody", "x", ""}));
    CHECK(rejected(authenticator, {"", "", ""}));
}

TEST_CASE("auth: no_auth_user applies to a client without a username", "[auth][authenticator]") {
    const Authenticator authenticator = make(load(
        "accounts { A: { users: [ {user: a, password: pa}, {user: guest, password: gp} ] } }\n"
        "no_auth_user: guest\n"));
    Result<Identity> identity = authenticator.authenticate({"", "", ""});
    REQUIRE(identity.has_value());
    CHECK(identity->user == "guest");
    CHECK(identity->account == "A");
    // A client that names a user still needs that user's password.
    CHECK(rejected(authenticator, {"a", "wrong", ""}));
    CHECK(authenticator.authenticate({"a", "pa", ""}).has_value());
}

TEST_CASE("auth: bcrypt passwords in the config are checked with bcrypt", "[auth][authenticator]") {
    const Authenticator authenticator = make(load(
        "authorization { users: [ {user: derek, password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG} ] }\n"));
    CHECK(authenticator.authenticate({"derek", "T0pS3cr3t", ""}).has_value());
    CHECK(rejected(authenticator, {"derek", "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG", ""}));
}

TEST_CASE("auth: a malformed bcrypt hash is a config error naming the user", "[auth][authenticator]") {
    // The config loader already refuses this with file:line; create() covers Options built in code.
    config::Options options;
    options.users.push_back(config::User{"bad", "$2a$11$short", std::nullopt, ""});
    std::string error;
    Result<Authenticator> created = Authenticator::create(options, error);
    REQUIRE_FALSE(created.has_value());
    CHECK(created.error() == make_error_code(Errc::invalid_config));
    CHECK(error == "user \"bad\": password looks like a bcrypt hash but is not a valid one");
}

TEST_CASE("auth: passwords_match compares plain text exactly", "[auth][authenticator]") {
    CHECK(passwords_match("abc", "abc"));
    CHECK_FALSE(passwords_match("abc", "abd"));
    CHECK_FALSE(passwords_match("abc", "ab"));
    CHECK(passwords_match("", ""));
}

}  // namespace herald::auth
