// Tests of publish/subscribe permission checks (engine/auth/permission_checker.h) against the
// nats-server 2.9 semantics in security.md §2, including the captured quirks.
#include <catch2/catch.hpp>

#include <string>

#include "engine/auth/permission_checker.h"

namespace herald::auth {
namespace {

config::SubjectPermission allow_deny(std::vector<std::string> allow, std::vector<std::string> deny) {
    config::SubjectPermission permission;
    permission.allow = std::move(allow);
    permission.deny = std::move(deny);
    return permission;
}

config::SubjectPermission deny_only(std::vector<std::string> deny) {
    config::SubjectPermission permission;
    permission.deny = std::move(deny);
    return permission;
}

}  // namespace

TEST_CASE("permissions: publish allow with wildcards, deny wins", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.publish = allow_deny({"foo.>", "_INBOX.>"}, {"foo.bar"});
    PermissionChecker checker(permissions);
    CHECK(checker.can_publish("foo.baz"));
    CHECK(checker.can_publish("foo.a.b"));
    CHECK(checker.can_publish("_INBOX.x"));
    CHECK_FALSE(checker.can_publish("foo.bar"));
    CHECK_FALSE(checker.can_publish("bar"));
    CHECK_FALSE(checker.can_publish("foo"));
    // Cached answers stay the same.
    CHECK_FALSE(checker.can_publish("foo.bar"));
    CHECK(checker.can_publish("foo.baz"));
}

TEST_CASE("permissions: a deny-only list allows everything else", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.publish = deny_only({"secret.*"});
    permissions.subscribe = deny_only({"secret.>"});
    PermissionChecker checker(permissions);
    CHECK(checker.can_publish("anything"));
    CHECK_FALSE(checker.can_publish("secret.x"));
    CHECK(checker.can_subscribe("public.>", ""));
    CHECK_FALSE(checker.can_subscribe("secret.a", ""));
}

TEST_CASE("permissions: no permissions at all allow everything", "[auth][permissions]") {
    PermissionChecker checker(config::Permissions{});
    CHECK(checker.can_publish("a.b"));
    CHECK(checker.can_subscribe(">", ""));
    CHECK(checker.can_subscribe("a", "q"));
    CHECK_FALSE(checker.has_delivery_filter());
    CHECK_FALSE(checker.delivery_denied("a"));
}

TEST_CASE("permissions: SUB subjects match the allow list as literal tokens (2.9 quirk)", "[auth][permissions]") {
    // Captured: with subscribe allow foo.*, SUB foo.> is accepted and SUB > is rejected.
    config::Permissions permissions;
    permissions.subscribe = allow_deny({"foo.*"}, {});
    PermissionChecker checker(permissions);
    CHECK(checker.can_subscribe("foo.x", ""));
    CHECK(checker.can_subscribe("foo.*", ""));
    CHECK(checker.can_subscribe("foo.>", ""));
    CHECK_FALSE(checker.can_subscribe(">", ""));
    CHECK_FALSE(checker.can_subscribe("foo.x.y", ""));
    CHECK_FALSE(checker.can_subscribe("bar", ""));
}

TEST_CASE("permissions: a wildcard SUB covering a denied subject is accepted, deliveries filtered", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.subscribe = deny_only({"foo.baz"});
    PermissionChecker checker(permissions);
    CHECK(checker.can_subscribe("foo.*", ""));
    CHECK_FALSE(checker.can_subscribe("foo.baz", ""));
    CHECK(checker.has_delivery_filter());
    CHECK(checker.delivery_denied("foo.baz"));
    CHECK_FALSE(checker.delivery_denied("foo.bar"));
    CHECK(checker.delivery_denied("foo.baz"));  // cached
}

TEST_CASE("permissions: 'subject queue' entries are queue permissions", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.subscribe = allow_deny({"foo v1", "bar", "bar q.*"}, {});
    PermissionChecker checker(permissions);
    CHECK(checker.can_subscribe("foo", "v1"));
    CHECK_FALSE(checker.can_subscribe("foo", "v2"));
    CHECK_FALSE(checker.can_subscribe("foo", ""));  // only the queue group is allowed
    CHECK(checker.can_subscribe("bar", ""));
    // When a queue entry matches the subject, the queue must match one: wildcards in it count.
    CHECK(checker.can_subscribe("bar", "q.east"));
    CHECK_FALSE(checker.can_subscribe("bar", "other"));
}

TEST_CASE("permissions: a queue deny entry rejects that group only", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.subscribe = deny_only({"foo v1"});
    PermissionChecker checker(permissions);
    CHECK_FALSE(checker.can_subscribe("foo", "v1"));
    CHECK(checker.can_subscribe("foo", "v2"));
    CHECK(checker.can_subscribe("foo", ""));
}

TEST_CASE("permissions: an empty present allow list (allow_responses) denies every publish", "[auth][permissions]") {
    config::Permissions permissions;
    permissions.publish = config::SubjectPermission{std::vector<std::string>{}, {}};
    permissions.allow_responses = config::ResponsePermission{};
    PermissionChecker checker(permissions);
    CHECK_FALSE(checker.can_publish("anything"));
    REQUIRE(checker.allow_responses().has_value());
    CHECK(checker.allow_responses()->max_msgs == 1);
}

TEST_CASE("permissions: the publish cache stays within its bound", "[auth][permissions]") {
    // Goal: many distinct subjects never grow the cache past permission_cache_entries_max, and
    // answers stay correct after sweeps. Method: publish to 10x the bound and re-check a few.
    config::Permissions permissions;
    permissions.publish = allow_deny({"ok.>"}, {"ok.7"});
    PermissionChecker checker(permissions);
    for (std::size_t i = 0; i < 10 * permission_cache_entries_max; i++) {
        const std::string subject = (i % 2 == 0 ? "ok." : "no.") + std::to_string(i);
        CHECK(checker.can_publish(subject) == (i % 2 == 0));
    }
    CHECK_FALSE(checker.can_publish("ok.7"));
    CHECK(checker.can_publish("ok.8"));
}

}  // namespace herald::auth
