#include "engine/base/result.h"

#include <catch2/catch.hpp>
#include <string>

#include "engine/base/errc.h"

using herald::Result;
using herald::Status;
using herald::base::Errc;

TEST_CASE("result: holds a value or an error code", "[base][result]") {
    Result<std::string> good = std::string("hello");
    REQUIRE(good.has_value());
    REQUIRE(*good == "hello");
    REQUIRE(good->size() == 5);

    Result<std::string> bad = Errc::not_found;
    REQUIRE_FALSE(bad);
    REQUIRE(bad.error() == Errc::not_found);
    REQUIRE(bad.error().message() == "not found");
}

TEST_CASE("result: Status is ok by default and carries an error otherwise", "[base][result]") {
    Status fine;
    REQUIRE(fine);
    Status failed = Errc::io_error;
    REQUIRE_FALSE(failed);
    REQUIRE(failed.error() == Errc::io_error);
}
