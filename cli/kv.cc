// `herald kv add/info/put/get/del/history/watch/ls/rm`, modelled on `nats kv`: a KV bucket over
// JetStream with nats.go's layout (engine/client/kv.h), so buckets written here are read by
// nats.go and natscli, and back.
#include "engine/client/kv.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"

namespace herald::cli {
namespace {

using client::KeyValue;
using client::KeyValueEntry;

std::string time_of(std::int64_t unix_ns) {
    return short_time(client::format_rfc3339_ns(unix_ns));
}

std::string_view op_text(client::KeyValueOp op) {
    switch (op) {
        case client::KeyValueOp::put:
            return "PUT";
        case client::KeyValueOp::del:
            return "DEL";
        case client::KeyValueOp::purge:
            return "PURGE";
    }
    return "?";
}

std::string status_text(const client::KeyValueStatus& status) {
    const client::StreamConfig& config = status.info.config;
    std::string out =
        fmt::format("Information for Key-Value Store Bucket {} created {}\n\nConfiguration:\n\n",
                    status.bucket,
                    short_time(status.info.created));
    Section section;
    section.add("Bucket Name", status.bucket);
    if (!config.description.empty()) section.add("Description", config.description);
    section.add("History Kept", comma(status.history));
    section.add("Values Stored", comma(static_cast<std::int64_t>(status.values)));
    section.add("Backing Store Kind", status.backing_store);
    section.add("Bucket Size", ibytes(status.bytes));
    section.add("Maximum Bucket Size", size_limit_text(config.max_bytes));
    section.add("Maximum Value Size", size_limit_text(config.max_msg_size));
    section.add("Maximum Age", status.ttl.ns == 0 ? "unlimited" : go_duration(status.ttl));
    section.add("JetStream Stream", config.name);
    section.add("Storage", config.storage == client::StorageType::file ? "File" : "Memory");
    out += section.render();
    return out;
}

// Connects and binds the bucket; prints the failure and returns nullopt.
std::optional<KeyValue> bind(JsClient& client, const std::string& bucket) {
    if (!client.connect()) return std::nullopt;
    auto kv = client.await<KeyValue>([&](client::JsCallback<KeyValue> done) {
        KeyValue::bind(client.js(), bucket, std::move(done));
    });
    if (!kv) {
        js_failure(fmt::format("could not open bucket {}", bucket), kv.error());
        return std::nullopt;
    }
    return *kv;
}

std::optional<client::StorageType> storage_flag(const ParsedArgs& args, std::string& error) {
    const auto text = args.value("storage");
    if (!text) return client::StorageType::file;
    const auto storage = parse_storage(*text);
    if (!storage) {
        error = fmt::format("bad value for --storage: '{}' (file or memory)", *text);
        return std::nullopt;
    }
    return *storage == StorageWord::file ? client::StorageType::file : client::StorageType::memory;
}

}  // namespace

int run_kv_add(const GlobalOptions& global, const ParsedArgs& args) {
    client::KeyValueConfig config;
    config.bucket = args.positionals()[0];
    if (!client::valid_bucket_name(config.bucket)) {
        return usage_error(
            "kv add",
            fmt::format("invalid bucket name '{}' (letters, digits, - and _)", config.bucket));
    }
    std::string error;
    const auto history = count_flag(args, "history", 1, error);
    const auto replicas = count_flag(args, "replicas", 1, error);
    const auto storage = storage_flag(args, error);
    if (!history || !replicas || !storage) return usage_error("kv add", error);
    if (*history < 1 || *history > static_cast<std::uint64_t>(client::kv_history_max)) {
        return usage_error("kv add", "bad value for --history: 1 to 64");
    }
    config.history = static_cast<std::int64_t>(*history);
    config.replicas = static_cast<int>(std::min<std::uint64_t>(*replicas, 5));
    config.storage = *storage;
    config.description = args.value("description").value_or("");
    if (const auto text = args.value("ttl")) {
        const auto ttl = parse_age(*text);
        if (!ttl)
            return usage_error(
                "kv add", fmt::format("bad value for --ttl: '{}' (a duration like 1h)", *text));
        config.ttl = *ttl;
    }
    for (const auto& [flag, target] :
         {std::pair<std::string_view, std::int64_t*>{"max-bucket-size", &config.max_bytes}}) {
        if (const auto text = args.value(flag)) {
            const auto value = parse_limit(*text, true);
            if (!value)
                return usage_error("kv add", fmt::format("bad value for --{}: '{}'", flag, *text));
            *target = *value;
        }
    }
    if (const auto text = args.value("max-value-size")) {
        const auto value = parse_limit(*text, true);
        if (!value || *value > INT32_MAX)
            return usage_error("kv add",
                               fmt::format("bad value for --max-value-size: '{}'", *text));
        config.max_value_size = static_cast<std::int32_t>(*value);
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto kv = client.await<KeyValue>([&](client::JsCallback<KeyValue> done) {
        KeyValue::create_bucket(client.js(), config, std::move(done));
    });
    if (!kv)
        return js_failure(fmt::format("could not create bucket {}", config.bucket), kv.error());
    auto status = client.await<client::KeyValueStatus>(
        [&](client::JsCallback<client::KeyValueStatus> done) { kv->status(std::move(done)); });
    if (!status) return js_failure("could not read the bucket's status", status.error());
    std::fputs(status_text(*status).c_str(), stdout);
    return exit_ok;
}

int run_kv_info(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    JsClient client(global);
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto status = client.await<client::KeyValueStatus>(
        [&](client::JsCallback<client::KeyValueStatus> done) { kv->status(std::move(done)); });
    if (!status) return js_failure("could not read the bucket's status", status.error());
    if (args.has("json")) {
        const auto parsed = nlohmann::json::parse(status->info.json, nullptr, false);
        std::printf("%s\n",
                    parsed.is_discarded() ? status->info.json.c_str() : parsed.dump(2).c_str());
    } else {
        std::fputs(status_text(*status).c_str(), stdout);
    }
    return exit_ok;
}

int run_kv_put(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const std::string key = args.positionals()[1];
    if (!client::valid_key(key)) return usage_error("kv put", fmt::format("invalid key '{}'", key));
    std::string value;
    if (args.positionals().size() > 2) {
        value = args.positionals()[2];
    } else {
        value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    JsClient client(global);
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto revision = client.await<std::uint64_t>(
        [&](client::JsCallback<std::uint64_t> done) { kv->put(key, value, std::move(done)); });
    if (!revision)
        return js_failure(fmt::format("could not put {} > {}", bucket, key), revision.error());
    std::fprintf(stderr,
                 "Stored %s > %s at revision %llu\n",
                 bucket.c_str(),
                 key.c_str(),
                 static_cast<unsigned long long>(*revision));
    std::printf("%s\n", value.c_str());
    client.close();
    return exit_ok;
}

int run_kv_get(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const std::string key = args.positionals()[1];
    if (!client::valid_key(key)) return usage_error("kv get", fmt::format("invalid key '{}'", key));
    std::string error;
    const auto revision = count_flag(args, "revision", 0, error);
    if (!revision) return usage_error("kv get", error);
    JsClient client(global);
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto entry = client.await<KeyValueEntry>([&](client::JsCallback<KeyValueEntry> done) {
        if (*revision > 0) {
            kv->get_revision(key, *revision, std::move(done));
        } else {
            kv->get(key, std::move(done));
        }
    });
    if (!entry) return js_failure(fmt::format("could not get {} > {}", bucket, key), entry.error());
    if (args.has("raw")) {
        std::string out = entry->value + "\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
        return exit_ok;
    }
    std::string out = fmt::format("{} > {} revision {} created @ {} UTC\n\n{}\n",
                                  bucket,
                                  key,
                                  entry->revision,
                                  time_of(entry->created_ns),
                                  entry->value);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return exit_ok;
}

// `kv del BUCKET KEY` deletes a key; without KEY (and as `kv rm`) the bucket, as natscli.
int run_kv_del(const GlobalOptions& global, const ParsedArgs& args) {
    if (args.positionals().size() < 2) return run_kv_rm(global, args);
    const std::string bucket = args.positionals()[0];
    const std::string key = args.positionals()[1];
    if (!client::valid_key(key)) return usage_error("kv del", fmt::format("invalid key '{}'", key));
    if (!args.has("force")) {
        return usage_error(
            "kv del",
            fmt::format("refusing to delete {} > {} without --force (no prompts)", bucket, key));
    }
    JsClient client(global);
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        if (args.has("purge")) {
            kv->purge_key(key, std::nullopt, std::move(done));
        } else {
            kv->delete_key(key, std::nullopt, std::move(done));
        }
    });
    if (!deleted)
        return js_failure(fmt::format("could not delete {} > {}", bucket, key), deleted.error());
    return exit_ok;
}

int run_kv_history(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const std::string key = args.positionals()[1];
    if (!client::valid_key(key))
        return usage_error("kv history", fmt::format("invalid key '{}'", key));
    JsClient client(global);
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto history = client.await<std::vector<KeyValueEntry>>(
        [&](client::JsCallback<std::vector<KeyValueEntry>> done) {
            kv->history(key, std::move(done));
        });
    if (!history)
        return js_failure(fmt::format("could not read the history of {} > {}", bucket, key),
                          history.error());
    if (args.has("json")) {
        nlohmann::json list = nlohmann::json::array();
        for (const KeyValueEntry& entry : *history) {
            list.push_back({{"bucket", bucket},
                            {"key", entry.key},
                            {"value", base64_encode(entry.value)},
                            {"revision", entry.revision},
                            {"created", client::format_rfc3339_ns(entry.created_ns)},
                            {"operation", op_text(entry.op)}});
        }
        std::printf("%s\n", list.dump(2).c_str());
        return exit_ok;
    }
    Table table(fmt::format("History for {} > {}", bucket, key),
                {"Key", "Revision", "Op", "Created", "Length", "Value"});
    for (const KeyValueEntry& entry : *history) {
        table.add_row({entry.key,
                       std::to_string(entry.revision),
                       std::string(op_text(entry.op)),
                       time_of(entry.created_ns),
                       comma(static_cast<std::int64_t>(entry.value.size())),
                       entry.value.size() > 40 ? entry.value.substr(0, 37) + "..." : entry.value});
    }
    std::fputs(table.render().c_str(), stdout);
    return exit_ok;
}

int run_kv_watch(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const std::string pattern = args.positionals().size() > 1 ? args.positionals()[1] : ">";
    std::string error;
    const auto count = count_flag(args, "count", 0, error);
    if (!count) return usage_error("kv watch", error);
    JsClient client(global);
    client.catch_signals();
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    std::uint64_t seen = 0;
    client::WatchOptions options;
    options.include_history = args.has("history");
    options.updates_only = args.has("updates-only");
    auto handler = [&seen, bucket](const KeyValueEntry* entry) {
        if (entry == nullptr) return;
        ++seen;
        std::string out = fmt::format(
            "[{}] {} {} > {}", time_of(entry->created_ns), op_text(entry->op), bucket, entry->key);
        if (entry->op == client::KeyValueOp::put) out += ": " + entry->value;
        out += "\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
    };
    // `seen` outlives the watcher: it is stopped before this function returns.
    auto watcher =
        client.await<client::KeyWatcher>([&](client::JsCallback<client::KeyWatcher> done) {
            kv->watch(pattern, options, handler, std::move(done));
        });
    if (!watcher)
        return js_failure(fmt::format("could not watch {} > {}", bucket, pattern), watcher.error());
    std::fprintf(stderr, "Watching %s > %s\n", bucket.c_str(), pattern.c_str());
    client.run_until([&] { return *count > 0 && seen >= *count; });
    watcher->stop();
    const bool lost = !client.interrupted() && !(*count > 0 && seen >= *count);
    client.close();
    if (lost) {
        print_error("the connection closed");
        return exit_failure;
    }
    return exit_ok;
}

int run_kv_ls(const GlobalOptions& global, const ParsedArgs& args) {
    JsClient client(global);
    if (args.positionals().empty()) {
        if (!client.connect()) return exit_failure;
        auto names = client.await<std::vector<std::string>>(
            [&](client::JsCallback<std::vector<std::string>> done) {
                KeyValue::bucket_names(client.js(), std::move(done));
            });
        if (!names) return js_failure("could not list the buckets", names.error());
        std::sort(names->begin(), names->end());
        if (args.has("names")) {
            for (const std::string& name : *names)
                std::printf("%s\n", name.c_str());
            return exit_ok;
        }
        if (names->empty()) {
            std::printf("No Key-Value buckets found\n");
            return exit_ok;
        }
        Table table("Key-Value Buckets",
                    {"Bucket", "Description", "Created", "Size", "Values", "Last Update"});
        for (const std::string& name : *names) {
            auto info =
                client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
                    client.js().stream_info("KV_" + name, std::move(done));
                });
            if (!info)
                return js_failure(fmt::format("could not read bucket {}", name), info.error());
            table.add_row({name,
                           info->config.description,
                           short_time(info->created),
                           ibytes(info->state.bytes),
                           comma(static_cast<std::int64_t>(info->state.messages)),
                           info->state.last_seq == 0 ? "never" : short_time(info->state.last_ts)});
        }
        std::fputs(table.render().c_str(), stdout);
        return exit_ok;
    }
    const std::string bucket = args.positionals()[0];
    auto kv = bind(client, bucket);
    if (!kv) return exit_failure;
    auto keys = client.await<std::vector<std::string>>(
        [&](client::JsCallback<std::vector<std::string>> done) { kv->keys(std::move(done)); });
    if (!keys)
        return js_failure(fmt::format("could not list the keys of {}", bucket), keys.error());
    std::sort(keys->begin(), keys->end());
    for (const std::string& key : *keys)
        std::printf("%s\n", key.c_str());
    return exit_ok;
}

int run_kv_rm(const GlobalOptions& global, const ParsedArgs& args) {
    if (args.positionals().size() > 1) return run_kv_del(global, args);
    const std::string bucket = args.positionals()[0];
    if (!args.has("force")) {
        return usage_error(
            "kv del",
            fmt::format("refusing to delete bucket {} without --force (no prompts)", bucket));
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        KeyValue::delete_bucket(client.js(), bucket, std::move(done));
    });
    if (!deleted)
        return js_failure(fmt::format("could not delete bucket {}", bucket), deleted.error());
    return exit_ok;
}

}  // namespace herald::cli
