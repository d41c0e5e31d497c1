#include "engine/jetstream/stream_config.h"

#include <limits>
#include <set>

#include "engine/jetstream/stream_source.h"
#include "engine/jetstream/subject_transform.h"
#include "engine/protocol/subject.h"

namespace herald::jetstream {

namespace {

std::optional<ApiFailure> invalid_json() {
    return api_failure(ApiError::invalid_json);
}
std::optional<ApiFailure> invalid_config(std::string_view why) {
    return api_failure(ApiError::stream_invalid_config, why);
}

// Field readers in the manner of encoding/json: absent or null leaves the value; a wrong type
// fails.
bool read_string(const Json& json, const char* key, std::string& out) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
}

bool read_int(
    const Json& json, const char* key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    if (it->is_number_unsigned()) {
        const auto value = it->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(max)) return false;
        out = static_cast<std::int64_t>(value);
        return true;
    }
    if (!it->is_number_integer()) return false;
    const auto value = it->get<std::int64_t>();
    if (value < min || value > max) return false;
    out = value;
    return true;
}

bool read_bool(const Json& json, const char* key, bool& out) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    if (!it->is_boolean()) return false;
    out = it->get<bool>();
    return true;
}

bool read_raw(const Json& json, const char* key, Json& out) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    out = *it;
    return true;
}

constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int32_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();

}  // namespace

std::string_view retention_name(Retention retention) {
    switch (retention) {
        case Retention::limits:
            return "limits";
        case Retention::interest:
            return "interest";
        case Retention::workqueue:
            return "workqueue";
    }
    return "limits";
}

std::string_view discard_name(DiscardPolicy discard) {
    return discard == DiscardPolicy::new_messages ? "new" : "old";
}

std::string_view storage_name(Storage storage) {
    return storage == Storage::memory ? "memory" : "file";
}

store::StoreLimits StreamConfig::store_limits() const {
    store::StoreLimits limits;
    limits.max_msgs = max_msgs;
    limits.max_bytes = max_bytes;
    limits.max_age = Duration{max_age_ns > 0 ? static_cast<std::uint64_t>(max_age_ns) : 0};
    limits.max_msgs_per_subject = max_msgs_per_subject;
    limits.discard = discard == DiscardPolicy::new_messages ? store::Discard::new_messages
                                                            : store::Discard::old_messages;
    limits.discard_new_per_subject = discard_new_per_subject;
    return limits;
}

std::optional<ApiFailure> parse_stream_config(std::string_view text, StreamConfig& config) {
    const Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded()) return invalid_json();
    return stream_config_from_json(json, config);
}

std::optional<ApiFailure> stream_config_from_json(const Json& json, StreamConfig& config) {
    if (json.is_null()) return std::nullopt;  // Go unmarshals "null" into the zero config.
    if (!json.is_object()) return invalid_json();
    StreamConfig out;
    bool ok =
        read_string(json, "name", out.name) && read_string(json, "description", out.description)
        && read_int(json, "max_consumers", out.max_consumers, int64_min, int64_max)
        && read_int(json, "max_msgs", out.max_msgs, int64_min, int64_max)
        && read_int(json, "max_bytes", out.max_bytes, int64_min, int64_max)
        && read_int(json, "max_age", out.max_age_ns, int64_min, int64_max)
        && read_int(json, "max_msgs_per_subject", out.max_msgs_per_subject, int64_min, int64_max)
        && read_int(json, "max_msg_size", out.max_msg_size, int32_min, int32_max)
        && read_int(json, "num_replicas", out.num_replicas, int64_min, int64_max)
        && read_bool(json, "no_ack", out.no_ack)
        && read_string(json, "template_owner", out.template_owner)
        && read_int(json, "duplicate_window", out.duplicate_window_ns, int64_min, int64_max)
        && read_raw(json, "placement", out.placement) && read_raw(json, "mirror", out.mirror)
        && read_raw(json, "sources", out.sources) && read_raw(json, "republish", out.republish)
        && read_bool(json, "allow_direct", out.allow_direct)
        && read_bool(json, "mirror_direct", out.mirror_direct)
        && read_bool(json, "discard_new_per_subject", out.discard_new_per_subject)
        && read_bool(json, "sealed", out.sealed) && read_bool(json, "deny_delete", out.deny_delete)
        && read_bool(json, "deny_purge", out.deny_purge)
        && read_bool(json, "allow_rollup_hdrs", out.allow_rollup_hdrs);
    if (!ok) return invalid_json();
    if (!out.republish.is_null()) {
        // RePublish{src omitempty, dest, headers_only omitempty}, normalized.
        if (!out.republish.is_object()) return invalid_json();
        std::string source;
        std::string destination;
        bool headers_only = false;
        if (!read_string(out.republish, "src", source)
            || !read_string(out.republish, "dest", destination)
            || !read_bool(out.republish, "headers_only", headers_only)) {
            return invalid_json();
        }
        out.republish = Json::object();
        if (!source.empty()) out.republish["src"] = source;
        out.republish["dest"] = destination;
        if (headers_only) out.republish["headers_only"] = true;
    }
    if (!normalize_stream_sources(out)) return invalid_json();
    if (const auto it = json.find("subjects"); it != json.end() && !it->is_null()) {
        if (!it->is_array()) return invalid_json();
        for (const auto& subject : *it) {
            if (!subject.is_string()) return invalid_json();
            out.subjects.push_back(subject.get<std::string>());
        }
    }
    // Matches nats-server store.go UnmarshalJSON of the policies: exact strings (discard
    // ignores case).
    std::string text;
    if (!read_string(json, "retention", text)) return invalid_json();
    if (text == "interest") {
        out.retention = Retention::interest;
    } else if (text == "workqueue") {
        out.retention = Retention::workqueue;
    } else if (text != "limits" && json.contains("retention") && !json["retention"].is_null()) {
        return invalid_json();
    }
    text.clear();
    if (!read_string(json, "discard", text)) return invalid_json();
    for (char& c : text)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (text == "new") {
        out.discard = DiscardPolicy::new_messages;
    } else if (!text.empty() && text != "old") {
        return invalid_json();
    }
    text.clear();
    if (!read_string(json, "storage", text)) return invalid_json();
    if (text == "memory") {
        out.storage = Storage::memory;
    } else if (!text.empty() && text != "file") {
        return invalid_json();
    }
    config = std::move(out);
    return std::nullopt;
}

