// A small Go-flag-compatible argv parser (Go's flag package as nats-server main.go uses it). It
// is hand-written rather than boost::program_options, which does not accept `-js`, `-DV` or
// single-dash long flags; nothing here throws.
#include "engine/config/command_line.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/config/duration.h"
#include "engine/config/errc.h"
#include "engine/config/loader.h"

namespace herald::config {
namespace {

enum class FlagId {
    addr, port, name, pid, http_port, config, test, client_advertise, ports_file_dir, busy_poll, log,
    logtime, debug, trace, trace_verbose, debug_trace, debug_trace_verbose, jetstream, store_dir,
    user, pass, auth, help, version,
};

enum class FlagKind { boolean, text, integer };

struct FlagSpec {
    FlagId id;
    FlagKind kind;
    std::string_view names;        // space-separated names without dashes
    std::string_view usage;        // the left column of help_text()
    std::string_view description;  // the right column
    std::string_view section;      // help_text() heading this flag starts, if any
};

// In help order. The names are nats-server's (main.go usageStr).
constexpr FlagSpec flag_specs[] = {
    {FlagId::addr, FlagKind::text, "a addr net", "-a, --addr, --net <host>", "Bind to host address (default: 0.0.0.0)", "Server Options"},
    {FlagId::port, FlagKind::integer, "p port", "-p, --port <port>", "Use port for clients (default: 4222)", ""},
    {FlagId::name, FlagKind::text, "n name server_name", "-n, --name, --server_name <name>", "Server name (default: auto)", ""},
    {FlagId::pid, FlagKind::text, "P pid", "-P, --pid <file>", "File to store PID", ""},
    {FlagId::http_port, FlagKind::integer, "m http_port", "-m, --http_port <port>", "Use port for http monitoring", ""},
    {FlagId::config, FlagKind::text, "c config", "-c, --config <file>", "Configuration file", ""},
    {FlagId::test, FlagKind::boolean, "t", "-t", "Test configuration and exit", ""},
    {FlagId::client_advertise, FlagKind::text, "client_advertise", "    --client_advertise <string>", "Client URL to advertise to other servers", ""},
    {FlagId::ports_file_dir, FlagKind::text, "ports_file_dir", "    --ports_file_dir <dir>", "Creates a ports file in the specified directory (<executable_name>_<pid>.ports)", ""},
    {FlagId::busy_poll, FlagKind::text, "busy_poll", "    --busy_poll <duration>", "Herald: poll this long before sleeping, 0 = off (default: 50us)", ""},
    {FlagId::log, FlagKind::text, "l log", "-l, --log <file>", "File to redirect log output", "Logging Options"},
    {FlagId::logtime, FlagKind::boolean, "T logtime", "-T, --logtime", "Timestamp log entries (default: true)", ""},
    {FlagId::debug, FlagKind::boolean, "D debug", "-D, --debug", "Enable debugging output", ""},
    {FlagId::trace, FlagKind::boolean, "V trace", "-V, --trace", "Trace the raw protocol", ""},
    {FlagId::trace_verbose, FlagKind::boolean, "VV", "-VV", "Verbose trace (traces system account as well)", ""},
    {FlagId::debug_trace, FlagKind::boolean, "DV", "-DV", "Debug and trace", ""},
    {FlagId::debug_trace_verbose, FlagKind::boolean, "DVV", "-DVV", "Debug and verbose trace (traces system account as well)", ""},
    {FlagId::jetstream, FlagKind::boolean, "js jetstream", "-js, --jetstream", "Enable JetStream functionality", "JetStream Options"},
    {FlagId::store_dir, FlagKind::text, "sd store_dir", "-sd, --store_dir <dir>", "Set the storage directory", ""},
    {FlagId::user, FlagKind::text, "user", "    --user <user>", "User required for connections", "Authorization Options"},
    {FlagId::pass, FlagKind::text, "pass", "    --pass <password>", "Password required for connections", ""},
    {FlagId::auth, FlagKind::text, "auth", "    --auth <token>", "Authorization token required for connections", ""},
    {FlagId::help, FlagKind::boolean, "h help", "-h, --help", "Show this message", "Common Options"},
    {FlagId::version, FlagKind::boolean, "v version", "-v, --version", "Show version", ""},
};

// nats-server 2.9 flags Herald does not implement yet: named so the message is not "unknown".
constexpr std::string_view unsupported_flags[] = {
    "ms", "https_port", "sl", "signal", "s", "syslog", "r", "remote_syslog", "log_size_limit",
    "max_traced_msg_len", "tls", "tlscert", "tlskey", "tlsverify", "tlscacert", "routes",
    "cluster", "cluster_name", "no_advertise", "cluster_advertise", "connect_retries",
    "cluster_listen", "profile", "help_tls",
};

const FlagSpec* find_flag(std::string_view name) {
    for (const FlagSpec& spec : flag_specs) {
        std::string_view names = spec.names;
        while (!names.empty()) {
            const std::size_t space = names.find(' ');
            if (names.substr(0, space) == name) return &spec;
            if (space == std::string_view::npos) break;
            names.remove_prefix(space + 1);
        }
    }
    return nullptr;
}

// Go strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view text) {
    constexpr std::string_view truths[] = {"1", "t", "T", "true", "TRUE", "True"};
    constexpr std::string_view falsehoods[] = {"0", "f", "F", "false", "FALSE", "False"};
    if (std::find(std::begin(truths), std::end(truths), text) != std::end(truths)) return true;
    if (std::find(std::begin(falsehoods), std::end(falsehoods), text) != std::end(falsehoods)) {
        return false;
    }
    return std::nullopt;
}

struct FlagValue {
    const FlagSpec* spec = nullptr;
    std::string written;     // the flag as given, e.g. "-p", for messages
    std::string text;        // text and integer flags
    std::int64_t integer = 0;
    bool boolean = true;
};

// Go flag.FlagSet.parseOne for every argument. Stops at "--"; a word that is not a flag is an
// error (nats-server takes no positional arguments).
Status scan_flags(std::span<const char* const> arguments, std::vector<FlagValue>& flags,
                  std::string& error_message) {
    for (std::size_t index = 0; index < arguments.size(); index++) {
        const std::string_view argument = arguments[index];
        if (argument == "--") break;
        if (argument.size() < 2 || argument[0] != '-') {
            error_message = "unexpected argument \"" + std::string(argument) + "\"";
            return Errc::invalid_flag;
        }
        std::string_view name = argument.substr(argument[1] == '-' ? 2 : 1);
        if (name.empty() || name[0] == '-' || name[0] == '=') {
            error_message = "bad flag syntax: " + std::string(argument);
            return Errc::invalid_flag;
        }
        std::optional<std::string_view> inline_value;
        if (const std::size_t equals = name.find('='); equals != std::string_view::npos) {
            inline_value = name.substr(equals + 1);
            name = name.substr(0, equals);
        }
        const std::string written = "-" + std::string(name);
        const FlagSpec* spec = find_flag(name);
        if (spec == nullptr) {
            const bool known = std::find(std::begin(unsupported_flags), std::end(unsupported_flags),
                                         name) != std::end(unsupported_flags);
            error_message = known ? "flag " + written + " is not supported by herald yet"
                                  : "flag provided but not defined: " + written;
            return known ? Errc::unsupported : Errc::invalid_flag;
        }
        FlagValue flag;
        flag.spec = spec;
        flag.written = written;
        if (spec->kind == FlagKind::boolean) {
            if (inline_value) {
                std::optional<bool> parsed = parse_bool(*inline_value);
                if (!parsed) {
                    error_message = "invalid boolean value \"" + std::string(*inline_value) +
                                    "\" for " + written + ": parse error";
                    return Errc::invalid_flag;
                }
                flag.boolean = *parsed;
            }
            flags.push_back(std::move(flag));
            continue;
        }
        if (!inline_value) {
            if (index + 1 >= arguments.size()) {
                error_message = "flag needs an argument: " + written;
                return Errc::invalid_flag;
            }
            inline_value = arguments[++index];
        }
        flag.text = std::string(*inline_value);
        if (spec->kind == FlagKind::integer) {
            const char* first = flag.text.data();
            const char* last = first + flag.text.size();
            auto [end, error] = std::from_chars(first, last, flag.integer);
            if (error != std::errc() || end != last || flag.text.empty()) {
                error_message = "invalid value \"" + flag.text + "\" for flag " + written + ": parse error";
                return Errc::invalid_flag;
            }
        }
        flags.push_back(std::move(flag));
    }
    return ok();
}

// Flags override the config file (nats-server MergeOptions with the flag snapshot).
Status apply_flag(const FlagValue& flag, CommandLine& command_line, std::string& error_message) {
    Options& options = command_line.options;
    auto port = [&](int& target) -> Status {
        if (flag.integer < -1 || flag.integer > 65535) {
            error_message = "invalid value \"" + flag.text + "\" for flag " + flag.written +
                            ": port must be between -1 and 65535";
            return Errc::invalid_flag;
        }
        target = static_cast<int>(flag.integer);
        return ok();
    };
    switch (flag.spec->id) {
        case FlagId::addr: options.host = flag.text; break;
        case FlagId::port: return port(options.port);
        case FlagId::name: options.server_name = flag.text; break;
        case FlagId::pid: options.pid_file = flag.text; break;
        case FlagId::http_port: return port(options.http_port);
        case FlagId::config: break;  // loaded before the flags are applied
        case FlagId::test: command_line.test_config = flag.boolean; break;
        case FlagId::client_advertise: options.client_advertise = flag.text; break;
        case FlagId::ports_file_dir: options.ports_file_dir = flag.text; break;
        case FlagId::busy_poll: {
            const std::optional<std::int64_t> ns = parse_go_duration(flag.text);
            if (!ns || *ns < 0 || *ns > 1000000) {
                error_message = "invalid value \"" + flag.text + "\" for flag " + flag.written +
                                ": a duration from 0 to 1ms, such as \"50us\"";
                return Errc::invalid_flag;
            }
            options.busy_poll = Duration{static_cast<std::uint64_t>(*ns)};
            break;
        }
        case FlagId::log: options.log_file = flag.text; break;
        case FlagId::logtime: options.logtime = flag.boolean; break;
        case FlagId::debug: options.debug = flag.boolean; break;
        case FlagId::trace: options.trace = flag.boolean; break;
        case FlagId::trace_verbose:
            options.trace = flag.boolean;
            options.trace_verbose = flag.boolean;
            break;
        case FlagId::debug_trace:
            options.debug = flag.boolean;
            options.trace = flag.boolean;
            break;
        case FlagId::debug_trace_verbose:
            options.debug = flag.boolean;
            options.trace = flag.boolean;
            options.trace_verbose = flag.boolean;
            break;
        case FlagId::jetstream: options.jetstream = flag.boolean; break;
        case FlagId::store_dir: options.store_dir = flag.text; break;
        case FlagId::user: options.username = flag.text; break;
        case FlagId::pass: options.password = flag.text; break;
        case FlagId::auth: options.token = flag.text; break;
        case FlagId::help: command_line.show_help = flag.boolean; break;
        case FlagId::version: command_line.show_version = flag.boolean; break;
    }
    return ok();
}

}  // namespace

