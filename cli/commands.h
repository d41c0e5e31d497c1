// The subcommands of `herald`: each is a row of a table (name, flags, help, examples) and a run
// function over the parsed command line. main.cc dispatches; one .cc per command family.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cli/args.h"
#include "cli/session.h"
#include "engine/client/client.h"

namespace herald::cli {

struct Command {
    std::string_view name;      // "pub", "server ping"
    std::string_view synopsis;  // "SUBJECT [BODY]"
    std::string_view summary;   // one line for `herald --help`
    std::string_view details;   // paragraphs for `herald <cmd> --help`
    std::span<const FlagSpec> flags;
    std::string_view examples;
    std::size_t positionals_min = 0;
    std::size_t positionals_max = 0;
    int (*run)(const GlobalOptions& global, const ParsedArgs& args) = nullptr;
};

std::span<const Command> commands();
std::span<const FlagSpec> global_flags();

// Usage errors found while reading a command's values: print "herald <cmd>: <what>" and the
// hint to run --help, and give exit_usage.
int usage_error(std::string_view command, std::string_view what);

// Reads an optional flag through a value parser; on a bad value sets `error` naming the flag.
std::optional<std::uint64_t> count_flag(const ParsedArgs& args,
                                        std::string_view name,
                                        std::uint64_t fallback,
                                        std::string& error);
std::optional<Duration> duration_flag(const ParsedArgs& args,
                                      std::string_view name,
                                      Duration fallback,
                                      std::string& error);
// -H key:value (repeatable) into Headers; "key:value" and "key: value" both work.
std::optional<client::Headers> header_flags(const ParsedArgs& args, std::string& error);

// Writes one received message the way `nats sub` does:
//   [#3] Received on "orders.new" with reply "_INBOX.x"
//   Key: value
//
//   body
// or, raw, the body alone on a line. Flushes stdout so a reader of a pipe sees it at once.
void print_message(const client::Message& message, std::uint64_t index, bool raw);

int run_pub(const GlobalOptions& global, const ParsedArgs& args);
int run_sub(const GlobalOptions& global, const ParsedArgs& args);
int run_req(const GlobalOptions& global, const ParsedArgs& args);
int run_reply(const GlobalOptions& global, const ParsedArgs& args);
int run_server_ping(const GlobalOptions& global, const ParsedArgs& args);
int run_server_info(const GlobalOptions& global, const ParsedArgs& args);
int run_bench(const GlobalOptions& global, const ParsedArgs& args);
int run_js_bench(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_add(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_ls(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_info(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_rm(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_purge(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_get(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_edit(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_backup(const GlobalOptions& global, const ParsedArgs& args);
int run_stream_restore(const GlobalOptions& global, const ParsedArgs& args);
int run_consumer_add(const GlobalOptions& global, const ParsedArgs& args);
int run_consumer_ls(const GlobalOptions& global, const ParsedArgs& args);
int run_consumer_info(const GlobalOptions& global, const ParsedArgs& args);
int run_consumer_rm(const GlobalOptions& global, const ParsedArgs& args);
int run_consumer_next(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_add(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_info(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_put(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_get(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_del(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_history(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_watch(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_ls(const GlobalOptions& global, const ParsedArgs& args);
int run_kv_rm(const GlobalOptions& global, const ParsedArgs& args);
int run_object_add(const GlobalOptions& global, const ParsedArgs& args);
int run_object_info(const GlobalOptions& global, const ParsedArgs& args);
int run_object_put(const GlobalOptions& global, const ParsedArgs& args);
int run_object_get(const GlobalOptions& global, const ParsedArgs& args);
int run_object_ls(const GlobalOptions& global, const ParsedArgs& args);
int run_object_rm(const GlobalOptions& global, const ParsedArgs& args);

}  // namespace herald::cli
