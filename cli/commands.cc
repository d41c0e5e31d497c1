#include "cli/commands.h"

#include <cstdio>

#include <fmt/format.h>

namespace herald::cli {
namespace {

constexpr FlagSpec global_flag_table[] = {
    {"server",
     's',
     "URL",
     "NATS server URL(s), comma separated (default nats://127.0.0.1:4222, or $NATS_URL)"},
    {"user", 0, "USER", "username"},
    {"password", 0, "PASSWORD", "password"},
    {"token", 0, "TOKEN", "authentication token"},
    {"timeout",
     0,
     "DURATION",
     "connect and response timeout, a Go duration like 2s or 500ms (default 5s)"},
    {"name", 0, "NAME", "connection name shown by the server (default herald)"},
    {"help", 'h', "", "show help (also: herald <command> --help)"},
    {"version", 0, "", "show the version"},
};

constexpr FlagSpec pub_flags[] = {
    {"count", 0, "N", "publish N messages (default 1)"},
    {"sleep", 0, "DURATION", "wait this long between messages"},
    {"header", 'H', "KEY:VALUE", "add a header (repeatable)", true},
    {"reply", 0, "SUBJECT", "reply subject"},
};

constexpr FlagSpec sub_flags[] = {
    {"queue", 0, "GROUP", "join this queue group"},
    {"count", 0, "N", "exit after N messages"},
    {"raw", 0, "", "print only message bodies, one a line"},
};

constexpr FlagSpec req_flags[] = {
    {"header", 'H', "KEY:VALUE", "add a header (repeatable)", true},
    {"raw", 0, "", "print only the reply body"},
};

constexpr FlagSpec reply_flags[] = {
    {"echo", 0, "", "answer with the request's body and headers"},
    {"queue", 0, "GROUP", "queue group (default NATS-RPLY-22, as the nats CLI)"},
    {"count", 0, "N", "exit after answering N requests"},
    {"header", 'H', "KEY:VALUE", "add a header to each answer (repeatable)", true},
    {"raw", 0, "", "print only request bodies"},
};

constexpr FlagSpec ping_flags[] = {
    {"count", 0, "N", "number of pings (default 5)"},
};

constexpr FlagSpec bench_flags[] = {
    {"pub", 0, "N", "publisher connections (default 1); requesters with --request"},
    {"sub", 0, "N", "subscriber connections (default 0); responders with --request (default 1)"},
    {"msgs", 0, "N", "messages published in total, split over the publishers (default 100000)"},
    {"size", 0, "BYTES", "payload size, e.g. 16, 128, 1KB (default 128)"},
    {"request", 0, "", "request/reply latency instead of throughput"},
    {"warmup", 0, "N", "untimed requests per requester first, with --request (default 100)"},
    {"json", 0, "", "print one JSON object for reports (no progress bar)"},
    {"no-progress", 0, "", "no progress bar even on a terminal"},
};

constexpr std::string_view pub_details =
    "Publishes BODY (or standard input when BODY is omitted) to SUBJECT. The body and header\n"
    "values are templates: {{Count}} is the 1-based message number; also {{TimeStamp}},\n"
    "{{Unix}}, {{UnixNano}}, {{Time}}, {{ID}} and {{Random MIN MAX}}.";
constexpr std::string_view sub_details =
    "Prints every message on SUBJECT (wildcards * and > allowed): subject, reply, headers and\n"
    "body. Ctrl-C drains the subscription and exits with status 0.";
constexpr std::string_view req_details =
    "Sends one request and prints the reply body (headers first, if any). Progress lines go to\n"
    "standard error. With nobody listening it says \"no responders available for request\" and\n"
    "exits with status 1; without a reply within --timeout it exits with status 1 as well.";
constexpr std::string_view reply_details =
    "Answers requests on SUBJECT with BODY (a template: {{Count}}, {{Request}} for the request\n"
    "body, ...) or, with --echo, with the request itself. Prints each request. Ctrl-C drains and\n"
    "exits with status 0.";
constexpr std::string_view ping_details =
    "Measures the round trip to the server (PING/PONG after the connection is up).";
constexpr std::string_view info_details =
    "Prints the INFO the server sends to a new connection, as indented JSON.";
constexpr std::string_view bench_details =
    "Throughput: --sub subscribers (subscribed before the start) and --pub publishers, each on\n"
    "its own connection and thread, publish --msgs messages of --size bytes in total. The publish\n"
    "rate counts from the common start to the last publisher's flush (PING/PONG); the receive\n"
    "rate counts every message received by every subscriber up to the last one. MB is 10^6 B.\n"
    "Latency (--request): --sub responders in a queue group answer --pub requesters making\n"
    "sequential requests of --size bytes; prints percentiles of the round trip.\n"
    "A progress bar is shown when standard output is a terminal; otherwise a plain summary.";

constexpr Command command_table[] = {
    {"pub",
     "SUBJECT [BODY]",
     "publish a message (or many)",
     pub_details,
     pub_flags,
     "  herald pub orders.new 'hello'\n"
     "  herald pub orders.new 'order {{Count}} at {{TimeStamp}}' --count 10 --sleep 100ms\n"
     "  herald pub orders.new -H Trace:abc -H Source:cli 'with headers'\n"
     "  echo 'from stdin' | herald pub orders.new",
     1,
     2,
     run_pub},
    {"sub",
     "SUBJECT",
     "subscribe and print messages",
     sub_details,
     sub_flags,
     "  herald sub 'orders.>'\n"
     "  herald sub orders.new --queue workers --count 10\n"
     "  herald sub orders.new --raw",
     1,
     1,
     run_sub},
    {"req",
     "SUBJECT [BODY]",
     "send a request and print the reply",
     req_details,
     req_flags,
     "  herald req time.now ''\n"
     "  herald req echo 'hello' --timeout 500ms -H Trace:abc",
     1,
     2,
     run_req},
    {"reply",
     "SUBJECT [BODY]",
     "answer requests with a fixed body or an echo",
     reply_details,
     reply_flags,
     "  herald reply time.now 'it is {{Time}}'\n"
     "  herald reply echo --echo\n"
     "  herald reply service 'answer {{Count}}' --queue service --count 100",
     1,
     2,
     run_reply},
    {"server ping",
     "",
     "measure the round trip to the server",
     ping_details,
     ping_flags,
     "  herald server ping\n"
     "  herald -s nats://10.0.0.5:4222 server ping --count 3",
     0,
     0,
     run_server_ping},
    {"server info",
     "",
     "show the server's INFO",
     info_details,
     {},
     "  herald server info",
     0,
     0,
     run_server_info},
    {"bench",
     "SUBJECT",
     "measure throughput or request latency",
     bench_details,
     bench_flags,
     "  herald bench test --pub 1 --msgs 1000000 --size 16\n"
     "  herald bench test --pub 2 --sub 2 --msgs 1000000 --size 128\n"
     "  herald bench test --request --msgs 10000 --size 16 --json",
     1,
     1,
     run_bench},
};

}  // namespace

std::span<const Command> commands() {
    return command_table;
}
std::span<const FlagSpec> global_flags() {
    return global_flag_table;
}

int usage_error(std::string_view command, std::string_view what) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "herald %.*s: %.*s\nRun 'herald %.*s --help' for usage.\n",
                 static_cast<int>(command.size()),
                 command.data(),
                 static_cast<int>(what.size()),
                 what.data(),
                 static_cast<int>(command.size()),
                 command.data());
    return exit_usage;
}