Result<CommandLine> parse_command_line(std::span<const char* const> arguments,
                                       std::string& error_message,
                                       const Environment& environment) {
    std::vector<FlagValue> flags;
    Status scanned = scan_flags(arguments, flags, error_message);
    if (!scanned) return scanned.error();

    CommandLine command_line;
    std::string config_file;
    for (const FlagValue& flag : flags) {
        if (flag.spec->id == FlagId::help) command_line.show_help = flag.boolean;
        if (flag.spec->id == FlagId::version) command_line.show_version = flag.boolean;
        if (flag.spec->id == FlagId::config) config_file = flag.text;
    }
    if (command_line.show_help || command_line.show_version) return command_line;

    if (!config_file.empty()) {
        Result<Options> loaded =
            load_config_file(config_file, Options{}, error_message, environment);
        if (!loaded) return loaded.error();
        command_line.options = std::move(*loaded);
    }
    for (const FlagValue& flag : flags) {
        Status applied = apply_flag(flag, command_line, error_message);
        if (!applied) return applied.error();
    }
    Status valid = validate_options(command_line.options, error_message);
    if (!valid) return valid.error();
    if (command_line.test_config && !command_line.options.config_warnings.empty()) {
        error_message.clear();
        for (const std::string& warning : command_line.options.config_warnings) {
            if (!error_message.empty()) error_message += "\n";
            error_message += warning;
        }
        return Errc::invalid_value;
    }
    return command_line;
}

std::string help_text() {
    std::string text = "Usage: herald-server [options]\n";
    for (const FlagSpec& spec : flag_specs) {
        if (!spec.section.empty()) {
            text += "\n";
            text += spec.section;
            text += ":\n";
        }
        std::string line = "    ";
        line += spec.usage;
        constexpr std::size_t description_column = 41;
        if (line.size() + 1 < description_column) {
            line.append(description_column - line.size(), ' ');
        } else {
            line += "  ";
        }
        line += spec.description;
        text += line;
        text += "\n";
    }
    return text;
}

}  // namespace herald::config
