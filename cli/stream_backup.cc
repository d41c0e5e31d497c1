// `herald stream backup NAME DIR` and `herald stream restore DIR`, done by the client (Herald has
// no STREAM.SNAPSHOT yet): the backup is the stream's configuration and every stored message
// read with STREAM.MSG.GET; the restore creates the stream and publishes the messages again.
//
// Files in DIR: backup.json (format, stream name, config as the server returned it, state) and
// messages.jsonl (one STREAM.MSG.GET "message" object a line: subject, seq, hdrs, data, time).
//
// Sequence numbers are kept: the restore moves the empty stream's first sequence to the
// backup's first with a purge {"seq": first}, and recreates each deleted sequence inside the
// range as a deletion (an empty message on the next message's subject, then MSG.DELETE). Not
// kept: the stored times (the server stamps new ones, which also restarts max_age), deleted
// sequences after the last message, and consumers. Streams with a mirror or sources are refused.
// sealed, deny_delete and deny_purge are off while restoring and set back at the end.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"
#include "cli/stream_support.h"

namespace herald::cli {
namespace {

using nlohmann::json;

constexpr std::string_view backup_format = "herald-stream-backup";
constexpr int backup_version = 1;
constexpr std::size_t restore_window = 1000;  // publishes awaiting their PubAck during a restore

struct BackedUpMsg {
    std::uint64_t seq = 0;
    std::string subject;
    client::Headers headers;
    std::string data;
};

std::string join_path(const std::string& dir, std::string_view file) {
    return dir.empty() || dir.back() == '/' ? dir + std::string(file)
                                            : dir + "/" + std::string(file);
}

bool file_exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

// Reads backup.json and messages.jsonl; false with `error` on anything malformed.
bool load_backup(const std::string& dir,
                 json& meta,
                 std::vector<BackedUpMsg>& messages,
                 std::string& error) {
    std::ifstream meta_in(join_path(dir, "backup.json"));
    if (!meta_in) {
        error = fmt::format("{}: no backup.json ({})", dir, std::strerror(errno));
        return false;
    }
    std::stringstream meta_text;
    meta_text << meta_in.rdbuf();
    meta = json::parse(meta_text.str(), nullptr, false);
    if (!meta.is_object() || meta.value("format", "") != backup_format || !meta.contains("config")
        || !meta["config"].is_object() || !meta.contains("stream") || !meta["stream"].is_string()) {
        error = fmt::format("{}/backup.json is not a herald stream backup", dir);
        return false;
    }
    std::ifstream in(join_path(dir, "messages.jsonl"));
    if (!in) {
        error = fmt::format("{}: no messages.jsonl ({})", dir, std::strerror(errno));
        return false;
    }
    std::uint64_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_number;
        if (line.empty()) continue;
        const json item = json::parse(line, nullptr, false);
        BackedUpMsg message;
        const auto data = base64_decode(item.is_object() ? item.value("data", "") : "");
        const auto block = base64_decode(item.is_object() ? item.value("hdrs", "") : "");
        if (!item.is_object() || !data || !block || !item.contains("seq")
            || !item["seq"].is_number_unsigned()) {
            error = fmt::format("{}/messages.jsonl line {}: not a message", dir, line_number);
            return false;
        }
        message.seq = item["seq"].get<std::uint64_t>();
        message.subject = item.value("subject", "");
        message.data = *data;
        if (!block->empty()) {
            auto headers = client::Headers::decode(*block);
            if (!headers) {
                error = fmt::format("{}/messages.jsonl line {}: bad headers", dir, line_number);
                return false;
            }
            message.headers = std::move(headers.value());
        }
        if (!messages.empty() && message.seq <= messages.back().seq) {
            error =
                fmt::format("{}/messages.jsonl line {}: sequences out of order", dir, line_number);
            return false;
        }
        messages.push_back(std::move(message));
    }
    return true;
}

// A JetStream publish as a plain request: PUB when the message has no headers (the client's
// JetStream publish always sends HPUB, which would store an empty header block the original
// message did not have). The callback gets the PubAck or the error.
void publish_raw(JsClient& client,
                 const std::string& subject,
                 const client::Headers& headers,
                 const std::string& payload,
                 std::function<void(client::JsResult<client::PubAck>)> callback) {
    auto on_reply = [callback = std::move(callback)](Result<client::Message> reply) {
        if (!reply) {
            if (reply.error() == client::Errc::no_responders)
                return callback(client::JsErrc::no_stream_response);
            return callback(reply.error());
        }
        const json ack = json::parse(reply.value().payload, nullptr, false);
        if (!ack.is_object()) return callback(client::JsErrc::bad_response);
        if (const auto error = ack.find("error"); error != ack.end() && error->is_object()) {
            client::JsError failure{make_error_code(client::JsErrc::api_error), {}};
            failure.api.code = error->value("code", 0);
            failure.api.err_code = error->value("err_code", 0);
            failure.api.description = error->value("description", std::string{});
            return callback(failure);
        }
        client::PubAck parsed;
        parsed.stream = ack.value("stream", std::string{});
        parsed.sequence = ack.value("seq", std::uint64_t{0});
        parsed.duplicate = ack.value("duplicate", false);
        callback(parsed);
    };
    if (headers.empty()) {
        client.connection().request(subject, payload, client.global().timeout, std::move(on_reply));
    } else {
        client.connection().request(
            subject, headers, payload, client.global().timeout, std::move(on_reply));
    }
}

// Publishes the backed-up messages at their sequences (see the file comment), checking every
// PubAck. Returns an empty string or what went wrong.
std::string republish(JsClient& client,
                      const std::string& stream,
                      const std::vector<BackedUpMsg>& messages,
                      std::uint64_t first_seq,
                      std::uint64_t& gaps) {
    // Acks may come after a wait gave up: they write into shared slots, not the stack.
    auto failure = std::make_shared<std::string>();
    auto pending = std::make_shared<std::size_t>(0);
    const Duration ack_wait = client.global().timeout * 4;
    auto wait_below = [&](std::size_t limit) {
        client.run_until([&] { return *pending < limit || !failure->empty(); }, ack_wait);
        if (*pending >= limit && failure->empty())
            *failure = "publishes were not acknowledged in time";
        return failure->empty();
    };
    std::uint64_t expected = first_seq;
    for (const BackedUpMsg& message : messages) {
        while (expected < message.seq) {
            // A deleted sequence inside the range: take it with an empty message, then delete it.
            if (!wait_below(1)) return *failure;
            auto ack = client.await<client::PubAck>([&](client::JsCallback<client::PubAck> done) {
                publish_raw(client, message.subject, {}, "", std::move(done));
            });
            if (!ack)
                return fmt::format(
                    "placeholder for sequence {}: {}", expected, describe(ack.error()));
            if (ack->sequence != expected) {
                return fmt::format(
                    "placeholder got sequence {}, expected {}", ack->sequence, expected);
            }
            auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
                client.js().delete_msg(stream, expected, true, std::move(done));
            });
            if (!deleted)
                return fmt::format("deleting sequence {}: {}", expected, describe(deleted.error()));
            ++gaps;
            ++expected;
        }
        if (!wait_below(restore_window)) return *failure;
        client::Headers headers;
        for (const auto& [key, value] : message.headers.fields()) {
            // Expectations were checked when the message was first stored; they would fail now.
            if (!key.starts_with("Nats-Expected-")) headers.add(key, value);
        }
        const std::uint64_t seq = message.seq;
        ++*pending;
        publish_raw(client,
                    message.subject,
                    headers,
                    message.data,
                    [failure, pending, seq](client::JsResult<client::PubAck> ack) {
                        --*pending;
                        if (!failure->empty()) return;
                        if (!ack) {
                            *failure = fmt::format("message {}: {}", seq, describe(ack.error()));
                        } else if (ack->duplicate) {
                            *failure = fmt::format(
                                "message {} was taken for a duplicate (Nats-Msg-Id "
                                "within the duplicate window)",
                                seq);
                        } else if (ack->sequence != seq) {
                            *failure = fmt::format(
                                "message {} was stored at sequence {}", seq, ack->sequence);
                        }
                    });
        expected = seq + 1;
    }
    wait_below(1);
    return *failure;
}

}  // namespace