std::optional<std::uint64_t> count_flag(const ParsedArgs& args,
                                        std::string_view name,
                                        std::uint64_t fallback,
                                        std::string& error) {
    const auto text = args.value(name);
    if (!text) return fallback;
    const auto value = parse_count(*text);
    if (!value) error = fmt::format("bad value for --{}: '{}' (a whole number)", name, *text);
    return value;
}

std::optional<Duration> duration_flag(const ParsedArgs& args,
                                      std::string_view name,
                                      Duration fallback,
                                      std::string& error) {
    const auto text = args.value(name);
    if (!text) return fallback;
    const auto value = parse_duration(*text);
    if (!value) {
        error = fmt::format(
            "bad value for --{}: '{}' (a duration like 2s, 500ms or 1m30s)", name, *text);
    }
    return value;
}

std::optional<client::Headers> header_flags(const ParsedArgs& args, std::string& error) {
    client::Headers headers;
    for (const std::string& text : args.values("header")) {
        const auto colon = text.find(':');
        std::string key = colon == std::string::npos ? std::string{} : text.substr(0, colon);
        std::string value = colon == std::string::npos ? std::string{} : text.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        if (key.empty()) {
            error = fmt::format("bad value for -H: '{}' (use KEY:VALUE)", text);
            return std::nullopt;
        }
        headers.add(std::move(key), std::move(value));
    }
    if (const Status valid = headers.validate(); !valid) {
        error = fmt::format("bad header: {}", valid.error().message());
        return std::nullopt;
    }
    return headers;
}

void print_message(const client::Message& message, std::uint64_t index, bool raw) {
    std::string out;
    if (raw) {
        out = message.payload;
        out += '\n';
    } else {
        out = fmt::format("[#{}] Received on \"{}\"", index, message.subject);
        if (!message.reply.empty()) out += fmt::format(" with reply \"{}\"", message.reply);
        out += '\n';
        if (message.has_headers) {
            if (!message.headers.status().empty()) {
                out += fmt::format(
                    "NATS/1.0 {} {}\n", message.headers.status(), message.headers.description());
            }
            for (const auto& [key, value] : message.headers.fields()) {
                out += fmt::format("{}: {}\n", key, value);
            }
            out += '\n';
        }
        out += message.payload;
        out += "\n\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

}  // namespace herald::cli
