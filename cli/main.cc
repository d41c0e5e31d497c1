// herald: the command-line client of Herald and any NATS server. Subcommands are modelled on the
// nats CLI (pub, sub, req, reply, server ping/info, bench, stream, consumer, kv, object) with its
// flag names; see docs/cli.md. Exit status: 0 ok, 1 the operation failed, 2 a bad command line.
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/session.h"

namespace herald::cli {
namespace {

constexpr std::string_view version_text = "herald 0.1.0";

std::string flag_lines(std::span<const FlagSpec> flags) {
    std::string out;
    for (const FlagSpec& flag : flags) {
        std::string left = flag.short_name != 0
                               ? fmt::format("-{}, --{}", flag.short_name, flag.long_name)
                               : fmt::format("    --{}", flag.long_name);
        if (!flag.value_name.empty()) left += fmt::format(" {}", flag.value_name);
        out += fmt::format("  {:<28} {}\n", left, flag.help);
    }
    return out;
}

void print_main_help() {
    std::string out =
        "herald: a NATS command-line client (for Herald and nats-server)\n\n"
        "Usage: herald [global flags] <command> [flags] [args]\n\nCommands:\n";
    for (const Command& command : commands()) {
        out += fmt::format(
            "  {:<28} {}\n", fmt::format("{} {}", command.name, command.synopsis), command.summary);
    }
    out += "\nGlobal flags (accepted before or after the command):\n";
    out += flag_lines(global_flags());
    out +=
        "\nExamples:\n"
        "  herald sub 'orders.>' &\n"
        "  herald pub orders.new 'hello {{Count}}' --count 3\n"
        "  herald -s nats://127.0.0.1:4222 server info\n"
        "  herald bench test --pub 1 --sub 1 --msgs 1000000 --size 16\n"
        "  herald stream add ORDERS --subjects 'orders.*' --defaults\n"
        "  herald consumer add ORDERS NEW --defaults && herald consumer next ORDERS NEW\n"
        "  herald kv add CONFIG && herald kv put CONFIG user bob && herald kv get CONFIG user\n"
        "  herald object put FILES ./report.pdf\n"
        "  herald bench js.test --js --pub 1 --sub 1 --msgs 100000\n"
        "\nExit status: 0 ok, 1 the operation failed (connection, timeout, no responders, a\n"
        "JetStream error, printed as 'description (err_code)'), 2 a bad command line.\n"
        "Run 'herald <command> --help' for a command's flags.\n";
    std::fputs(out.c_str(), stdout);
}

void print_command_help(const Command& command) {
    std::string out = fmt::format("Usage: herald {}{}{} [flags]\n\n{}\n\n{}\n",
                                  command.name,
                                  command.synopsis.empty() ? "" : " ",
                                  command.synopsis,
                                  command.summary,
                                  command.details);
    if (!command.flags.empty()) out += "\nFlags:\n" + flag_lines(command.flags);
    out += "\nGlobal flags:\n" + flag_lines(global_flags());
    out += fmt::format("\nExamples:\n{}\n", command.examples);
    std::fputs(out.c_str(), stdout);
}

// Command words that open a group: "stream add", "kv put", ...
bool is_group(std::string_view word) {
    for (const Command& command : commands()) {
        const auto space = command.name.find(' ');
        if (space != std::string_view::npos && command.name.substr(0, space) == word) return true;
    }
    return false;
}

// "herald stream --help": the group's commands, one line each.
void print_group_help(std::string_view group) {
    std::string out =
        fmt::format("Usage: herald {} <command> [flags] [args]\n\nCommands:\n", group);
    for (const Command& command : commands()) {
        if (!command.name.starts_with(std::string(group) + " ")) continue;
        out += fmt::format(
            "  {:<40} {}\n", fmt::format("{} {}", command.name, command.synopsis), command.summary);
    }
    out += fmt::format("\nRun 'herald {} <command> --help' for a command's flags and examples.\n",
                       group);
    std::fputs(out.c_str(), stdout);
}

std::string group_commands(std::string_view group) {
    std::string out;
    for (const Command& command : commands()) {
        if (!command.name.starts_with(std::string(group) + " ")) continue;
        if (!out.empty()) out += ", ";
        out += command.name.substr(group.size() + 1);
    }
    return out;
}

const Command* find_command(std::string_view name) {
    for (const Command& command : commands()) {
        if (command.name == name) return &command;
    }
    return nullptr;
}

// Fills GlobalOptions from the parsed flags and $NATS_URL; false (with `error`) on a bad value.
bool read_global_options(const ParsedArgs& args, GlobalOptions& options, std::string& error) {
    std::string servers;
    if (const auto value = args.value("server")) {
        servers = *value;
    } else if (const char* env_url = std::getenv("NATS_URL"); env_url != nullptr && *env_url != 0) {
        servers = env_url;
    }
    if (!servers.empty()) {
        options.servers.clear();
        std::size_t start = 0;
        while (start <= servers.size()) {
            const auto comma = std::min(servers.find(',', start), servers.size());
            if (comma > start) options.servers.push_back(servers.substr(start, comma - start));
            start = comma + 1;
        }
        if (options.servers.empty()) {
            error = fmt::format("bad value for --server: '{}'", servers);
            return false;
        }
    }
    if (const auto value = args.value("user")) options.user = *value;
    if (const auto value = args.value("password")) options.password = *value;
    if (const auto value = args.value("token")) options.token = *value;
    if (const auto value = args.value("name")) options.name = *value;
    const auto timeout = duration_flag(args, "timeout", default_timeout, error);
    if (!timeout) return false;
    if (timeout->ns == 0) {
        error = "bad value for --timeout: must be more than 0";
        return false;
    }
    options.timeout = *timeout;
    return true;
}

int run_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    // Find the command words: the first positionals, skipping global flags and their values.
    std::vector<std::size_t> word_indexes;
    for (std::size_t i = 0; i < args.size() && word_indexes.size() < 3; ++i) {
        const std::string& arg = args[i];
        if (arg == "--") break;
        if (arg.size() >= 2 && arg[0] == '-') {
            const FlagSpec* flag = find_flag(global_flags(), arg.substr(0, arg.find('=')));
            if (flag != nullptr && !flag->value_name.empty()
                && arg.find('=') == std::string::npos) {
                ++i;
            }
            continue;
        }
        word_indexes.push_back(i);
        // "help stream add" has three words, "stream add" two, "pub" one.
        const bool help = args[word_indexes.front()] == "help";
        const std::size_t group_position = help ? 2 : 1;
        if (word_indexes.size() == group_position && !is_group(arg)) break;
        if (word_indexes.size() == 1 && help) continue;
        if (word_indexes.size() > group_position) break;
    }
    std::string name;
    for (const std::size_t index : word_indexes)
        name += (name.empty() ? "" : " ") + args[index];
    for (auto it = word_indexes.rbegin(); it != word_indexes.rend(); ++it) {
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(*it));
    }

