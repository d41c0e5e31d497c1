#include "engine/jetstream/consumer_config.h"

#include <algorithm>
#include <array>

#include "engine/jetstream/api_json.h"
#include "engine/protocol/subject.h"

namespace herald::jetstream {

namespace {

constexpr std::array<std::string_view, 6> deliver_names = {
    "all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"};
constexpr std::array<std::string_view, 3> ack_names = {"none", "all", "explicit"};
constexpr std::array<std::string_view, 2> replay_names = {"instant", "original"};

// Field readers with json.Unmarshal's strictness: a wrong type makes the request invalid JSON.
struct Reader {
    const Json& json;
    bool valid = true;

    const Json* find(const char* key) const {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null()) return nullptr;
        return &*it;
    }
    void text(const char* key, std::string& out) {
        if (const Json* v = find(key)) {
            if (!v->is_string())
                valid = false;
            else
                out = v->get<std::string>();
        }
    }
    void integer(const char* key, std::int64_t& out) {
        if (const Json* v = find(key)) {
            if (!v->is_number_integer())
                valid = false;
            else
                out = v->get<std::int64_t>();
        }
    }
    void unsigned_integer(const char* key, std::uint64_t& out) {
        if (const Json* v = find(key)) {
            if (!v->is_number_integer()
                || (v->is_number_integer() && !v->is_number_unsigned()
                    && v->get<std::int64_t>() < 0))
                valid = false;
            else
                out = v->get<std::uint64_t>();
        }
    }
    void boolean(const char* key, bool& out) {
        if (const Json* v = find(key)) {
            if (!v->is_boolean())
                valid = false;
            else
                out = v->get<bool>();
        }
    }
    template <typename Enum, std::size_t N>
    void enumeration(const char* key, const std::array<std::string_view, N>& names, Enum& out) {
        const Json* v = find(key);
        if (v == nullptr) return;
        if (!v->is_string()) {
            valid = false;
            return;
        }
        const std::string value = v->get<std::string>();
        for (std::size_t i = 0; i < N; ++i) {
            if (names[i] == value) {
                out = static_cast<Enum>(i);
                return;
            }
        }
        valid = false;
    }
};

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

}  // namespace

