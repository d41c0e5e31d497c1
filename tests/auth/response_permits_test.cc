// Tests of allow_responses bookkeeping (engine/auth/response_permits.h): count and expiry limits
// with times passed in, renewal on re-delivery, and the bound on remembered reply subjects.
#include <catch2/catch.hpp>

#include <string>

#include "engine/auth/response_permits.h"

namespace herald::auth {
namespace {

Instant at_seconds(std::uint64_t seconds) { return Instant{} + Duration::seconds(seconds); }

}  // namespace

TEST_CASE("response permits: the default allows one response within two minutes", "[auth][response_permits]") {
    ResponsePermits permits(config::ResponsePermission{});
    CHECK_FALSE(permits.try_use("_INBOX.a", at_seconds(0)));
    permits.on_delivered("_INBOX.a", at_seconds(0));
    CHECK(permits.try_use("_INBOX.a", at_seconds(1)));
    CHECK_FALSE(permits.try_use("_INBOX.a", at_seconds(2)));
    CHECK(permits.size() == 0);
}

TEST_CASE("response permits: a permit expires after `expires`", "[auth][response_permits]") {
    ResponsePermits permits(config::ResponsePermission{5, Duration::seconds(10)});
    permits.on_delivered("r", at_seconds(100));
    CHECK(permits.try_use("r", at_seconds(110)));
    CHECK_FALSE(permits.try_use("r", at_seconds(111)));
    CHECK_FALSE(permits.try_use("r", at_seconds(111)));
}

TEST_CASE("response permits: max responses, then renewal on a new delivery", "[auth][response_permits]") {
    ResponsePermits permits(config::ResponsePermission{2, Duration::seconds(60)});
    permits.on_delivered("r", at_seconds(0));
    CHECK(permits.try_use("r", at_seconds(0)));
    CHECK(permits.try_use("r", at_seconds(0)));
    CHECK_FALSE(permits.try_use("r", at_seconds(0)));
    permits.on_delivered("r", at_seconds(1));
    CHECK(permits.try_use("r", at_seconds(1)));
}

TEST_CASE("response permits: negative max and zero expiry mean unlimited", "[auth][response_permits]") {
    ResponsePermits permits(config::ResponsePermission{-1, Duration{0}});
    permits.on_delivered("r", at_seconds(0));
    for (int i = 0; i < 100; i++) CHECK(permits.try_use("r", at_seconds(1000000)));
}

TEST_CASE("response permits: remembered reply subjects stay within their bound", "[auth][response_permits]") {
    // Goal: a client receiving endless requests never grows the table past the bound. Method:
    // deliver twice the bound without responding; the newest permits survive.
    ResponsePermits permits(config::ResponsePermission{1, Duration::seconds(120)});
    for (std::size_t i = 0; i < 2 * response_permits_max; i++) {
        permits.on_delivered("r." + std::to_string(i), at_seconds(0));
        REQUIRE(permits.size() <= response_permits_max);
    }
    CHECK(permits.try_use("r." + std::to_string(2 * response_permits_max - 1), at_seconds(1)));
    CHECK_FALSE(permits.try_use("r.0", at_seconds(1)));
}

TEST_CASE("response permits: expired permits are pruned before live ones are dropped", "[auth][response_permits]") {
    ResponsePermits permits(config::ResponsePermission{1, Duration::seconds(10)});
    for (std::size_t i = 0; i < response_permits_max; i++) permits.on_delivered("old." + std::to_string(i), at_seconds(0));
    permits.on_delivered("new", at_seconds(100));
    CHECK(permits.size() == 1);
    CHECK(permits.try_use("new", at_seconds(101)));
}

}  // namespace herald::auth