Json stream_config_json(const StreamConfig& config) {
    Json json = Json::object();
    json["name"] = config.name;
    if (!config.description.empty()) json["description"] = config.description;
    if (!config.subjects.empty()) json["subjects"] = config.subjects;
    json["retention"] = retention_name(config.retention);
    json["max_consumers"] = config.max_consumers;
    json["max_msgs"] = config.max_msgs;
    json["max_bytes"] = config.max_bytes;
    json["max_age"] = config.max_age_ns;
    json["max_msgs_per_subject"] = config.max_msgs_per_subject;
    if (config.max_msg_size != 0) json["max_msg_size"] = config.max_msg_size;
    json["discard"] = discard_name(config.discard);
    json["storage"] = storage_name(config.storage);
    json["num_replicas"] = config.num_replicas;
    if (config.no_ack) json["no_ack"] = true;
    if (!config.template_owner.empty()) json["template_owner"] = config.template_owner;
    if (config.duplicate_window_ns != 0) json["duplicate_window"] = config.duplicate_window_ns;
    if (!config.placement.is_null()) json["placement"] = config.placement;
    if (!config.mirror.is_null()) json["mirror"] = config.mirror;
    if (!config.sources.is_null()) json["sources"] = config.sources;
    if (!config.republish.is_null()) json["republish"] = config.republish;
    json["allow_direct"] = config.allow_direct;
    json["mirror_direct"] = config.mirror_direct;
    if (config.discard_new_per_subject) json["discard_new_per_subject"] = true;
    json["sealed"] = config.sealed;
    json["deny_delete"] = config.deny_delete;
    json["deny_purge"] = config.deny_purge;
    json["allow_rollup_hdrs"] = config.allow_rollup_hdrs;
    return json;
}

