// `herald stream add/ls/info/rm/purge/get/edit/backup/restore`, modelled on `nats stream`: the
// same words and flags, no prompts (a value natscli would ask for is a usage error unless
// --defaults), natscli's info layout and tables, --json with the server's JSON.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"
#include "cli/stream_support.h"

namespace herald::cli {
namespace {

using client::JsResult;
using client::StreamConfig;
using client::StreamInfo;
using nlohmann::json;

// The values natscli asks for when `stream add` runs without them.
constexpr std::string_view prompted_flags[] = {"subjects",
                                               "storage",
                                               "replicas",
                                               "retention",
                                               "discard",
                                               "max-msgs",
                                               "max-msgs-per-subject",
                                               "max-bytes",
                                               "max-age",
                                               "max-msg-size",
                                               "dupe-window"};

void print_json_text(const std::string& text) {
    const json parsed = json::parse(text, nullptr, false);
    std::string out = parsed.is_discarded() ? text : parsed.dump(2);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// STREAM.CREATE or STREAM.UPDATE with a config given as JSON text (--config, restore).
JsResult<StreamInfo> send_raw_config(JsClient& client,
                                     std::string_view verb,
                                     const std::string& name,
                                     const std::string& config_json) {
    auto reply = client.api_request(fmt::format("STREAM.{}.{}", verb, name), config_json);
    if (!reply) return reply.error();
    // Read the answer back through the client's typed path so callers print it alike.
    return client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
        client.js().stream_info(name, std::move(done));
    });
}

int run_stream_add_or_edit(const GlobalOptions& global, const ParsedArgs& args, bool edit) {
    const std::string command = edit ? "stream edit" : "stream add";
    const std::string name = args.positionals()[0];
    if (!client::valid_stream_name(name)) {
        return usage_error(command, fmt::format("invalid stream name '{}'", name));
    }
    std::optional<std::string> config_text;
    std::string error;
    if (const auto path = args.value("config")) {
        config_text = read_file(*path, error);
        if (!config_text) return usage_error(command, error);
        json parsed = json::parse(*config_text, nullptr, false);
        if (!parsed.is_object()) {
            return usage_error(command, fmt::format("--config {}: not a JSON object", *path));
        }
        parsed["name"] = name;
        config_text = parsed.dump();
    } else if (!edit && !args.has("defaults")) {
        std::string missing;
        for (const std::string_view flag : prompted_flags) {
            if (!args.has(flag))
                missing += fmt::format("{}--{}", missing.empty() ? "" : ", ", flag);
        }
        if (!missing.empty()) {
            return usage_error(
                command, fmt::format("missing {} (no prompts: give them, or --defaults)", missing));
        }
    }

    JsClient client(global);
    StreamConfig config;
    config.name = name;
    config.subjects = {name};
    if (!config_text && !apply_stream_flags(args, config, error))
        return usage_error(command, error);
    if (config_text && has_stream_flags(args)) {
        return usage_error(command,
                           "--config replaces the whole configuration: give no other flags");
    }
    if (!client.connect()) return exit_failure;
    JsResult<StreamInfo> info = client::JsErrc::bad_response;
    if (config_text) {
        info = send_raw_config(client, edit ? "UPDATE" : "CREATE", name, *config_text);
    } else if (edit) {
        auto current = client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
            client.js().stream_info(name, std::move(done));
        });
        if (!current)
            return js_failure(fmt::format("could not load stream {}", name), current.error());
        StreamConfig updated = current->config;
        if (!apply_stream_flags(args, updated, error)) return usage_error(command, error);
        info = client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
            client.js().update_stream(updated, std::move(done));
        });
    } else {
        info = client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
            client.js().add_stream(config, std::move(done));
        });
    }
    if (!info) {
        return js_failure(fmt::format("could not {} stream {}", edit ? "update" : "create", name),
                          info.error());
    }
    if (args.has("json")) {
        print_json_text(info->json);
    } else {
        std::printf("Stream %s was %s\n\n", name.c_str(), edit ? "updated" : "created");
        std::fputs(stream_info_text(*info).c_str(), stdout);
    }
    client.close();
    return exit_ok;
}

}  // namespace

int run_stream_add(const GlobalOptions& global, const ParsedArgs& args) {
    return run_stream_add_or_edit(global, args, false);
}

int run_stream_edit(const GlobalOptions& global, const ParsedArgs& args) {
    return run_stream_add_or_edit(global, args, true);
}