std::string_view deliver_policy_name(DeliverPolicy policy) {
    return deliver_names[static_cast<std::size_t>(policy)];
}
std::string_view ack_policy_name(AckPolicy policy) {
    return ack_names[static_cast<std::size_t>(policy)];
}
std::string_view replay_policy_name(ReplayPolicy policy) {
    return replay_names[static_cast<std::size_t>(policy)];
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
    const auto year = digits(text, 0, 4);
    const auto month = digits(text, 5, 2);
    const auto day = digits(text, 8, 2);
    const auto hour = digits(text, 11, 2);
    const auto minute = digits(text, 14, 2);
    const auto second = digits(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text.size() < 20)
        return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':'
        || text[16] != ':') {
        return std::nullopt;
    }
    std::size_t at = 19;
    std::int64_t fraction_ns = 0;
    if (at < text.size() && text[at] == '.') {
        ++at;
        std::int64_t scale = 100'000'000;
        const std::size_t begin = at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            fraction_ns += (text[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == begin) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const auto oh = digits(text, at + 1, 2);
        const auto om = digits(text, at + 4, 2);
        if (!oh || !om || at + 6 > text.size() || text[at + 3] != ':') return std::nullopt;
        offset_s = (*oh * 3600 + *om * 60) * (text[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    const std::int64_t days = days_from_civil(*year, *month, *day);
    const std::int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_s;
    return seconds * 1'000'000'000 + fraction_ns;
}

std::optional<ApiFailure> consumer_config_from_json(const Json& json, ConsumerConfig& config) {
    if (!json.is_object()) return api_failure(ApiError::invalid_json);
    Reader r{json};
    r.text("durable_name", config.durable_name);
    r.text("name", config.name);
    r.text("description", config.description);
    r.enumeration("deliver_policy", deliver_names, config.deliver_policy);
    r.unsigned_integer("opt_start_seq", config.opt_start_seq);
    std::string start_time;
    r.text("opt_start_time", start_time);
    if (!start_time.empty()) {
        config.opt_start_time_ns = parse_rfc3339(start_time);
        if (!config.opt_start_time_ns) r.valid = false;
    }
    r.enumeration("ack_policy", ack_names, config.ack_policy);
    r.integer("ack_wait", config.ack_wait_ns);
    r.integer("max_deliver", config.max_deliver);
    if (const Json* backoff = r.find("backoff")) {
        if (!backoff->is_array() || backoff->size() > backoff_entries_max) {
            r.valid = false;
        } else {
            for (const Json& entry : *backoff) {
                if (!entry.is_number_integer())
                    r.valid = false;
                else
                    config.backoff_ns.push_back(entry.get<std::int64_t>());
            }
        }
    }
    r.text("filter_subject", config.filter_subject);
    r.enumeration("replay_policy", replay_names, config.replay_policy);
    r.unsigned_integer("rate_limit_bps", config.rate_limit_bps);
    r.text("sample_freq", config.sample_freq);
    r.integer("max_waiting", config.max_waiting);
    r.integer("max_ack_pending", config.max_ack_pending);
    r.integer("idle_heartbeat", config.idle_heartbeat_ns);
    r.boolean("flow_control", config.flow_control);
    r.boolean("headers_only", config.headers_only);
    r.integer("max_batch", config.max_batch);
    r.integer("max_expires", config.max_expires_ns);
    r.integer("max_bytes", config.max_bytes);
    r.text("deliver_subject", config.deliver_subject);
    r.text("deliver_group", config.deliver_group);
    r.integer("inactive_threshold", config.inactive_threshold_ns);
    r.integer("num_replicas", config.num_replicas);
    r.boolean("mem_storage", config.mem_storage);
    r.boolean("direct", config.direct);
    if (!r.valid) return api_failure(ApiError::invalid_json);
    return std::nullopt;
}

void set_consumer_defaults(ConsumerConfig& config) {
    const bool acks = config.ack_policy != AckPolicy::none;
    if (!config.push() && config.max_waiting == 0) config.max_waiting = max_waiting_default;
    if (config.ack_wait_ns == 0 && acks) config.ack_wait_ns = ack_wait_default_ns;
    if (config.max_deliver == 0) config.max_deliver = -1;
    if (!config.backoff_ns.empty()) config.ack_wait_ns = config.backoff_ns.front();
    if (acks && config.max_ack_pending == 0) config.max_ack_pending = max_ack_pending_default;
    if (!config.durable() && config.inactive_threshold_ns == 0) {
        config.inactive_threshold_ns = inactive_threshold_default_ns;
    }
}

std::optional<ApiFailure> check_consumer_config(const ConsumerConfig& config,
                                                const StreamConfig& stream) {
    if (config.num_replicas > 0
        && config.num_replicas > std::max<std::int64_t>(stream.num_replicas, 1)) {
        return api_failure(ApiError::consumer_replicas_exceeds_stream);
    }
    if (config.num_replicas < 0) return api_failure(ApiError::replicas_count_cannot_be_negative);
    const auto backoff = static_cast<std::int64_t>(config.backoff_ns.size());
    if (backoff > 0 && config.max_deliver <= backoff)
        return api_failure(ApiError::consumer_max_deliver_backoff);
    if (config.description.size() > description_size_max) {
        return api_failure(ApiError::consumer_description_too_long,
                           std::to_string(description_size_max));
    }
    if (config.push()) {
        if (protocol::subject_has_wildcard(config.deliver_subject))
            return api_failure(ApiError::consumer_deliver_to_wildcards);
        if (!protocol::is_valid_subject(config.deliver_subject))
            return api_failure(ApiError::consumer_invalid_deliver_subject);
        for (const std::string& subject : stream.subjects) {
            if (protocol::subject_matches(subject, config.deliver_subject))
                return api_failure(ApiError::consumer_deliver_cycle);
        }
        if (config.max_waiting != 0) return api_failure(ApiError::consumer_push_max_waiting);
        if (config.max_ack_pending > 0 && config.ack_policy == AckPolicy::none) {
            return api_failure(ApiError::consumer_max_pending_ack_policy_required);
        }
        if (config.idle_heartbeat_ns > 0 && config.idle_heartbeat_ns < 100'000'000) {
            return api_failure(ApiError::consumer_small_heartbeat);
        }
    } else {
        if (config.ack_policy == AckPolicy::none && stream.retention == Retention::workqueue) {
            return api_failure(ApiError::consumer_pull_requires_ack);
        }
        if (config.rate_limit_bps > 0) return api_failure(ApiError::consumer_pull_with_rate_limit);
        if (config.max_waiting < 0) return api_failure(ApiError::consumer_max_waiting_negative);
        if (config.idle_heartbeat_ns > 0) return api_failure(ApiError::consumer_hb_requires_push);
        if (config.flow_control) return api_failure(ApiError::consumer_fc_requires_push);
        if (config.max_batch < 0) return api_failure(ApiError::consumer_max_request_batch_negative);
        if (config.max_expires_ns != 0 && config.max_expires_ns < 1'000'000) {
            return api_failure(ApiError::consumer_max_request_expires_to_small);
        }
    }
    if (config.direct) {
        if (!config.push()) return api_failure(ApiError::consumer_direct_requires_push);
        if (config.durable()) return api_failure(ApiError::consumer_direct_requires_ephemeral);
    }
    if (!config.filter_subject.empty()) {
        bool valid = protocol::is_valid_subject(config.filter_subject);
        bool subset = false;
        for (const std::string& subject : stream.subjects) {
            if (protocol::subject_is_subset(config.filter_subject, subject)) subset = true;
        }
        if (!valid || !subset) return api_failure(ApiError::consumer_filter_not_subset);
    }
    const auto bad_start = [](std::string_view dp, std::string_view start) {
        return api_failure(ApiError::consumer_invalid_policy,
                           "consumer delivery policy is deliver " + std::string(dp)
                               + ", but optional start " + std::string(start) + " is also set");
    };
    const auto not_set = [](std::string_view dp, std::string_view what) {
        return api_failure(ApiError::consumer_invalid_policy,
                           "consumer delivery policy is deliver " + std::string(dp)
                               + ", but optional " + std::string(what) + " is not set");
    };
    const bool has_seq = config.opt_start_seq > 0;
    const bool has_time = config.opt_start_time_ns.has_value();
    switch (config.deliver_policy) {
        case DeliverPolicy::all:
            if (has_seq) return bad_start("all", "sequence");
            if (has_time) return bad_start("all", "time");
            break;
        case DeliverPolicy::last:
            if (has_seq) return bad_start("last", "sequence");
            if (has_time) return bad_start("last", "time");
            break;
        case DeliverPolicy::last_per_subject:
            if (has_seq) return bad_start("last per subject", "sequence");
            if (has_time) return bad_start("last per subject", "time");
            if (config.filter_subject.empty()) return not_set("last per subject", "filter subject");
            break;
        case DeliverPolicy::new_messages:
            if (has_seq) return bad_start("new", "sequence");
            if (has_time) return bad_start("new", "time");
            break;
        case DeliverPolicy::by_start_sequence:
            if (!has_seq) return not_set("by start sequence", "start sequence");
            if (has_time) return bad_start("by start sequence", "time");
            break;
        case DeliverPolicy::by_start_time:
            if (!has_time) return not_set("by start time", "start time");
            if (has_seq) return bad_start("by start time", "start sequence");
            break;
    }
    if (!config.sample_freq.empty()) {
        std::string_view s = config.sample_freq;
        if (!s.empty() && s.back() == '%') s.remove_suffix(1);
        bool ok = !s.empty();
        for (const char c : s)
            ok = ok && c >= '0' && c <= '9';
        if (!ok) {
            return api_failure(ApiError::consumer_invalid_sampling,
                               "strconv.Atoi: parsing \"" + std::string(s) + "\": invalid syntax");
        }
    }
    if (config.flow_control && config.idle_heartbeat_ns == 0) {
        return api_failure(ApiError::consumer_with_flow_control_needs_heartbeats);
    }
    if (config.durable() && !config.name.empty() && config.name != config.durable_name) {
        return api_failure(ApiError::consumer_create_durable_and_name_mismatch);
    }
    return std::nullopt;
}

std::optional<ApiFailure> check_consumer_update(const ConsumerConfig& old_config,
                                                const ConsumerConfig& config) {
    if (old_config == config) return std::nullopt;
    const auto fail = [](std::string_view text) {
        return api_failure(ApiError::consumer_create, text);
    };
    if (old_config.deliver_policy != config.deliver_policy)
        return fail("deliver policy can not be updated");
    if (old_config.opt_start_seq != config.opt_start_seq)
        return fail("start sequence can not be updated");
    if (old_config.opt_start_time_ns != config.opt_start_time_ns)
        return fail("start time can not be updated");
    if (old_config.ack_policy != config.ack_policy) return fail("ack policy can not be updated");
    if (old_config.replay_policy != config.replay_policy)
        return fail("replay policy can not be updated");
    if (old_config.idle_heartbeat_ns != config.idle_heartbeat_ns)
        return fail("heart beats can not be updated");
    if (old_config.flow_control != config.flow_control)
        return fail("flow control can not be updated");
    if (old_config.max_waiting != config.max_waiting) return fail("max waiting can not be updated");
    if (old_config.deliver_subject != config.deliver_subject) {
        if (old_config.deliver_subject.empty())
            return fail("can not update pull consumer to push based");
        if (config.deliver_subject.empty())
            return fail("can not update push consumer to pull based");
    }
    const auto backoff = static_cast<std::int64_t>(config.backoff_ns.size());
    if (backoff > 0 && config.max_deliver <= backoff)
        return api_failure(ApiError::consumer_max_deliver_backoff);
    return std::nullopt;
}

Json consumer_config_json(const ConsumerConfig& c) {
    Json j = Json::object();
    if (!c.durable_name.empty()) j["durable_name"] = c.durable_name;
    if (!c.name.empty()) j["name"] = c.name;
    if (!c.description.empty()) j["description"] = c.description;
    j["deliver_policy"] = deliver_policy_name(c.deliver_policy);
    if (c.opt_start_seq != 0) j["opt_start_seq"] = c.opt_start_seq;
    if (c.opt_start_time_ns) j["opt_start_time"] = rfc3339_nano(*c.opt_start_time_ns);
    j["ack_policy"] = ack_policy_name(c.ack_policy);
    if (c.ack_wait_ns != 0) j["ack_wait"] = c.ack_wait_ns;
    if (c.max_deliver != 0) j["max_deliver"] = c.max_deliver;
    if (!c.backoff_ns.empty()) j["backoff"] = c.backoff_ns;
    if (!c.filter_subject.empty()) j["filter_subject"] = c.filter_subject;
    j["replay_policy"] = replay_policy_name(c.replay_policy);
    if (c.rate_limit_bps != 0) j["rate_limit_bps"] = c.rate_limit_bps;
    if (!c.sample_freq.empty()) j["sample_freq"] = c.sample_freq;
    if (c.max_waiting != 0) j["max_waiting"] = c.max_waiting;
    if (c.max_ack_pending != 0) j["max_ack_pending"] = c.max_ack_pending;
    if (c.idle_heartbeat_ns != 0) j["idle_heartbeat"] = c.idle_heartbeat_ns;
    if (c.flow_control) j["flow_control"] = true;
    if (c.headers_only) j["headers_only"] = true;
    if (c.max_batch != 0) j["max_batch"] = c.max_batch;
    if (c.max_expires_ns != 0) j["max_expires"] = c.max_expires_ns;
    if (c.max_bytes != 0) j["max_bytes"] = c.max_bytes;
    if (!c.deliver_subject.empty()) j["deliver_subject"] = c.deliver_subject;
    if (!c.deliver_group.empty()) j["deliver_group"] = c.deliver_group;
    if (c.inactive_threshold_ns != 0) j["inactive_threshold"] = c.inactive_threshold_ns;
    j["num_replicas"] = c.num_replicas;
    if (c.mem_storage) j["mem_storage"] = true;
    if (c.direct) j["direct"] = true;
    return j;
}

}  // namespace herald::jetstream
