// Tests of Options built from config text (engine/config/loader.h): option names and aliases of
// nats-server 2.9, durations, authorization, accounts, permissions, JetStream, and the messages
// of bad configs.
#include <catch2/catch.hpp>

#include <string>

#include "engine/config/errc.h"
#include "engine/config/loader.h"

namespace herald::config {
namespace {

Options load_ok(const std::string& text, const MemoryEnvironment& environment = {}) {
    std::string error;
    Result<Options> loaded = load_config_text(text, "herald.conf", Options{}, error, environment);
    INFO(error);
    REQUIRE(loaded.has_value());
    return std::move(*loaded);
}

std::string load_error(const std::string& text) {
    std::string error;
    MemoryEnvironment environment;
    Result<Options> loaded = load_config_text(text, "herald.conf", Options{}, error, environment);
    REQUIRE_FALSE(loaded.has_value());
    return error;
}

}  // namespace

TEST_CASE("config: listener, limits and logging options fill Options", "[config][loader]") {
    const Options options = load_ok(
        "server_name: n1\n"
        "listen: 127.0.0.1:4333\n"
        "http: 0.0.0.0:8333\n"
        "max_payload: 2MB\n"
        "max_pending: 128MB\n"
        "max_control_line: 8KB\n"
        "max_conn: 100\n"
        "max_subs: 10\n"
        "ping_interval: \"1h30m\"\n"
        "ping_max: 3\n"
        "write_deadline: \"500ms\"\n"
        "debug: true\ntrace: on\nlogtime: false\n"
        "log_file: /tmp/h.log\npid_file: /tmp/h.pid\nports_file_dir: /tmp\n"
        "no_header_support: yes\n");
    CHECK(options.server_name == "n1");
    CHECK(options.host == "127.0.0.1");
    CHECK(options.port == 4333);
    CHECK(options.http_host == "0.0.0.0");
    CHECK(options.http_port == 8333);
    CHECK(options.max_payload == 2 * 1024 * 1024);
    CHECK(options.max_pending == 128 * 1024 * 1024);
    CHECK(options.max_control_line == 8192);
    CHECK(options.max_connections == 100);
    CHECK(options.max_subscriptions == 10);
    CHECK(options.ping_interval == Duration::seconds(5400));
    CHECK(options.ping_max == 3);
    CHECK(options.write_deadline == Duration::milliseconds(500));
    CHECK(options.debug);
    CHECK(options.trace);
    CHECK_FALSE(options.logtime);
    CHECK(options.log_file == "/tmp/h.log");
    CHECK(options.pid_file == "/tmp/h.pid");
    CHECK(options.ports_file_dir == "/tmp");
    CHECK(options.no_header_support);
    CHECK(options.config_warnings.empty());
}

TEST_CASE("config: keys are case-insensitive and aliases work", "[config][loader]") {
    const Options options = load_ok("PORT: 5000\nNet: 10.0.0.1\nmonitor_port: 9000\nmax_connections: 7\nlogfile: x\npidfile: y\n");
    CHECK(options.port == 5000);
    CHECK(options.host == "10.0.0.1");
    CHECK(options.http_port == 9000);
    CHECK(options.max_connections == 7);
    CHECK(options.log_file == "x");
    CHECK(options.pid_file == "y");
}

TEST_CASE("config: port -1 asks for a random port", "[config][loader]") {
    CHECK(load_ok("port: -1\nhttp_port: -1\n").port == -1);
}

TEST_CASE("config: an integer duration is taken as seconds with a warning", "[config][loader]") {
    // The nats-server trap: unquoted 2m lexes as 2,000,000 and becomes that many seconds.
    const Options options = load_ok("ping_interval: 120\nwrite_deadline: 2m\n");
    CHECK(options.ping_interval == Duration::seconds(120));
    CHECK(options.write_deadline == Duration::seconds(2000000));
    REQUIRE(options.config_warnings.size() == 2);
    CHECK(options.config_warnings[0].rfind("herald.conf:1: \"ping_interval\" is an integer", 0) == 0);
}

TEST_CASE("config: busy_poll is a duration up to 1ms, false turns it off", "[config][loader]") {
    CHECK(Options{}.busy_poll == Duration::microseconds(50));
    CHECK(load_ok("busy_poll: \"20us\"\n").busy_poll == Duration::microseconds(20));
    CHECK(load_ok("busy_poll: \"0s\"\n").busy_poll == Duration{});
    CHECK(load_ok("busy_poll: false\n").busy_poll == Duration{});
    CHECK(load_error("busy_poll: \"2ms\"\n") ==
          "herald.conf:1: \"busy_poll\" must be at most 1ms (it is spent spinning)");
    CHECK(load_error("busy_poll: true\n") == "herald.conf:1: expected a duration for \"busy_poll\"");
}

TEST_CASE("config: an unknown top-level key is an error naming file and line", "[config][loader]") {
    CHECK(load_error("port: 1\n\n\n\n\n\nprot: 4222\n") == "herald.conf:7: unknown field \"prot\"");
}

TEST_CASE("config: a value of the wrong type names the key", "[config][loader]") {
    CHECK(load_error("\n\nport: abc\n") == "herald.conf:3: expected a number for \"port\"");
    CHECK(load_error("debug: 3\n") == "herald.conf:1: expected a boolean for \"debug\"");
    CHECK(load_error("port: 70000\n") == "herald.conf:1: \"port\" must be between -1 and 65535, got 70000");
    CHECK(load_error("ping_interval: \"2x\"\n") ==
          "herald.conf:1: invalid duration \"2x\" for \"ping_interval\" (use a string such as \"2m\" or \"500ms\")");
    CHECK(load_error("listen: \"nohost\"\n") == "herald.conf:1: could not parse address string \"nohost\" for \"listen\"");
}

TEST_CASE("config: options Herald does not implement are refused, harmless ones warned", "[config][loader]") {
    std::string error;
    MemoryEnvironment environment;
    Result<Options> loaded = load_config_text("cluster {\n  port: 6222\n}\n", "herald.conf", Options{}, error, environment);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == make_error_code(Errc::unsupported));
    CHECK(error == "herald.conf:1: \"cluster\" is not supported by herald yet");
    const Options options = load_ok("syslog: true\n");
    REQUIRE(options.config_warnings.size() == 1);
}