std::optional<ApiFailure> check_stream_config(StreamConfig& config) {
    // Matches nats-server checkStreamCfg (stream.go), in its order.
    if (!is_valid_name(config.name)) {
        return invalid_config("stream name is required and can not contain '.', '*', '>'");
    }
    if (config.name.size() > name_size_max) {
        return invalid_config("stream name is too long, maximum allowed is 255");
    }
    if (config.description.size() > description_size_max) {
        return invalid_config("stream description is too long, maximum allowed is 4096");
    }
    if (config.num_replicas == 0) config.num_replicas = 1;
    if (config.num_replicas > replicas_max) return invalid_config("maximum replicas is 5");
    if (config.num_replicas < 0) return api_failure(ApiError::replicas_count_cannot_be_negative);
    if (config.max_msgs == 0) config.max_msgs = -1;
    if (config.max_msgs_per_subject == 0) config.max_msgs_per_subject = -1;
    if (config.max_bytes == 0) config.max_bytes = -1;
    if (config.max_msg_size == 0) config.max_msg_size = -1;
    if (config.max_consumers == 0) config.max_consumers = -1;
    if (config.duplicate_window_ns == 0 && config.mirror.is_null()) {
        config.duplicate_window_ns =
            config.max_age_ns != 0 && config.max_age_ns < duplicate_window_default_ns
                ? config.max_age_ns
                : duplicate_window_default_ns;
    }
    if (config.max_age_ns > 0 && config.max_age_ns < limit_duration_min_ns) {
        return invalid_config("max age needs to be >= 100ms");
    }
    if (config.duplicate_window_ns < 0)
        return invalid_config("duplicates window can not be negative");
    if (config.max_age_ns != 0 && config.duplicate_window_ns > config.max_age_ns) {
        return invalid_config("duplicates window can not be larger then max age");
    }
    if (config.duplicate_window_ns > 0 && config.duplicate_window_ns < limit_duration_min_ns) {
        return invalid_config("duplicates window needs to be >= 100ms");
    }
    if (config.deny_purge && config.allow_rollup_hdrs) {
        return invalid_config("roll-ups require the purge permission");
    }
    if (config.discard_new_per_subject) {
        if (config.discard != DiscardPolicy::new_messages) {
            return invalid_config("discard new per subject requires discard new policy to be set");
        }
        if (config.max_msgs_per_subject <= 0) {
            return invalid_config("discard new per subject requires max msgs per subject > 0");
        }
    }
    if (auto failure = check_sources_config(config)) return failure;
    if (config.subjects.empty()) {
        // A mirror or a stream with sources may have no subjects of its own.
        if (config.mirror.is_null() && config.sources.is_null())
            config.subjects.push_back(config.name);
    } else {
        std::set<std::string_view> seen;
        for (const std::string& subject : config.subjects) {
            if (!seen.insert(subject).second) return invalid_config("duplicate subjects detected");
            if (protocol::is_valid_subject(subject)
                && protocol::subject_is_subset(subject, "$JS.API.>")) {
                return invalid_config("subjects overlap with jetstream api");
            }
            if (!protocol::is_valid_subject(subject)) return invalid_config("invalid subject");
        }
    }
    for (const std::string& subject : config.subjects) {
        for (const std::string& other : config.subjects) {
            if (&subject != &other && subjects_collide(subject, other)) {
                return invalid_config("subject \"" + subject + "\" overlaps with \"" + other
                                      + "\"");
            }
        }
    }
    if (!config.republish.is_null()) {
        // Matches nats-server checkStreamCfg's RePublish checks.
        if (config.republish.value("src", std::string()).empty()) {
            Json normalized = Json::object();
            normalized["src"] = ">";
            for (const auto& item : config.republish.items())
                normalized[item.key()] = item.value();
            config.republish = std::move(normalized);
        }
        const std::string source = config.republish["src"].get<std::string>();
        const std::string destination = config.republish.value("dest", std::string());
        bool source_valid = false;
        bool forms_cycle = false;
        for (const std::string& subject : config.subjects) {
            if (subjects_collide(source, subject)) source_valid = true;
            if (protocol::is_valid_subject(destination) && subjects_collide(destination, subject))
                forms_cycle = true;
        }
        if (!source_valid) {
            return invalid_config(
                "stream configuration for republish source is not valid subset of subjects");
        }
        if (forms_cycle)
            return invalid_config("stream configuration for republish destination forms a cycle");
        if (!SubjectTransform::create(source, destination)) {
            return invalid_config("stream configuration for republish not valid");
        }
    }
    return std::nullopt;
}

std::optional<ApiFailure> check_stream_update(const StreamConfig& old_config,
                                              StreamConfig& config) {
    // Matches nats-server configUpdateCheck (stream.go), in its order.
    if (config.name != old_config.name)
        return invalid_config("stream configuration name must match original");
    if (config.max_consumers != old_config.max_consumers) {
        return invalid_config("stream configuration update can not change MaxConsumers");
    }
    if (config.storage != old_config.storage) {
        return invalid_config("stream configuration update can not change storage type");
    }
    if (config.retention != old_config.retention) {
        return invalid_config("stream configuration update can not change retention policy");
    }
    if (!old_config.template_owner.empty()) {
        return invalid_config("stream configuration update not allowed on template owned stream");
    }
    if (!config.template_owner.empty()) {
        return invalid_config("stream configuration update can not be owned by a template");
    }
    if (!config.sealed && old_config.sealed) {
        return invalid_config("stream configuration update can not unseal a sealed stream");
    }
    if (!config.deny_delete && old_config.deny_delete) {
        return invalid_config("stream configuration update can not cancel deny message deletes");
    }
    if (!config.deny_purge && old_config.deny_purge) {
        return invalid_config("stream configuration update can not cancel deny purge");
    }
    if (config.mirror != old_config.mirror)
        return api_failure(ApiError::stream_mirror_not_updatable);
    if (config.republish != old_config.republish) {
        return invalid_config("stream configuration update can not change RePublish");
    }
    if (config.sealed) {
        config.max_age_ns = 0;
        config.discard = DiscardPolicy::new_messages;
        config.deny_delete = true;
        config.deny_purge = true;
        config.allow_rollup_hdrs = false;
    }
    return std::nullopt;
}

bool subjects_collide(std::string_view left, std::string_view right) {
    // Matches nats-server SubjectsCollide: token by token, '*' matches any one token and '>'
    // the rest; literal subjects collide only when equal.
    protocol::TokenReader a(left);
    protocol::TokenReader b(right);
    while (!a.done() && !b.done()) {
        const std::string_view token_a = a.next();
        const std::string_view token_b = b.next();
        if (token_a == ">" || token_b == ">") return true;
        if (token_a != "*" && token_b != "*" && token_a != token_b) return false;
    }
    return a.done() && b.done();
}

bool is_valid_name(std::string_view name) {
    return !name.empty() && name.find_first_of(" \t\r\n\f.*>") == std::string_view::npos;
}

}  // namespace herald::jetstream
