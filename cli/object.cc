// `herald object add/info/put/get/ls/rm`, modelled on `nats object`: an object store bucket over
// JetStream with nats.go's layout (engine/client/object_store.h): chunks, a rolled-up meta
// message per object and a SHA-256 digest checked on every get.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"
#include "engine/client/kv.h"
#include "engine/client/object_store.h"

namespace herald::cli {
namespace {

using client::ObjectInfo;
using client::ObjectStore;

std::string info_text(const ObjectInfo& info) {
    std::string out =
        fmt::format("Object information for {} > {}\n\n", info.bucket, info.meta.name);
    Section section;
    if (!info.meta.description.empty()) section.add("Description", info.meta.description);
    section.add("Size", ibytes(info.size));
    section.add("Modification Time", short_time(client::format_rfc3339_ns(info.mtime_ns)));
    section.add("Chunks", comma(info.chunks));
    section.add("Digest", info.digest);
    if (info.meta.link)
        section.add("Link", fmt::format("{} > {}", info.meta.link->bucket, info.meta.link->name));
    if (info.deleted) section.add("Deleted", "true");
    out += section.render();
    return out;
}

std::string status_text(const client::ObjectStoreStatus& status) {
    std::string out =
        fmt::format("Information for Object Store Bucket {} created {}\n\nConfiguration:\n\n",
                    status.bucket,
                    short_time(status.info.created));
    Section section;
    section.add("Bucket Name", status.bucket);
    if (!status.description.empty()) section.add("Description", status.description);
    section.add("Replicas", std::to_string(status.replicas));
    section.add("TTL", status.ttl.ns == 0 ? "unlimited" : go_duration(status.ttl));
    section.add("Sealed", status.sealed ? "true" : "false");
    section.add("Size", ibytes(status.size));
    section.add("Maximum Bucket Size", size_limit_text(status.info.config.max_bytes));
    section.add("Backing Store Kind", status.backing_store);
    section.add("JetStream Stream", status.info.config.name);
    section.add("Storage", status.storage == client::StorageType::file ? "File" : "Memory");
    out += section.render();
    return out;
}

std::optional<ObjectStore> bind(JsClient& client, const std::string& bucket) {
    if (!client.connect()) return std::nullopt;
    auto store = client.await<ObjectStore>([&](client::JsCallback<ObjectStore> done) {
        ObjectStore::bind(client.js(), bucket, std::move(done));
    });
    if (!store) {
        js_failure(fmt::format("could not open object store {}", bucket), store.error());
        return std::nullopt;
    }
    return *store;
}

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int run_object_add(const GlobalOptions& global, const ParsedArgs& args) {
    client::ObjectStoreConfig config;
    config.bucket = args.positionals()[0];
    if (!client::valid_bucket_name(config.bucket)) {
        return usage_error(
            "object add",
            fmt::format("invalid bucket name '{}' (letters, digits, - and _)", config.bucket));
    }
    std::string error;
    const auto replicas = count_flag(args, "replicas", 1, error);
    if (!replicas) return usage_error("object add", error);
    config.replicas = static_cast<int>(std::clamp<std::uint64_t>(*replicas, 1, 5));
    config.description = args.value("description").value_or("");
    if (const auto text = args.value("storage")) {
        const auto storage = parse_storage(*text);
        if (!storage)
            return usage_error(
                "object add", fmt::format("bad value for --storage: '{}' (file or memory)", *text));
        config.storage =
            *storage == StorageWord::file ? client::StorageType::file : client::StorageType::memory;
    }
    if (const auto text = args.value("ttl")) {
        const auto ttl = parse_age(*text);
        if (!ttl)
            return usage_error(
                "object add", fmt::format("bad value for --ttl: '{}' (a duration like 1h)", *text));
        config.ttl = *ttl;
    }
    if (const auto text = args.value("max-bucket-size")) {
        const auto value = parse_limit(*text, true);
        if (!value)
            return usage_error("object add",
                               fmt::format("bad value for --max-bucket-size: '{}'", *text));
        config.max_bytes = *value;
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto store = client.await<ObjectStore>([&](client::JsCallback<ObjectStore> done) {
        ObjectStore::create_bucket(client.js(), config, std::move(done));
    });
    if (!store)
        return js_failure(fmt::format("could not create object store {}", config.bucket),
                          store.error());
    auto status = client.await<client::ObjectStoreStatus>(
        [&](client::JsCallback<client::ObjectStoreStatus> done) {
            store->status(std::move(done));
        });
    if (!status) return js_failure("could not read the bucket's status", status.error());
    std::fputs(status_text(*status).c_str(), stdout);
    return exit_ok;
}

int run_object_info(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    JsClient client(global);
    auto store = bind(client, bucket);
    if (!store) return exit_failure;
    if (args.positionals().size() > 1) {
        const std::string name = args.positionals()[1];
        auto info = client.await<ObjectInfo>([&](client::JsCallback<ObjectInfo> done) {
            store->get_info(name, false, std::move(done));
        });
        if (!info)
            return js_failure(fmt::format("could not read {} > {}", bucket, name), info.error());
        std::fputs(info_text(*info).c_str(), stdout);
        return exit_ok;
    }
    auto status = client.await<client::ObjectStoreStatus>(
        [&](client::JsCallback<client::ObjectStoreStatus> done) {
            store->status(std::move(done));
        });
    if (!status) return js_failure("could not read the bucket's status", status.error());
    std::fputs(status_text(*status).c_str(), stdout);
    return exit_ok;
}

int run_object_put(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const bool from_stdin = args.positionals().size() < 2 || args.positionals()[1] == "-";
    client::ObjectMeta meta;
    if (const auto name = args.value("name")) {
        meta.name = *name;
    } else if (from_stdin) {
        return usage_error("object put", "reading standard input needs --name");
    } else {
        meta.name = base_name(args.positionals()[1]);
    }
    meta.description = args.value("description").value_or("");
    std::string data;
    if (from_stdin) {
        data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::ifstream in(args.positionals()[1], std::ios::binary);
        if (!in) {
            print_error(
                fmt::format("cannot read {}: {}", args.positionals()[1], std::strerror(errno)));
            return exit_failure;
        }
        std::ostringstream text;
        text << in.rdbuf();
        data = text.str();
    }
    JsClient client(global);
    auto store = bind(client, bucket);
    if (!store) return exit_failure;
    auto info = client.await<ObjectInfo>(
        [&](client::JsCallback<ObjectInfo> done) { store->put(meta, data, std::move(done)); });
    if (!info)
        return js_failure(fmt::format("could not put {} > {}", bucket, meta.name), info.error());
    std::fputs(info_text(*info).c_str(), stdout);
    client.close();
    return exit_ok;
}

int run_object_get(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const std::string name = args.positionals()[1];
    const std::string output = args.value("output").value_or(base_name(name));
    const bool to_stdout = output == "-";
    struct stat existing {};
    if (!to_stdout && !args.has("force") && ::stat(output.c_str(), &existing) == 0) {
        return usage_error("object get",
                           fmt::format("{} exists: use --force to overwrite (no prompts)", output));
    }
    JsClient client(global);
    auto store = bind(client, bucket);
    if (!store) return exit_failure;
    auto result = client.await<client::ObjectResult>(
        [&](client::JsCallback<client::ObjectResult> done) { store->get(name, std::move(done)); });
    if (!result)
        return js_failure(fmt::format("could not get {} > {}", bucket, name), result.error());
    if (to_stdout) {
        std::fwrite(result->data.data(), 1, result->data.size(), stdout);
        return exit_ok;
    }
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out.write(result->data.data(), static_cast<std::streamsize>(result->data.size()));
    out.close();
    if (!out) {
        print_error(fmt::format("cannot write {}: {}", output, std::strerror(errno)));
        return exit_failure;
    }
    std::printf("Wrote: %s to %s (digest %s checked)\n",
                ibytes(result->data.size()).c_str(),
                output.c_str(),
                result->info.digest.c_str());
    return exit_ok;
}

int run_object_ls(const GlobalOptions& global, const ParsedArgs& args) {
    JsClient client(global);
    if (args.positionals().empty()) {
        if (!client.connect()) return exit_failure;
        auto names = client.await<std::vector<std::string>>(
            [&](client::JsCallback<std::vector<std::string>> done) {
                client.js().stream_names("", std::move(done));
            });
        if (!names) return js_failure("could not list the object stores", names.error());
        std::vector<std::string> buckets;
        for (const std::string& name : *names) {
            if (name.starts_with("OBJ_")) buckets.push_back(name.substr(4));
        }
        std::sort(buckets.begin(), buckets.end());
        if (buckets.empty() && !args.has("names")) {
            std::printf("No Object Store buckets found\n");
            return exit_ok;
        }
        for (const std::string& bucket : buckets)
            std::printf("%s\n", bucket.c_str());
        return exit_ok;
    }
    const std::string bucket = args.positionals()[0];
    auto store = bind(client, bucket);
    if (!store) return exit_failure;
    auto list = client.await<std::vector<ObjectInfo>>(
        [&](client::JsCallback<std::vector<ObjectInfo>> done) {
            store->list(false, std::move(done));
        });
    if (!list) return js_failure(fmt::format("could not list {}", bucket), list.error());
    std::sort(list->begin(), list->end(), [](const ObjectInfo& a, const ObjectInfo& b) {
        return a.meta.name < b.meta.name;
    });
    if (args.has("names")) {
        for (const ObjectInfo& info : *list)
            std::printf("%s\n", info.meta.name.c_str());
        return exit_ok;
    }
    if (list->empty()) {
        std::printf("No entries found\n");
        return exit_ok;
    }
    Table table("Bucket Contents", {"Name", "Size", "Time"});
    for (const ObjectInfo& info : *list)
        table.add_row({info.meta.name,
                       ibytes(info.size),
                       short_time(client::format_rfc3339_ns(info.mtime_ns))});
    std::fputs(table.render().c_str(), stdout);
    return exit_ok;
}

int run_object_rm(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string bucket = args.positionals()[0];
    const bool whole_bucket = args.positionals().size() < 2;
    const std::string what = whole_bucket ? fmt::format("object store {}", bucket)
                                          : fmt::format("{} > {}", bucket, args.positionals()[1]);
    if (!args.has("force")) {
        return usage_error("object rm",
                           fmt::format("refusing to delete {} without --force (no prompts)", what));
    }
    JsClient client(global);
    if (whole_bucket) {
        if (!client.connect()) return exit_failure;
        auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
            ObjectStore::delete_bucket(client.js(), bucket, std::move(done));
        });
        if (!deleted) return js_failure(fmt::format("could not delete {}", what), deleted.error());
        return exit_ok;
    }
    auto store = bind(client, bucket);
    if (!store) return exit_failure;
    auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        store->delete_object(args.positionals()[1], std::move(done));
    });
    if (!deleted) return js_failure(fmt::format("could not delete {}", what), deleted.error());
    return exit_ok;
}

}  // namespace herald::cli
