// Tests of the Go-flag-style command line (engine/config/command_line.h): syntax forms, flags
// overriding the config file, and the messages of bad flags.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/config/command_line.h"
#include "engine/config/errc.h"

namespace herald::config {
namespace {

Result<CommandLine> run(std::vector<const char*> arguments, std::string& error,
                        const MemoryEnvironment& environment = {}) {
    return parse_command_line(arguments, error, environment);
}

CommandLine run_ok(std::vector<const char*> arguments, const MemoryEnvironment& environment = {}) {
    std::string error;
    Result<CommandLine> parsed = run(std::move(arguments), error, environment);
    INFO(error);
    REQUIRE(parsed.has_value());
    return std::move(*parsed);
}

std::string run_error(std::vector<const char*> arguments) {
    std::string error;
    Result<CommandLine> parsed = run(std::move(arguments), error);
    REQUIRE_FALSE(parsed.has_value());
    return error;
}

}  // namespace

TEST_CASE("command line: one or two dashes, a separate value or '=value'", "[config][command_line]") {
    CHECK(run_ok({"-p", "4333"}).options.port == 4333);
    CHECK(run_ok({"--port", "4334"}).options.port == 4334);
    CHECK(run_ok({"-p=4335"}).options.port == 4335);
    CHECK(run_ok({"--port=4336"}).options.port == 4336);
    CHECK(run_ok({"-port", "4337"}).options.port == 4337);
    CHECK(run_ok({"-p", "-1"}).options.port == -1);
}

TEST_CASE("command line: nats-server flags set their options", "[config][command_line]") {
    const CommandLine parsed = run_ok({"-a", "127.0.0.1", "-n", "n1", "-m", "8222", "-l", "/tmp/l",
                                       "-P", "/tmp/p", "-js", "-sd", "/tmp/js", "--user", "u",
                                       "--pass", "p", "--ports_file_dir", "/tmp", "--client_advertise",
                                       "nats://x:4222", "-T=false"});
    const Options& options = parsed.options;
    CHECK(options.host == "127.0.0.1");
    CHECK(options.server_name == "n1");
    CHECK(options.http_port == 8222);
    CHECK(options.log_file == "/tmp/l");
    CHECK(options.pid_file == "/tmp/p");
    CHECK(options.jetstream);
    CHECK(options.store_dir == "/tmp/js");
    CHECK(options.username == "u");
    CHECK(options.password == "p");
    CHECK(options.ports_file_dir == "/tmp");
    CHECK(options.client_advertise == "nats://x:4222");
    CHECK_FALSE(options.logtime);
    CHECK(run_ok({"--auth", "tok"}).options.token == "tok");
    CHECK(run_ok({"--net", "h"}).options.host == "h");
    CHECK(run_ok({"--server_name", "s"}).options.server_name == "s");
}

TEST_CASE("command line: -D, -V, -DV, -VV and -DVV set debug and trace", "[config][command_line]") {
    CHECK(run_ok({"-D"}).options.debug);
    CHECK_FALSE(run_ok({"-D"}).options.trace);
    CHECK(run_ok({"-V"}).options.trace);
    const Options dv = run_ok({"-DV"}).options;
    CHECK((dv.debug && dv.trace && !dv.trace_verbose));
    const Options vv = run_ok({"-VV"}).options;
    CHECK((!vv.debug && vv.trace && vv.trace_verbose));
    const Options dvv = run_ok({"-DVV"}).options;
    CHECK((dvv.debug && dvv.trace && dvv.trace_verbose));
}

TEST_CASE("command line: flags override the config file", "[config][command_line]") {
    MemoryEnvironment environment;
    environment.files["h.conf"] = "port: 1000\nserver_name: from_file\ndebug: false\n";
    const CommandLine parsed = run_ok({"-p", "2000", "-c", "h.conf", "-D"}, environment);
    CHECK(parsed.options.port == 2000);
    CHECK(parsed.options.server_name == "from_file");
    CHECK(parsed.options.debug);
    CHECK(parsed.options.config_file == "h.conf");
}

TEST_CASE("command line: bad flags and values give Go flag messages", "[config][command_line]") {
    CHECK(run_error({"-p", "abc"}) == "invalid value \"abc\" for flag -p: parse error");
    CHECK(run_error({"--bogus"}) == "flag provided but not defined: -bogus");
    CHECK(run_error({"-p"}) == "flag needs an argument: -p");
    CHECK(run_error({"-D=maybe"}) == "invalid boolean value \"maybe\" for -D: parse error");
    CHECK(run_error({"stray"}) == "unexpected argument \"stray\"");
    CHECK(run_error({"--routes", "nats://a:6222"}) == "flag -routes is not supported by herald yet");
    CHECK(run_error({"-p", "70000"}) == "invalid value \"70000\" for flag -p: port must be between -1 and 65535");
    CHECK(run_error({"---p"}) == "bad flag syntax: ---p");
    CHECK(run_error({"--busy_poll", "5ms"}) ==
          "invalid value \"5ms\" for flag -busy_poll: a duration from 0 to 1ms, such as \"50us\"");
    CHECK(run_error({"--busy_poll", "fast"}) ==
          "invalid value \"fast\" for flag -busy_poll: a duration from 0 to 1ms, such as \"50us\"");
}

TEST_CASE("command line: --busy_poll sets the loop's polling window", "[config][command_line]") {
    CHECK(run_ok({"--busy_poll", "0"}).options.busy_poll == Duration{});
    CHECK(run_ok({"--busy_poll=120us"}).options.busy_poll == Duration::microseconds(120));
}

TEST_CASE("command line: a broken config file is reported with file:line", "[config][command_line]") {
    MemoryEnvironment environment;
    environment.files["bad.conf"] = "port: 1\nprot: 2\n";
    std::string error;
    Result<CommandLine> parsed = run({"-c", "bad.conf"}, error, environment);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(error == "bad.conf:2: unknown field \"prot\"");
}

TEST_CASE("command line: -t fails on config warnings, as nats-server -t", "[config][command_line]") {
    MemoryEnvironment environment;
    environment.files["w.conf"] = "ping_interval: 120\n";
    std::string error;
    CHECK(run({"-c", "w.conf"}, error, environment).has_value());
    Result<CommandLine> tested = run({"-t", "-c", "w.conf"}, error, environment);
    REQUIRE_FALSE(tested.has_value());
    CHECK(error.rfind("w.conf:1: \"ping_interval\" is an integer", 0) == 0);
    environment.files["ok.conf"] = "ping_interval: \"2m\"\n";
    CHECK(run_ok({"-t", "-c", "ok.conf"}, environment).test_config);
}

TEST_CASE("command line: -h and -v stop before reading the config file", "[config][command_line]") {
    CHECK(run_ok({"-h", "-c", "missing.conf"}).show_help);
    CHECK(run_ok({"--version"}).show_version);
    CHECK(run_ok({"--help"}).show_help);
}

TEST_CASE("command line: the help text lists every flag with a description", "[config][command_line]") {
    const std::string help = help_text();
    for (const char* flag : {"-a, --addr, --net <host>", "-p, --port <port>", "--server_name", "-c, --config <file>",
                             "-js, --jetstream", "-sd, --store_dir <dir>", "-m, --http_port <port>", "-l, --log <file>",
                             "-P, --pid <file>", "-D, --debug", "-V, --trace", "-DV", "-VV", "-DVV", "-T, --logtime",
                             "--user <user>", "--pass <password>", "--auth <token>", "--ports_file_dir <dir>",
                             "--client_advertise <string>", "-t", "-v, --version", "-h, --help"}) {
        INFO(flag);
        CHECK(help.find(flag) != std::string::npos);
    }
}

}  // namespace herald::config
