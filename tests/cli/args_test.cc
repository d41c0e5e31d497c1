// Unit tests of the CLI's pure helpers: flag parsing, Go durations, sizes and body templates.
#include "cli/args.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/body_template.h"

namespace {

using herald::Duration;
using namespace herald::cli;

constexpr FlagSpec specs[] = {
    {"server", 's', "URL", "server"},
    {"count", 0, "N", "count"},
    {"header", 'H', "KEY:VALUE", "header", true},
    {"raw", 0, "", "raw"},
};

std::optional<ParsedArgs> parse(std::vector<std::string> args, std::string& error) {
    return parse_args(args, specs, error);
}

class FixedRandom final : public herald::io::Random {
public:
    std::uint64_t next_u64() override { return value_++; }

private:
    std::uint64_t value_ = 0;
};

}  // namespace

TEST_CASE("cli args: flags take values in every nats CLI spelling", "[cli][args]") {
    std::string error;
    const auto parsed = parse({"-s",
                               "nats://a",
                               "--count=3",
                               "subject",
                               "-H",
                               "a:1",
                               "--header",
                               "b:2",
                               "--raw",
                               "--",
                               "--body"},
                              error);
    REQUIRE(parsed);
    CHECK(parsed->value("server") == "nats://a");
    CHECK(parsed->value("count") == "3");
    CHECK(parsed->values("header") == std::vector<std::string>{"a:1", "b:2"});
    CHECK(parsed->has("raw"));
    CHECK(parsed->positionals() == std::vector<std::string>{"subject", "--body"});
}

TEST_CASE("cli args: unknown flags, missing values and values on booleans are errors",
          "[cli][args]") {
    std::string error;
    CHECK_FALSE(parse({"--cout", "3"}, error));
    CHECK(error == "unknown flag --cout");
    CHECK_FALSE(parse({"--count"}, error));
    CHECK(error == "flag --count needs a value (N)");
    CHECK_FALSE(parse({"--raw=yes"}, error));
    CHECK(error == "flag --raw takes no value");
    CHECK_FALSE(parse({"-x"}, error));
    CHECK(error == "unknown flag -x");
}

TEST_CASE("cli args: Go durations parse as time.ParseDuration does", "[cli][args]") {
    CHECK(parse_duration("2s") == Duration::seconds(2));
    CHECK(parse_duration("500ms") == Duration::milliseconds(500));
    CHECK(parse_duration("1m30s") == Duration::seconds(90));
    CHECK(parse_duration("1.5h") == Duration::seconds(5400));
    CHECK(parse_duration("100us") == Duration::microseconds(100));
    CHECK(parse_duration("100\xC2\xB5s") == Duration::microseconds(100));
    CHECK(parse_duration("0") == Duration{});
    CHECK_FALSE(parse_duration("5"));
    CHECK_FALSE(parse_duration("5 s"));
    CHECK_FALSE(parse_duration("1.2.3s"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("10d"));
}

TEST_CASE("cli args: counts and sizes", "[cli][args]") {
    CHECK(parse_count("0") == 0u);
    CHECK(parse_count("1000000") == 1000000u);
    CHECK_FALSE(parse_count("-1"));
    CHECK_FALSE(parse_count("1e6"));
    CHECK_FALSE(parse_count("99999999999999999999"));
    CHECK(parse_size("16") == 16u);
    CHECK(parse_size("1KB") == 1024u);
    CHECK(parse_size("4mib") == 4u * 1024 * 1024);
    CHECK_FALSE(parse_size("big"));
    CHECK_FALSE(parse_size("1GB"));
}

TEST_CASE("cli template: {{Count}} and friends render per message", "[cli][template]") {
    std::string error;
    FixedRandom random;
    const auto body = BodyTemplate::parse("n={{Count}} dot={{ .Count }} r={{Request}}", error);
    REQUIRE(body);
    CHECK_FALSE(body->is_static());
    CHECK(body->render({7, 0, "req", &random}) == "n=7 dot=7 r=req");

    const auto unix = BodyTemplate::parse("{{Unix}} {{UnixNano}}", error);
    REQUIRE(unix);
    CHECK(unix->render({1, 1'700'000'000'123'456'789, {}, &random})
          == "1700000000 1700000000123456789");

    const auto sized = BodyTemplate::parse("{{Random 5 5}}|{{ID}}", error);
    REQUIRE(sized);
    const std::string text = sized->render({1, 0, {}, &random});
    CHECK(text.size() == 5 + 1 + 22);

    const auto plain = BodyTemplate::parse("no actions { here }", error);
    REQUIRE(plain);
    CHECK(plain->is_static());
    CHECK(plain->render({1, 0, {}, &random}) == "no actions { here }");
}

TEST_CASE("cli template: unknown or malformed actions are errors naming them", "[cli][template]") {
    std::string error;
    CHECK_FALSE(BodyTemplate::parse("{{Cont}}", error));
    CHECK(error.find("unknown template action {{Cont}}") == 0);
    CHECK_FALSE(BodyTemplate::parse("a {{Count", error));
    CHECK(error.find("unterminated") == 0);
    CHECK_FALSE(BodyTemplate::parse("{{Random 9 2}}", error));
    CHECK_FALSE(BodyTemplate::parse("{{Count 3}}", error));
}