int run_stream_backup(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string name = args.positionals()[0];
    const std::string dir = args.positionals()[1];
    if (file_exists(join_path(dir, "backup.json"))) {
        print_error(fmt::format("{} already holds a backup; choose an empty directory", dir));
        return exit_failure;
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        print_error(fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
        return exit_failure;
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto info = client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
        client.js().stream_info(name, std::move(done));
    });
    if (!info) return js_failure(fmt::format("could not load stream {}", name), info.error());
    const json reply = json::parse(info->json, nullptr, false);
    if (!reply.is_object() || !reply.contains("config")) {
        print_error("the stream info reply has no config");
        return exit_failure;
    }
    std::ofstream out(join_path(dir, "messages.jsonl"), std::ios::trunc);
    const client::StreamState& state = info->state;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::uint64_t next = state.first_seq;
    // Reads the messages stored now, up to the last sequence of the info (later ones are left).
    while (state.messages > 0 && next <= state.last_seq) {
        client::MsgGetRequest request;
        request.seq = next;
        request.next_by_subject = ">";
        auto message =
            client.await<client::StoredMsg>([&](client::JsCallback<client::StoredMsg> done) {
                client.js().get_msg(name, request, std::move(done));
            });
        if (!message && message.error().code == client::JsErrc::message_not_found) break;
        if (!message)
            return js_failure(fmt::format("could not read {} at {}", name, next), message.error());
        if (message->sequence > state.last_seq) break;
        out << stored_msg_json(*message).dump() << '\n';
        ++count;
        bytes += message->data.size();
        next = message->sequence + 1;
    }
    out.close();
    json meta = {{"format", backup_format},
                 {"version", backup_version},
                 {"stream", name},
                 {"config", reply["config"]},
                 {"state",
                  {{"messages", state.messages},
                   {"bytes", state.bytes},
                   {"first_seq", state.first_seq},
                   {"last_seq", state.last_seq},
                   {"num_deleted", state.num_deleted}}},
                 {"messages", count}};
    std::ofstream meta_out(join_path(dir, "backup.json"), std::ios::trunc);
    meta_out << meta.dump(2) << '\n';
    meta_out.close();
    if (!out || !meta_out) {
        print_error(fmt::format("cannot write the backup in {}: {}", dir, std::strerror(errno)));
        return exit_failure;
    }
    std::printf("Backed up stream %s: %s messages (%s of data), sequences %llu..%llu, to %s\n",
                name.c_str(),
                comma(static_cast<std::int64_t>(count)).c_str(),
                ibytes(bytes).c_str(),
                static_cast<unsigned long long>(state.first_seq),
                static_cast<unsigned long long>(state.last_seq),
                dir.c_str());
    return exit_ok;
}

