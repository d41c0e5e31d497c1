#include "cli/stream_support.h"

#include <fmt/format.h>

#include "cli/js_format.h"

namespace herald::cli {
namespace {

constexpr std::string_view stream_flag_names[] = {"subjects",
                                                  "description",
                                                  "storage",
                                                  "retention",
                                                  "discard",
                                                  "max-msgs",
                                                  "max-msgs-per-subject",
                                                  "max-bytes",
                                                  "max-age",
                                                  "max-msg-size",
                                                  "max-consumers",
                                                  "dupe-window",
                                                  "replicas",
                                                  "allow-rollup",
                                                  "deny-delete",
                                                  "deny-purge",
                                                  "allow-direct"};

std::string yes_no(bool value) {
    return value ? "true" : "false";
}

std::string sequence_text(const client::SequenceInfo& info) {
    return fmt::format("Consumer sequence: {} Stream sequence: {}",
                       comma(static_cast<std::int64_t>(info.consumer_seq)),
                       comma(static_cast<std::int64_t>(info.stream_seq)));
}

}  // namespace

bool has_stream_flags(const ParsedArgs& args) {
    for (const std::string_view name : stream_flag_names) {
        if (args.has(name)) return true;
    }
    return false;
}

bool apply_stream_flags(const ParsedArgs& args, client::StreamConfig& config, std::string& error) {
    auto bad = [&](std::string_view flag, const std::string& value, std::string_view expected) {
        error = fmt::format("bad value for --{}: '{}' ({})", flag, value, expected);
        return false;
    };
    if (const auto value = args.value("subjects")) {
        config.subjects = split_list(*value);
        if (config.subjects.empty()) return bad("subjects", *value, "one or more subjects");
    }
    if (const auto value = args.value("description")) config.description = *value;
    if (const auto value = args.value("storage")) {
        const auto word = parse_storage(*value);
        if (!word) return bad("storage", *value, "file or memory");
        config.storage =
            *word == StorageWord::file ? client::StorageType::file : client::StorageType::memory;
    }
    if (const auto value = args.value("retention")) {
        const auto word = parse_retention(*value);
        if (!word) return bad("retention", *value, "limits, interest or work");
        config.retention = *word == RetentionWord::limits     ? client::RetentionPolicy::limits
                           : *word == RetentionWord::interest ? client::RetentionPolicy::interest
                                                              : client::RetentionPolicy::workqueue;
    }
    if (const auto value = args.value("discard")) {
        const auto word = parse_discard(*value);
        if (!word) return bad("discard", *value, "old or new");
        config.discard = *word == DiscardWord::old_messages ? client::DiscardPolicy::old_messages
                                                            : client::DiscardPolicy::new_messages;
    }
    struct LimitFlag {
        std::string_view name;
        bool size;
        std::int64_t* target;
    };
    const LimitFlag limits[] = {{"max-msgs", false, &config.max_msgs},
                                {"max-msgs-per-subject", false, &config.max_msgs_per_subject},
                                {"max-bytes", true, &config.max_bytes},
                                {"max-consumers", false, &config.max_consumers}};
    for (const LimitFlag& flag : limits) {
        if (const auto value = args.value(flag.name)) {
            const auto limit = parse_limit(*value, flag.size);
            if (!limit)
                return bad(
                    flag.name, *value, flag.size ? "a size like 1GB, or -1" : "a count, or -1");
            *flag.target = *limit;
        }
    }
    if (const auto value = args.value("max-msg-size")) {
        const auto limit = parse_limit(*value, true);
        if (!limit || *limit > INT32_MAX)
            return bad("max-msg-size", *value, "a size like 1MB, or -1");
        config.max_msg_size = static_cast<std::int32_t>(*limit);
    }
    if (const auto value = args.value("max-age")) {
        const auto age = parse_age(*value);
        if (!age) return bad("max-age", *value, "a duration like 1h, 30d or 1y; 0 for unlimited");
        config.max_age = *age;
    }
    if (const auto value = args.value("dupe-window")) {
        const auto window = parse_age(*value);
        if (!window) return bad("dupe-window", *value, "a duration like 2m");
        config.duplicate_window = *window;
    }
    if (const auto value = args.value("replicas")) {
        const auto replicas = parse_count(*value);
        if (!replicas || *replicas < 1 || *replicas > 5) return bad("replicas", *value, "1 to 5");
        config.num_replicas = static_cast<int>(*replicas);
    }
    if (args.has("allow-rollup")) config.allow_rollup_hdrs = true;
    if (args.has("deny-delete")) config.deny_delete = true;
    if (args.has("deny-purge")) config.deny_purge = true;
    if (args.has("allow-direct")) config.allow_direct = true;
    return true;
}

std::string stream_info_text(const client::StreamInfo& info) {
    const client::StreamConfig& config = info.config;
    std::string out = fmt::format("Information for Stream {} created {}\n\nConfiguration:\n\n",
                                  config.name,
                                  short_time(info.created));
    Section section;
    if (!config.description.empty()) section.add("Description", config.description);
    std::string subjects;
    for (const std::string& subject : config.subjects)
        subjects += (subjects.empty() ? "" : ", ") + subject;
    if (!subjects.empty()) section.add("Subjects", subjects);
    section.add("Acknowledgements", yes_no(!config.no_ack));
    const std::string_view retention =
        config.retention == client::RetentionPolicy::limits     ? "Limits"
        : config.retention == client::RetentionPolicy::interest ? "Interest"
                                                                : "WorkQueue";
    section.add(
        "Retention",
        fmt::format(
            "{} - {}", config.storage == client::StorageType::file ? "File" : "Memory", retention));
    section.add("Replicas", std::to_string(config.num_replicas));
    section.add("Discard Policy",
                config.discard == client::DiscardPolicy::old_messages ? "Old" : "New");
    section.add("Duplicate Window", go_duration(config.duplicate_window));
    if (config.allow_direct) section.add("Allows Direct", "true");
    section.add("Allows Msg Delete", yes_no(!config.deny_delete));
    section.add("Allows Purge", yes_no(!config.deny_purge));
    section.add("Allows Rollups", yes_no(config.allow_rollup_hdrs));
    if (config.sealed) section.add("Sealed", "true");
    section.add("Maximum Messages", limit_text(config.max_msgs));
    section.add("Maximum Per Subject", limit_text(config.max_msgs_per_subject));
    section.add("Maximum Bytes", size_limit_text(config.max_bytes));
    section.add("Maximum Age", config.max_age.ns == 0 ? "unlimited" : go_duration(config.max_age));
    section.add("Maximum Message Size", size_limit_text(config.max_msg_size));
    section.add("Maximum Consumers", limit_text(config.max_consumers));
    if (config.mirror) section.add("Mirror", config.mirror->name);
    for (const auto& source : config.sources)
        section.add("Source", source.name);
    out += section.render();
    out += "\nState:\n\n";
    const client::StreamState& state = info.state;
    Section state_section;
    state_section.add("Messages", comma(static_cast<std::int64_t>(state.messages)));
    state_section.add("Bytes", ibytes(state.bytes));
    state_section.add("FirstSeq",
                      state.first_seq == 0
                          ? "0"
                          : fmt::format("{} @ {} UTC",
                                        comma(static_cast<std::int64_t>(state.first_seq)),
                                        short_time(state.first_ts)));
    state_section.add("LastSeq",
                      state.last_seq == 0
                          ? "0"
                          : fmt::format("{} @ {} UTC",
                                        comma(static_cast<std::int64_t>(state.last_seq)),
                                        short_time(state.last_ts)));
    if (state.num_deleted > 0)
        state_section.add("Deleted Messages", comma(static_cast<std::int64_t>(state.num_deleted)));
    state_section.add("Active Consumers", comma(static_cast<std::int64_t>(state.consumer_count)));
    if (state.num_subjects > 0)
        state_section.add("Number of Subjects",
                          comma(static_cast<std::int64_t>(state.num_subjects)));
    out += state_section.render();
    return out;
}

std::string consumer_info_text(const client::ConsumerInfo& info) {
    const client::ConsumerConfig& config = info.config;
    std::string out =
        fmt::format("Information for Consumer {} > {} created {}\n\nConfiguration:\n\n",
                    info.stream_name,
                    info.name,
                    short_time(info.created));
    Section section;
    if (!config.durable_name.empty()) section.add("Durable Name", config.durable_name);
    if (!config.description.empty()) section.add("Description", config.description);
    if (config.deliver_subject.empty()) {
        section.add("Pull Mode", "true");
    } else {
        section.add("Delivery Subject", config.deliver_subject);
    }
    if (!config.filter_subject.empty()) section.add("Filter Subject", config.filter_subject);
    switch (config.deliver_policy) {
        case client::DeliverPolicy::all:
            section.add("Deliver Policy", "All");
            break;
        case client::DeliverPolicy::last:
            section.add("Deliver Policy", "Last");
            break;
        case client::DeliverPolicy::new_messages:
            section.add("Deliver Policy", "New");
            break;
        case client::DeliverPolicy::last_per_subject:
            section.add("Deliver Policy", "Last Per Subject");
            break;
        case client::DeliverPolicy::by_start_sequence:
            section.add("Deliver Policy", fmt::format("From Sequence {}", config.opt_start_seq));
            break;
        case client::DeliverPolicy::by_start_time:
            section.add("Deliver Policy",
                        fmt::format("Since {}", short_time(config.opt_start_time)));
            break;
    }
    const std::string_view ack = config.ack_policy == client::AckPolicy::none  ? "None"
                                 : config.ack_policy == client::AckPolicy::all ? "All"
                                                                               : "Explicit";
    section.add("Ack Policy", std::string(ack));
    if (config.ack_policy != client::AckPolicy::none)
        section.add("Ack Wait", go_duration(config.ack_wait));
    section.add("Replay Policy",
                config.replay_policy == client::ReplayPolicy::instant ? "Instant" : "Original");
    if (config.max_deliver > 0) section.add("Maximum Deliveries", comma(config.max_deliver));
    if (config.max_ack_pending > 0) section.add("Max Ack Pending", comma(config.max_ack_pending));
    if (config.max_waiting > 0) section.add("Max Waiting Pulls", comma(config.max_waiting));
    if (config.idle_heartbeat.ns > 0)
        section.add("Idle Heartbeat", go_duration(config.idle_heartbeat));
    if (config.flow_control) section.add("Flow Control", "true");
    if (!config.deliver_group.empty()) section.add("Deliver Queue Group", config.deliver_group);
    out += section.render();
    out += "\nState:\n\n";
    Section state;
    state.add("Last Delivered Message", sequence_text(info.delivered));
    state.add("Acknowledgment floor", sequence_text(info.ack_floor));
    state.add("Outstanding Acks",
              config.max_ack_pending > 0
                  ? fmt::format("{} out of maximum {}",
                                comma(static_cast<std::int64_t>(info.num_ack_pending)),
                                comma(config.max_ack_pending))
                  : comma(static_cast<std::int64_t>(info.num_ack_pending)));
    state.add("Redelivered Messages", comma(static_cast<std::int64_t>(info.num_redelivered)));
    state.add("Unprocessed Messages", comma(static_cast<std::int64_t>(info.num_pending)));
    if (config.deliver_subject.empty()) {
        state.add("Waiting Pulls",
                  config.max_waiting > 0
                      ? fmt::format("{} of maximum {}",
                                    comma(static_cast<std::int64_t>(info.num_waiting)),
                                    comma(config.max_waiting))
                      : comma(static_cast<std::int64_t>(info.num_waiting)));
    } else {
        state.add("Active Interest", info.push_bound ? "Active" : "No interest");
    }
    out += state.render();
    return out;
}

nlohmann::json stored_msg_json(const client::StoredMsg& message) {
    nlohmann::json out = {{"subject", message.subject}, {"seq", message.sequence}};
    if (!message.headers.empty()) {
        std::string block;
        message.headers.encode(block);
        out["hdrs"] = base64_encode(block);
    }
    if (!message.data.empty()) out["data"] = base64_encode(message.data);
    out["time"] = message.time;
    return out;
}

}  // namespace herald::cli