TEST_CASE("config: a top-level variable definition is not an unknown key", "[config][loader]") {
    const Options options = load_ok("TOKEN = \"abc\"\nauthorization { token: $TOKEN }\n");
    CHECK(options.token == "abc");
}

TEST_CASE("config: authorization with a single user, a token, a timeout", "[config][loader]") {
    Options options = load_ok("authorization {\n user: a\n password: b\n timeout: 3\n}\n");
    CHECK(options.username == "a");
    CHECK(options.password == "b");
    CHECK(options.auth_timeout == Duration::seconds(3));
    options = load_ok("authorization { token: t, timeout: 0.5 }\n");
    CHECK(options.token == "t");
    CHECK(options.auth_timeout == Duration::milliseconds(500));
    CHECK(load_error("authorization {\n user: a\n token: t\n}\n") == "herald.conf:1: cannot have a user/pass and token");
    CHECK(load_error("authorization {\n  prot: 1\n}\n") == "herald.conf:2: unknown field \"prot\" in authorization");
}

TEST_CASE("config: a string authorization timeout becomes one second, as nats-server", "[config][loader]") {
    const Options options = load_ok("authorization { token: t, timeout: \"5s\" }\n");
    CHECK(options.auth_timeout == Duration::seconds(1));
    CHECK(options.config_warnings.size() == 1);
}

TEST_CASE("config: users get default_permissions unless they have their own", "[config][loader]") {
    const Options options = load_ok(
        "authorization {\n"
        "  default_permissions: { publish: \"pub.>\" }\n"
        "  users: [\n"
        "    {user: alice, password: a, permissions: {subscribe: {allow: [\"foo.*\", \"q v1\"], deny: \"foo.bar\"}}}\n"
        "    {user: bob, password: b}\n"
        "  ]\n"
        "}\n"
        "no_auth_user: bob\n");
    REQUIRE(options.users.size() == 2);
    const User& alice = options.users[0];
    REQUIRE(alice.permissions.has_value());
    REQUIRE(alice.permissions->subscribe.has_value());
    CHECK(*alice.permissions->subscribe->allow == std::vector<std::string>{"foo.*", "q v1"});
    CHECK(alice.permissions->subscribe->deny == std::vector<std::string>{"foo.bar"});
    CHECK_FALSE(alice.permissions->publish.has_value());
    const User& bob = options.users[1];
    REQUIRE(bob.permissions.has_value());
    CHECK(*bob.permissions->publish->allow == std::vector<std::string>{"pub.>"});
    CHECK(bob.account.empty());
    CHECK(options.no_auth_user == "bob");
}