    if (name.starts_with("help")) {
        const std::string topic = name.size() > 5 ? name.substr(5) : "";
        const Command* command = find_command(topic);
        if (command != nullptr) {
            print_command_help(*command);
        } else if (is_group(topic)) {
            print_group_help(topic);
        } else {
            print_main_help();
        }
        return exit_ok;
    }
    const Command* command = find_command(name);
    if (command == nullptr) {
        std::string error;
        const auto globals = parse_args(args, global_flags(), error);
        if (globals && globals->has("version")) {
            std::printf("%s\n", std::string(version_text).c_str());
            return exit_ok;
        }
        if (name.empty() || (!is_group(name) && globals && globals->has("help"))) {
            print_main_help();
            return name.empty() && !(globals && globals->has("help")) ? exit_usage : exit_ok;
        }
        if (is_group(name) && globals && globals->has("help")) {
            print_group_help(name);
            return exit_ok;
        }
        if (is_group(name)) {
            std::fprintf(stderr,
                         "herald: '%s' needs a subcommand: %s\n",
                         name.c_str(),
                         group_commands(name).c_str());
        } else if (is_group(name.substr(0, name.find(' ')))) {
            std::fprintf(stderr,
                         "herald: unknown command '%s' (%s has: %s)\n",
                         name.c_str(),
                         name.substr(0, name.find(' ')).c_str(),
                         group_commands(name.substr(0, name.find(' '))).c_str());
        } else {
            std::fprintf(stderr, "herald: unknown command '%s'\n", name.c_str());
        }
        std::fprintf(stderr, "Run 'herald --help' for the list of commands.\n");
        return exit_usage;
    }

    std::vector<FlagSpec> specs(global_flags().begin(), global_flags().end());
    specs.insert(specs.end(), command->flags.begin(), command->flags.end());
    std::string error;
    const auto parsed = parse_args(args, specs, error);
    if (!parsed) return usage_error(command->name, error);
    if (parsed->has("help")) {
        print_command_help(*command);
        return exit_ok;
    }
    const std::size_t positionals = parsed->positionals().size();
    if (positionals < command->positionals_min) {
        return usage_error(
            command->name,
            fmt::format("missing argument: herald {} {}", command->name, command->synopsis));
    }
    if (positionals > command->positionals_max) {
        return usage_error(command->name,
                           fmt::format("unexpected argument '{}'",
                                       parsed->positionals()[command->positionals_max]));
    }
    GlobalOptions global;
    if (!read_global_options(*parsed, global, error)) return usage_error(command->name, error);
    return command->run(global, *parsed);
}

}  // namespace
}  // namespace herald::cli

int main(int argc, char** argv) {
    return herald::cli::run_main(argc, argv);
}
