// Tests of the nats-server config syntax parser (engine/config/parser.h): the forms conf/lex.go
// accepts, the values it produces, and the file:line of every error.
#include <catch2/catch.hpp>

#include <string>

#include "engine/config/errc.h"
#include "engine/config/parser.h"

namespace herald::config {
namespace {

Value parse_ok(const std::string& text, const MemoryEnvironment& environment = {}) {
    std::string error;
    Result<Value> parsed = parse_config_text(text, "herald.conf", environment, error);
    INFO(error);
    REQUIRE(parsed.has_value());
    return *parsed;
}

std::string parse_error(const std::string& text, const MemoryEnvironment& environment = {}) {
    std::string error;
    Result<Value> parsed = parse_config_text(text, "herald.conf", environment, error);
    REQUIRE_FALSE(parsed.has_value());
    return error;
}

const Value& at(const Value& map, const std::string& key) {
    const MapEntry* entry = map.find(key);
    INFO(key);
    REQUIRE(entry != nullptr);
    return entry->value;
}

}  // namespace

TEST_CASE("config: keys take '=', ':' or whitespace as separator", "[config][parser]") {
    const Value root = parse_ok("a = 1\nb: 2\nc 3\nd=4; e:5, f 6\n");
    CHECK(at(root, "a").integer == 1);
    CHECK(at(root, "b").integer == 2);
    CHECK(at(root, "c").integer == 3);
    CHECK(at(root, "d").integer == 4);
    CHECK(at(root, "e").integer == 5);
    CHECK(at(root, "f").integer == 6);
    CHECK(root.entries.size() == 6);
}

TEST_CASE("config: size suffixes follow nats-server (1MB = 1048576, 1m = 1000000)", "[config][parser]") {
    const Value root = parse_ok(
        "a: 1MB\nb: 1m\nc: 2k\nd: 2kb\ne: 2KiB\nf: 1g\ng: 1GB\nh: 1t\ni: 1TB\nj: 1Ki\nk: -2k\n");
    CHECK(at(root, "a").integer == 1048576);
    CHECK(at(root, "b").integer == 1000000);
    CHECK(at(root, "c").integer == 2000);
    CHECK(at(root, "d").integer == 2048);
    CHECK(at(root, "e").integer == 2048);
    CHECK(at(root, "f").integer == 1000000000);
    CHECK(at(root, "g").integer == 1073741824);
    CHECK(at(root, "h").integer == 1000000000000);
    CHECK(at(root, "i").integer == 1099511627776);
    CHECK(at(root, "j").integer == 1024);
    CHECK(at(root, "k").integer == -2000);
}

TEST_CASE("config: a word that starts with a digit but is not a number is a string", "[config][parser]") {
    const Value root = parse_ok("a: 2ms\nb: 127.0.0.1:4222\nc: 1.5\nd: 4222abc\ne: 0.0.0.0\n");
    CHECK(at(root, "a").is_string());
    CHECK(at(root, "a").text == "2ms");
    CHECK(at(root, "b").text == "127.0.0.1:4222");
    CHECK(at(root, "c").kind == ValueKind::floating);
    CHECK(at(root, "c").floating == 1.5);
    CHECK(at(root, "d").text == "4222abc");
    CHECK(at(root, "e").text == "0.0.0.0");
}

TEST_CASE("config: booleans are true/false/yes/no/on/off in any case", "[config][parser]") {
    const Value root = parse_ok("a: true\nb: NO\nc: On\nd: off\ne: yes\nf: \"true\"\n");
    CHECK(at(root, "a").boolean);
    CHECK_FALSE(at(root, "b").boolean);
    CHECK(at(root, "c").boolean);
    CHECK_FALSE(at(root, "d").boolean);
    CHECK(at(root, "e").kind == ValueKind::boolean);
    CHECK(at(root, "f").is_string());  // quoted: stays a string
}

TEST_CASE("config: strings are double-quoted with limited escapes, single-quoted raw, or bare", "[config][parser]") {
    const Value root = parse_ok(
        "a: \"x\\ty\\n\\\"q\\\" \\\\ \\x41\"\nb: 'raw \\n $x'\nc: nats://host:4222\nd: foo.bar.>\n");
    CHECK(at(root, "a").text == "x\ty\n\"q\" \\ A");
    CHECK(at(root, "b").text == "raw \\n $x");
    CHECK(at(root, "c").text == "nats://host:4222");
    CHECK(at(root, "d").text == "foo.bar.>");
}

TEST_CASE("config: an unknown escape in a double-quoted string is an error with its line", "[config][parser]") {
    CHECK(parse_error("a: 1\nb: \"x\\u0041\"\n") ==
          "herald.conf:2: invalid escape character 'u'. Only the following escape characters are "
          "allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\");
}

TEST_CASE("config: comments start with # or // and run to the end of the line", "[config][parser]") {
    const Value root = parse_ok("# top\n// also\na: 1 # trailing\nb { // in map\n  c: 2 # x\n}\nd: [1, # in array\n 2]\n");
    CHECK(at(root, "a").integer == 1);
    CHECK(at(at(root, "b"), "c").integer == 2);
    CHECK(at(root, "d").items.size() == 2);
}

TEST_CASE("config: maps and arrays nest and arrays may span lines", "[config][parser]") {
    const Value root = parse_ok(
        "authorization {\n"
        "  users = [\n"
        "    {user: a, password: b}\n"
        "    {user: c, password: d}\n"
        "  ]\n"
        "}\n"
        "list: [a, b,\n c]\n"
        "m = { x: 1, y: 2 }\n");
    const Value& users = at(at(root, "authorization"), "users");
    REQUIRE(users.items.size() == 2);
    CHECK(at(users.items[1], "user").text == "c");
    CHECK(users.items[1].line == 4);
    CHECK(at(root, "list").items.size() == 3);
    CHECK(at(at(root, "m"), "y").integer == 2);
}

TEST_CASE("config: every value keeps the line it was written on", "[config][parser]") {
    const Value root = parse_ok("\n\nport: 4222\n\nhttp {\n  x: 1\n}\n");
    CHECK(at(root, "port").line == 3);
    CHECK(root.find("port")->key_line == 3);
    CHECK(at(at(root, "http"), "x").line == 6);
    CHECK(at(root, "port").where() == "herald.conf:3");
}

TEST_CASE("config: variables resolve through enclosing maps, then the environment", "[config][parser]") {
    MemoryEnvironment environment;
    environment.variables["FROM_ENV"] = "2MB";
    const Value root = parse_ok(
        "secret = \"s3cr3t\"\n"
        "authorization {\n"
        "  inner = 7\n"
        "  token: $secret\n"
        "  timeout: $inner\n"
        "}\n"
        "max_payload: $FROM_ENV\n",
        environment);
    CHECK(at(at(root, "authorization"), "token").text == "s3cr3t");
    CHECK(at(at(root, "authorization"), "timeout").integer == 7);
    CHECK(at(root, "max_payload").integer == 2 * 1024 * 1024);
    CHECK(root.find("secret")->used_as_variable);
    CHECK(at(root, "max_payload").line == 7);
}

TEST_CASE("config: a bcrypt hash that starts with $2a$ is not a variable", "[config][parser]") {
    const Value root = parse_ok("password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\n");
    CHECK(at(root, "password").text == "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
}

TEST_CASE("config: an undefined variable is an error naming it and its line", "[config][parser]") {
    CHECK(parse_error("a: 1\nb: $nope\n") == "herald.conf:2: variable reference for \"nope\" can not be found");
}

TEST_CASE("config: include reads a file relative to the including file and merges it", "[config][parser]") {
    MemoryEnvironment environment;
    environment.files["/etc/herald/main.conf"] = "port: 1\ninclude ./auth.conf\nhttp_port: 2\n";
    environment.files["/etc/herald/./auth.conf"] = "authorization {\n  token: abc\n}\n";
    std::string error;
    Result<Value> root = parse_config_file("/etc/herald/main.conf", environment, error);
    INFO(error);
    REQUIRE(root.has_value());
    const Value& authorization = at(*root, "authorization");
    CHECK(at(authorization, "token").text == "abc");
    CHECK(authorization.file == "/etc/herald/./auth.conf");
    CHECK(at(*root, "http_port").integer == 2);
}

TEST_CASE("config: an error inside an included file names that file", "[config][parser]") {
    MemoryEnvironment environment;
    environment.files["dir/main.conf"] = "include \"other.conf\"\n";
    environment.files["dir/other.conf"] = "a: 1\nb: [1, 2\n";
    std::string error;
    Result<Value> root = parse_config_file("dir/main.conf", environment, error);
    REQUIRE_FALSE(root.has_value());
    CHECK(error == "dir/other.conf:2: array is not closed with ']'");
}

TEST_CASE("config: an include cycle stops at the include depth bound", "[config][parser]") {
    MemoryEnvironment environment;
    environment.files["loop.conf"] = "include loop.conf\n";
    std::string error;
    Result<Value> root = parse_config_file("loop.conf", environment, error);
    REQUIRE_FALSE(root.has_value());
    CHECK(error.find("includes nested deeper than") != std::string::npos);
}

TEST_CASE("config: a missing include file is a file error", "[config][parser]") {
    std::string error;
    MemoryEnvironment environment;
    Result<Value> root = parse_config_text("include nothere.conf\n", "herald.conf", environment, error);
    REQUIRE_FALSE(root.has_value());
    CHECK(root.error() == make_error_code(Errc::file_error));
    CHECK(error.rfind("herald.conf:1: error parsing include file \"nothere.conf\"", 0) == 0);
}

TEST_CASE("config: syntax errors name file and line", "[config][parser]") {
    CHECK(parse_error("a: 1\nb: 2 3\n") ==
          "herald.conf:2: expected a top-level value to end with a new line, comment or EOF, but got '3' instead");
    CHECK(parse_error("m {\n  a: 1 2\n}\n") ==
          "herald.conf:2: expected a map value terminator ',' or a map terminator '}', but got '2' instead");
    CHECK(parse_error("a: \"open\n\n") == "herald.conf:1: unexpected EOF in a quoted string");
    CHECK(parse_error("m {\n a: 1\n") == "herald.conf:1: map is not closed with '}'");
    CHECK(parse_error("a:\n1\n") == "herald.conf:1: expected a value but found a new line");
    CHECK(parse_error("a: 99999999999999999999\n") == "herald.conf:1: integer '99999999999999999999' is out of range");
    CHECK(parse_error("a: 9000000000000000000k\n") == "herald.conf:1: integer '9000000000000000000k' is out of range");
}

TEST_CASE("config: datetimes in Zulu form are parsed", "[config][parser]") {
    const Value root = parse_ok("when: 2006-01-02T15:04:05Z\n");
    CHECK(at(root, "when").kind == ValueKind::datetime);
    CHECK(at(root, "when").text == "2006-01-02T15:04:05Z");
}

TEST_CASE("config: quoted keys and a top-level brace pair are accepted", "[config][parser]") {
    const Value root = parse_ok("{\n  \"port\": 4222\n  'host': x\n}\n");
    CHECK(at(root, "port").integer == 4222);
    CHECK(at(root, "host").text == "x");
}

TEST_CASE("config: a later key replaces an earlier one", "[config][parser]") {
    const Value root = parse_ok("port: 1\nport: 2\n");
    CHECK(root.entries.size() == 1);
    CHECK(at(root, "port").integer == 2);
}

TEST_CASE("config: nesting deeper than the bound is an error, not a stack overflow", "[config][parser]") {
    std::string text = "a: ";
    for (int i = 0; i < nesting_depth_max + 5; i++) text += "[";
    CHECK(parse_error(text).find("nested deeper than") != std::string::npos);
}

}  // namespace herald::config

namespace herald::config {

TEST_CASE("config: a value where a key should be is an error", "[config][parser]") {
    CHECK(parse_error("a: 1\n[1, 2]\n") == "herald.conf:2: expected a key but got '['");
}

}  // namespace herald::config