TEST_CASE("config: permission aliases and allow_responses follow nats-server", "[config][loader]") {
    const Options options = load_ok(
        "authorization { users: [\n"
        "  {user: a, password: a, permissions: {pub: {deny: \"x\"}, sub: [\"y\"], allow_responses: true}}\n"
        "  {user: b, password: b, permissions: {import: \"i\", export: \"e\", publish_allow_responses: {max: 5, ttl: \"1m\"}}}\n"
        "  {user: c, password: c, permissions: {allow_responses: {max_msgs: -1, expires: \"-1s\"}}}\n"
        "]}\n");
    const Permissions& a = *options.users[0].permissions;
    CHECK(a.publish->deny == std::vector<std::string>{"x"});
    // allow_responses turns off the blanket publish allow.
    REQUIRE(a.publish->allow.has_value());
    CHECK(a.publish->allow->empty());
    CHECK(a.allow_responses->max_msgs == 1);
    CHECK(a.allow_responses->expires == Duration::seconds(120));
    const Permissions& b = *options.users[1].permissions;
    CHECK(*b.publish->allow == std::vector<std::string>{"i"});
    CHECK(*b.subscribe->allow == std::vector<std::string>{"e"});
    CHECK(b.allow_responses->max_msgs == 5);
    CHECK(b.allow_responses->expires == Duration::seconds(60));
    const Permissions& c = *options.users[2].permissions;
    CHECK(c.allow_responses->max_msgs == -1);
    CHECK(c.allow_responses->expires == Duration{0});
}

TEST_CASE("config: bad permissions are errors with their line", "[config][loader]") {
    CHECK(load_error("authorization { users: [\n {user: a, permissions: {publish: \"foo..bar\"}}\n]}\n") ==
          "herald.conf:2: subject \"foo..bar\" is not a valid subject");
    CHECK(load_error("authorization { users: [\n {user: a, permissions: {publish: {allow: \"a\", only: \"b\"}}}\n]}\n") ==
          "herald.conf:2: unknown field \"only\" in subject permissions, only 'allow' or 'deny' are permitted");
    CHECK(load_error("authorization { users: [\n {user: a, permissions: {pubs: \"a\"}}\n]}\n") ==
          "herald.conf:2: unknown field \"pubs\" in permissions");
    CHECK(load_error("authorization { users: [\n {password: a}\n]}\n") == "herald.conf:2: user entry requires a user");
}

TEST_CASE("config: accounts hold users in their own account", "[config][loader]") {
    const Options options = load_ok(
        "accounts {\n"
        "  A: { users: [ {user: a, password: a} ], jetstream: enabled }\n"
        "  B: {\n"
        "    default_permissions: { subscribe: \"b.>\" }\n"
        "    users: [ {user: b, password: b} ]\n"
        "  }\n"
        "}\n"
        "no_auth_user: b\n");
    REQUIRE(options.accounts.size() == 2);
    CHECK(options.accounts[0].name == "A");
    CHECK(options.accounts[0].jetstream);
    CHECK(options.accounts[0].users[0].account == "A");
    CHECK(options.accounts[1].users[0].account == "B");
    CHECK(*options.accounts[1].users[0].permissions->subscribe->allow == std::vector<std::string>{"b.>"});
}