int run_stream_ls(const GlobalOptions& global, const ParsedArgs& args) {
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    const std::string subject = args.value("subject").value_or("");
    if (args.has("names") || args.has("json")) {
        auto names = client.await<std::vector<std::string>>(
            [&](client::JsCallback<std::vector<std::string>> done) {
                client.js().stream_names(subject, std::move(done));
            });
        if (!names) return js_failure("could not list streams", names.error());
        if (args.has("json")) {
            std::printf("%s\n", json(*names).dump(2).c_str());
        } else {
            for (const std::string& name : *names)
                std::printf("%s\n", name.c_str());
        }
        return exit_ok;
    }
    auto infos = client.await<std::vector<StreamInfo>>(
        [&](client::JsCallback<std::vector<StreamInfo>> done) {
            client.js().streams(subject, std::move(done));
        });
    if (!infos) return js_failure("could not list streams", infos.error());
    if (infos->empty()) {
        std::printf("No Streams defined\n");
        return exit_ok;
    }
    std::sort(infos->begin(), infos->end(), [](const StreamInfo& a, const StreamInfo& b) {
        return a.config.name < b.config.name;
    });
    Table table("Streams", {"Name", "Description", "Created", "Messages", "Size", "Last Message"});
    for (const StreamInfo& info : *infos) {
        table.add_row({info.config.name,
                       info.config.description,
                       short_time(info.created),
                       comma(static_cast<std::int64_t>(info.state.messages)),
                       ibytes(info.state.bytes),
                       info.state.last_seq == 0 ? "never" : short_time(info.state.last_ts)});
    }
    std::fputs(table.render().c_str(), stdout);
    return exit_ok;
}

int run_stream_info(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string name = args.positionals()[0];
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto info = client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
        client.js().stream_info(name, std::move(done));
    });
    if (!info) return js_failure(fmt::format("could not load stream {}", name), info.error());
    if (args.has("json")) {
        print_json_text(info->json);
    } else {
        std::fputs(stream_info_text(*info).c_str(), stdout);
    }
    return exit_ok;
}

int run_stream_rm(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string name = args.positionals()[0];
    if (!args.has("force")) {
        return usage_error(
            "stream rm",
            fmt::format("refusing to delete stream {} without --force (no prompts)", name));
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        client.js().delete_stream(name, std::move(done));
    });
    if (!deleted)
        return js_failure(fmt::format("could not delete stream {}", name), deleted.error());
    return exit_ok;
}

int run_stream_purge(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string name = args.positionals()[0];
    std::string error;
    client::PurgeOptions options;
    options.filter = args.value("subject").value_or("");
    const auto seq = count_flag(args, "seq", 0, error);
    const auto keep = count_flag(args, "keep", 0, error);
    if (!seq || !keep) return usage_error("stream purge", error);
    if (*seq > 0 && *keep > 0)
        return usage_error("stream purge", "--seq and --keep exclude each other");
    options.seq = *seq;
    options.keep = *keep;
    if (!args.has("force")) {
        return usage_error(
            "stream purge",
            fmt::format("refusing to purge stream {} without --force (no prompts)", name));
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto purged = client.await<std::uint64_t>([&](client::JsCallback<std::uint64_t> done) {
        client.js().purge_stream(name, options, std::move(done));
    });
    if (!purged) return js_failure(fmt::format("could not purge stream {}", name), purged.error());
    auto info = client.await<StreamInfo>([&](client::JsCallback<StreamInfo> done) {
        client.js().stream_info(name, std::move(done));
    });
    if (!info) return js_failure(fmt::format("could not load stream {}", name), info.error());
    if (args.has("json")) {
        print_json_text(info->json);
        return exit_ok;
    }
    std::printf("Purged %s messages from stream %s\n\n",
                comma(static_cast<std::int64_t>(*purged)).c_str(),
                name.c_str());
    std::fputs(stream_info_text(*info).c_str(), stdout);
    return exit_ok;
}

int run_stream_get(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string name = args.positionals()[0];
    client::MsgGetRequest request;
    const auto last_for = args.value("last-for");
    if (args.positionals().size() > 1) {
        if (last_for) return usage_error("stream get", "give a SEQ or --last-for, not both");
        const auto seq = parse_count(args.positionals()[1]);
        if (!seq || *seq == 0) {
            return usage_error(
                "stream get",
                fmt::format("bad sequence '{}' (a number from 1)", args.positionals()[1]));
        }
        request.seq = *seq;
    } else if (last_for) {
        request.last_by_subject = *last_for;
    } else {
        return usage_error("stream get", "missing SEQ or --last-for SUBJECT (no prompts)");
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto message = client.await<client::StoredMsg>([&](client::JsCallback<client::StoredMsg> done) {
        client.js().get_msg(name, request, std::move(done));
    });
    if (!message) return js_failure(fmt::format("could not retrieve {}", name), message.error());
    if (args.has("json")) {
        std::printf("%s\n", stored_msg_json(*message).dump(2).c_str());
        return exit_ok;
    }
    std::string out = fmt::format("Item: {}#{} received {} on Subject {}\n\n",
                                  name,
                                  message->sequence,
                                  short_time(message->time),
                                  message->subject);
    if (!message->headers.fields().empty()) {
        out += "Headers:\n";
        for (const auto& [key, value] : message->headers.fields())
            out += fmt::format("  {}: {}\n", key, value);
        out += "\n";
    }
    out += message->data + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return exit_ok;
}

}  // namespace herald::cli