int run_stream_restore(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string dir = args.positionals()[0];
    json meta;
    std::vector<BackedUpMsg> messages;
    std::string error;
    if (!load_backup(dir, meta, messages, error)) {
        print_error(error);
        return exit_failure;
    }
    const std::string name = meta["stream"].get<std::string>();
    const json original = meta["config"];
    if ((original.contains("mirror") && !original["mirror"].is_null())
        || (original.contains("sources") && original["sources"].is_array()
            && !original["sources"].empty())) {
        print_error(fmt::format(
            "stream {} has a mirror or sources; restoring those is not supported", name));
        return exit_failure;
    }
    const json& state = meta["state"];
    std::uint64_t first_seq = state.value("first_seq", std::uint64_t{0});
    const std::uint64_t last_seq = state.value("last_seq", std::uint64_t{0});
    if (messages.empty() && last_seq > 0) first_seq = last_seq + 1;
    if (!messages.empty())
        first_seq =
            std::min(first_seq == 0 ? messages.front().seq : first_seq, messages.front().seq);

    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto existing =
        client.await<client::StreamInfo>([&](client::JsCallback<client::StreamInfo> done) {
            client.js().stream_info(name, std::move(done));
        });
    if (existing) {
        print_error(fmt::format(
            "stream {} already exists; remove it first (herald stream rm {} -f)", name, name));
        return exit_failure;
    }
    if (existing.error().code != client::JsErrc::stream_not_found) {
        return js_failure(fmt::format("could not look up stream {}", name), existing.error());
    }
    // Create it open for publishing and deleting; the original settings come back at the end.
    json creating = original;
    creating["sealed"] = false;
    creating["deny_delete"] = false;  // deleted sequences are recreated with MSG.DELETE
    creating["deny_purge"] = false;   // the first sequence is set with a purge
    auto created = client.api_request(fmt::format("STREAM.CREATE.{}", name), creating.dump());
    if (!created)
        return js_failure(fmt::format("could not create stream {}", name), created.error());
    if (first_seq > 1) {
        client::PurgeOptions purge;
        purge.seq = first_seq;
        auto purged = client.await<std::uint64_t>([&](client::JsCallback<std::uint64_t> done) {
            client.js().purge_stream(name, purge, std::move(done));
        });
        if (!purged)
            return js_failure(
                fmt::format("could not move stream {} to sequence {}", name, first_seq),
                purged.error());
    }
    std::uint64_t gaps = 0;
    if (const std::string failure =
            republish(client, name, messages, std::max<std::uint64_t>(first_seq, 1), gaps);
        !failure.empty()) {
        print_error(fmt::format("restore of stream {} failed: {}", name, failure));
        return exit_failure;
    }
    if (original.value("sealed", false) || original.value("deny_delete", false)
        || original.value("deny_purge", false)) {
        auto updated = client.api_request(fmt::format("STREAM.UPDATE.{}", name), original.dump());
        if (!updated)
            return js_failure(fmt::format("could not restore the settings of {}", name),
                              updated.error());
    }
    client.close();
    std::printf(
        "Restored stream %s: %s messages, sequences %llu..%llu, %s deleted sequences recreated\n",
        name.c_str(),
        comma(static_cast<std::int64_t>(messages.size())).c_str(),
        static_cast<unsigned long long>(first_seq),
        static_cast<unsigned long long>(messages.empty() ? first_seq - 1 : messages.back().seq),
        comma(static_cast<std::int64_t>(gaps)).c_str());
    return exit_ok;
}

}  // namespace herald::cli