TEST_CASE("config: account and user errors name the problem", "[config][loader]") {
    CHECK(load_error("accounts {\n A: { users: [ {user: a} ], exports: [] }\n}\n") ==
          "herald.conf:2: \"exports\" in account \"A\" is not supported by herald yet");
    CHECK(load_error("accounts {\n A: { users: [ {user: a} ] }\n B: { users: [ {user: a} ] }\n}\n") ==
          "duplicate user \"a\" detected");
    CHECK(load_error("authorization { users: [ {user: a} ] }\n\nno_auth_user: zed\n") ==
          "herald.conf:3: no_auth_user: \"zed\" not present as user or nkey in authorization block or account configuration");
}

TEST_CASE("config: jetstream as a boolean, a word or a map", "[config][loader]") {
    CHECK(load_ok("jetstream: true\n").jetstream);
    CHECK(load_ok("jetstream: enabled\n").jetstream);
    CHECK_FALSE(load_ok("jetstream: disabled\n").jetstream);
    const Options options = load_ok("jetstream {\n  store_dir: \"/data/js\"\n  max_mem: 1G\n  max_file: 10G\n  domain: hub\n}\n");
    CHECK(options.jetstream);
    CHECK(options.store_dir == "/data/js");
    CHECK(options.jetstream_max_memory == 1000000000);
    CHECK(options.jetstream_max_store == 10000000000);
    CHECK(options.jetstream_domain == "hub");
    CHECK_FALSE(load_ok("jetstream { enabled: false, store: /x }\n").jetstream);
    CHECK(load_ok("store_dir: /y\n").store_dir == "/y");
}

TEST_CASE("config: jetstream sync_interval picks lazy fsync; always or absent is durable", "[config][loader]") {
    CHECK(load_ok("jetstream {}\n").jetstream_sync_interval.ns == 0);
    CHECK(load_ok("jetstream { sync_interval: \"2m\" }\n").jetstream_sync_interval.ns == 120'000'000'000);
    CHECK(load_ok("jetstream { sync_interval: 10ms }\n").jetstream_sync_interval.ns == 10'000'000);
    CHECK(load_ok("jetstream { sync_interval: always }\n").jetstream_sync_interval.ns == 0);
    CHECK(load_error("jetstream { sync_interval: soon }\n").find("invalid duration") != std::string::npos);
}

TEST_CASE("config: max_payload may not exceed max_pending", "[config][loader]") {
    CHECK(load_error("max_payload: 10MB\nmax_pending: 1MB\n") ==
          "max_payload (10485760) cannot be higher than max_pending (1048576)");
}

TEST_CASE("config: load_config_file reads through the environment and records the path", "[config][loader]") {
    MemoryEnvironment environment;
    environment.files["conf/herald.conf"] = "port: 4999\ninclude extra.conf\n";
    environment.files["conf/extra.conf"] = "server_name: extra\n";
    std::string error;
    Result<Options> loaded = load_config_file("conf/herald.conf", Options{}, error, environment);
    INFO(error);
    REQUIRE(loaded.has_value());
    CHECK(loaded->port == 4999);
    CHECK(loaded->server_name == "extra");
    CHECK(loaded->config_file == "conf/herald.conf");
    Result<Options> missing = load_config_file("conf/none.conf", Options{}, error, environment);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() == make_error_code(Errc::file_error));
}

TEST_CASE("config: split_host_port handles names, IPv4, bracketed IPv6 and an empty host", "[config][loader]") {
    std::string host;
    int port = 0;
    CHECK(split_host_port("localhost:4222", host, port));
    CHECK((host == "localhost" && port == 4222));
    CHECK(split_host_port("[::1]:5000", host, port));
    CHECK((host == "::1" && port == 5000));
    CHECK(split_host_port(":6000", host, port));
    CHECK((host.empty() && port == 6000));
    CHECK_FALSE(split_host_port("::1:5000", host, port));
    CHECK_FALSE(split_host_port("host:", host, port));
}

}  // namespace herald::config

namespace herald::config {

TEST_CASE("config: a password that looks like bcrypt but is malformed is refused with its line", "[config][loader]") {
    CHECK(load_error("authorization {\n  users: [\n    {user: a, password: \"$2a$11$tooshort\"}\n  ]\n}\n") ==
          "herald.conf:3: \"password\" looks like a bcrypt hash but is not a valid one");
    const Options options = load_ok("authorization { user: a, password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG }\n");
    CHECK(options.password == "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
}

}  // namespace herald::config
