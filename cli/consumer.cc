// `herald consumer add/ls/info/rm/next`, modelled on `nats consumer`: same words and flags, no
// prompts (what natscli would ask is a usage error unless --defaults), natscli's layout, --json
// with the server's JSON.
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/js_client.h"
#include "cli/js_format.h"
#include "cli/stream_support.h"

namespace herald::cli {
namespace {

using client::ConsumerConfig;
using client::ConsumerInfo;
using nlohmann::json;

void print_json_text(const std::string& text) {
    const json parsed = json::parse(text, nullptr, false);
    std::printf("%s\n", parsed.is_discarded() ? text.c_str() : parsed.dump(2).c_str());
}

// Fills `config` from the flags; false with `error` on a bad or missing value.
bool consumer_config_from_flags(const ParsedArgs& args,
                                io::Env& env,
                                ConsumerConfig& config,
                                std::string& error) {
    const bool defaults = args.has("defaults");
    const bool push = args.has("target");
    if (push && args.has("pull")) {
        error = "--pull and --target exclude each other";
        return false;
    }
    if (!defaults) {
        std::string missing;
        auto need = [&](bool present, std::string_view what) {
            if (!present) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", what);
        };
        need(push || args.has("pull"), "--pull or --target");
        need(args.has("deliver"), "--deliver");
        need(args.has("ack"), "--ack");
        if (push) need(args.has("replay"), "--replay");
        need(args.has("filter"), "--filter");
        need(args.has("max-deliver"), "--max-deliver");
        need(args.has("max-pending"), "--max-pending");
        if (!missing.empty()) {
            error = fmt::format("missing {} (no prompts: give them, or --defaults)", missing);
            return false;
        }
    }
    if (push) config.deliver_subject = *args.value("target");
    if (const auto group = args.value("deliver-group")) {
        if (!push) {
            error = "--deliver-group needs --target";
            return false;
        }
        config.deliver_group = *group;
    }
    if (const auto text = args.value("description")) config.description = *text;
    if (const auto text = args.value("filter")) config.filter_subject = *text;
    if (const auto text = args.value("deliver")) {
        const auto choice = parse_deliver(*text);
        if (!choice) {
            error = fmt::format(
                "bad value for --deliver: '{}' (all, last, new, last-per-subject, a "
                "sequence, or a duration like 1h)",
                *text);
            return false;
        }
        using Kind = DeliverChoice::Kind;
        switch (choice->kind) {
            case Kind::all:
                config.deliver_policy = client::DeliverPolicy::all;
                break;
            case Kind::last:
                config.deliver_policy = client::DeliverPolicy::last;
                break;
            case Kind::new_messages:
                config.deliver_policy = client::DeliverPolicy::new_messages;
                break;
            case Kind::last_per_subject:
                config.deliver_policy = client::DeliverPolicy::last_per_subject;
                break;
            case Kind::by_start_sequence:
                config.deliver_policy = client::DeliverPolicy::by_start_sequence;
                config.opt_start_seq = choice->sequence;
                break;
            case Kind::by_start_time: {
                config.deliver_policy = client::DeliverPolicy::by_start_time;
                const std::int64_t now = env.clock.realtime_ns();
                config.opt_start_time =
                    client::format_rfc3339_ns(now - static_cast<std::int64_t>(choice->age.ns));
                break;
            }
        }
    }
    if (const auto text = args.value("ack")) {
        const auto ack = parse_ack(*text);
        if (!ack) {
            error = fmt::format("bad value for --ack: '{}' (explicit, all or none)", *text);
            return false;
        }
        config.ack_policy = *ack == AckWord::none  ? client::AckPolicy::none
                            : *ack == AckWord::all ? client::AckPolicy::all
                                                   : client::AckPolicy::explicit_ack;
    }
    if (const auto text = args.value("replay")) {
        const auto replay = parse_replay(*text);
        if (!replay) {
            error = fmt::format("bad value for --replay: '{}' (instant or original)", *text);
            return false;
        }
        config.replay_policy = *replay == ReplayWord::instant ? client::ReplayPolicy::instant
                                                              : client::ReplayPolicy::original;
    }
    struct CountFlag {
        std::string_view name;
        std::int64_t* target;
    };
    for (const CountFlag& flag : {CountFlag{"max-deliver", &config.max_deliver},
                                  CountFlag{"max-pending", &config.max_ack_pending},
                                  CountFlag{"max-waiting", &config.max_waiting}}) {
        if (const auto text = args.value(flag.name)) {
            const auto value = parse_limit(*text, false);
            if (!value) {
                error = fmt::format("bad value for --{}: '{}' (a count, or -1)", flag.name, *text);
                return false;
            }
            *flag.target = *value;
        }
    }
    struct DurationFlag {
        std::string_view name;
        Duration* target;
    };
    for (const DurationFlag& flag :
         {DurationFlag{"wait", &config.ack_wait},
          DurationFlag{"heartbeat", &config.idle_heartbeat},
          DurationFlag{"inactive-threshold", &config.inactive_threshold}}) {
        const auto value = duration_flag(args, flag.name, *flag.target, error);
        if (!value) return false;
        *flag.target = *value;
    }
    if (args.has("flow-control")) {
        if (!push) {
            error = "--flow-control needs --target";
            return false;
        }
        config.flow_control = true;
    }
    return true;
}

}  // namespace

int run_consumer_add(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string stream = args.positionals()[0];
    const std::string name = args.positionals()[1];
    if (!client::valid_stream_name(name)) {
        return usage_error("consumer add", fmt::format("invalid consumer name '{}'", name));
    }
    JsClient client(global);
    ConsumerConfig config;
    config.durable_name = name;
    std::string error;
    if (!consumer_config_from_flags(args, client.env(), config, error))
        return usage_error("consumer add", error);
    if (!client.connect()) return exit_failure;
    auto info = client.await<ConsumerInfo>([&](client::JsCallback<ConsumerInfo> done) {
        client.js().add_consumer(stream, config, std::move(done));
    });
    if (!info)
        return js_failure(fmt::format("could not create consumer {} on {}", name, stream),
                          info.error());
    if (args.has("json")) {
        print_json_text(info->json);
    } else {
        std::fputs(consumer_info_text(*info).c_str(), stdout);
    }
    return exit_ok;
}

int run_consumer_ls(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string stream = args.positionals()[0];
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    if (args.has("names") || args.has("json")) {
        auto names = client.await<std::vector<std::string>>(
            [&](client::JsCallback<std::vector<std::string>> done) {
                client.js().consumer_names(stream, std::move(done));
            });
        if (!names)
            return js_failure(fmt::format("could not list the consumers of {}", stream),
                              names.error());
        if (args.has("json")) {
            std::printf("%s\n", json(*names).dump(2).c_str());
        } else {
            for (const std::string& name : *names)
                std::printf("%s\n", name.c_str());
        }
        return exit_ok;
    }
    auto infos = client.await<std::vector<ConsumerInfo>>(
        [&](client::JsCallback<std::vector<ConsumerInfo>> done) {
            client.js().consumers(stream, std::move(done));
        });
    if (!infos)
        return js_failure(fmt::format("could not list the consumers of {}", stream), infos.error());
    if (infos->empty()) {
        std::printf("No Consumers defined\n");
        return exit_ok;
    }
    std::sort(infos->begin(), infos->end(), [](const ConsumerInfo& a, const ConsumerInfo& b) {
        return a.name < b.name;
    });
    Table table("Consumers",
                {"Name", "Description", "Created", "Ack Pending", "Unprocessed", "Last Delivery"});
    for (const ConsumerInfo& info : *infos) {
        table.add_row(
            {info.name,
             info.config.description,
             short_time(info.created),
             comma(static_cast<std::int64_t>(info.num_ack_pending)),
             comma(static_cast<std::int64_t>(info.num_pending)),
             info.delivered.stream_seq == 0 ? "never" : short_time(info.delivered.last_active)});
    }
    std::fputs(table.render().c_str(), stdout);
    return exit_ok;
}

int run_consumer_info(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string stream = args.positionals()[0];
    const std::string name = args.positionals()[1];
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto info = client.await<ConsumerInfo>([&](client::JsCallback<ConsumerInfo> done) {
        client.js().consumer_info(stream, name, std::move(done));
    });
    if (!info)
        return js_failure(fmt::format("could not load consumer {} > {}", stream, name),
                          info.error());
    if (args.has("json")) {
        print_json_text(info->json);
    } else {
        std::fputs(consumer_info_text(*info).c_str(), stdout);
    }
    return exit_ok;
}

int run_consumer_rm(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string stream = args.positionals()[0];
    const std::string name = args.positionals()[1];
    if (!args.has("force")) {
        return usage_error(
            "consumer rm",
            fmt::format(
                "refusing to delete consumer {} > {} without --force (no prompts)", stream, name));
    }
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto deleted = client.await<client::Done>([&](client::JsCallback<client::Done> done) {
        client.js().delete_consumer(stream, name, std::move(done));
    });
    if (!deleted)
        return js_failure(fmt::format("could not delete consumer {} > {}", stream, name),
                          deleted.error());
    return exit_ok;
}

int run_consumer_next(const GlobalOptions& global, const ParsedArgs& args) {
    const std::string stream = args.positionals()[0];
    const std::string name = args.positionals()[1];
    std::string error;
    const auto count = count_flag(args, "count", 1, error);
    const auto wait = duration_flag(args, "wait", global.timeout, error);
    if (!count || !wait) return usage_error("consumer next", error);
    if (*count == 0)
        return usage_error("consumer next", "bad value for --count: must be at least 1");
    if (args.has("ack") && args.has("no-ack"))
        return usage_error("consumer next", "--ack and --no-ack exclude each other");
    const bool ack = !args.has("no-ack");
    const bool raw = args.has("raw");
    JsClient client(global);
    if (!client.connect()) return exit_failure;
    auto subscription = client.await<client::PullSubscription>(
        [&](client::JsCallback<client::PullSubscription> done) {
            client.js().pull_subscribe(stream, name, std::move(done));
        });
    if (!subscription) {
        return js_failure(fmt::format("could not load consumer {} > {}", stream, name),
                          subscription.error());
    }
    for (std::uint64_t received = 0; received < *count; ++received) {
        client::FetchOptions options;
        options.batch = 1;
        options.expires = *wait;
        auto batch = client.await<std::vector<client::JsMsg>>(
            [&](client::JsCallback<std::vector<client::JsMsg>> done) {
                subscription->fetch(options, std::move(done));
            });
        if (!batch) return js_failure("could not fetch a message", batch.error());
        if (batch->empty()) {
            print_error(
                fmt::format("no message from {} > {} within {}", stream, name, go_duration(*wait)));
            return exit_failure;
        }
        client::JsMsg& message = batch->front();
        if (raw) {
            std::string out = message.data() + "\n";
            std::fwrite(out.data(), 1, out.size(), stdout);
        } else {
            const auto meta = message.metadata();
            std::string out;
            if (meta) {
                const std::time_t seconds =
                    static_cast<std::time_t>(meta->timestamp_ns / 1000000000);
                std::tm local{};
                gmtime_r(&seconds, &local);
                char stamp[16];
                std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
                out = fmt::format(
                    "[{}] subj: {} / tries: {} / cons seq: {} / str seq: {} / pending: {}\n\n",
                    stamp,
                    message.subject(),
                    meta->num_delivered,
                    meta->consumer_sequence,
                    meta->stream_sequence,
                    meta->num_pending);
            } else {
                out = fmt::format("subj: {}\n\n", message.subject());
            }
            if (!message.headers().fields().empty()) {
                out += "Headers:\n\n";
                for (const auto& [key, value] : message.headers().fields())
                    out += fmt::format("  {}: {}\n", key, value);
                out += "\nData:\n\n";
            }
            out += message.data() + "\n";
            std::fwrite(out.data(), 1, out.size(), stdout);
        }
        if (ack) {
            if (const client::JsStatus acked = message.ack(); !acked)
                return js_failure("could not acknowledge", acked.error());
            // The flush's PONG comes after the server processed the ack.
            auto flushed = std::make_shared<std::optional<Status>>();
            client.connection().flush(global.timeout,
                                      [flushed](Status status) { *flushed = status; });
            client.run_until([&] { return flushed->has_value(); }, global.timeout * 2);
            if (!flushed->has_value() || !**flushed) {
                print_error("could not confirm the acknowledgement (flush failed)");
                return exit_failure;
            }
            if (!raw) std::printf("\nAcknowledged message\n\n");
        }
        std::fflush(stdout);
    }
    return exit_ok;
}

}  // namespace herald::cli
