#include "engine/client/jetstream.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/base/assert.h"
#include "engine/client/jetstream_json.h"
#include "engine/client/nuid.h"

namespace herald::client {

using nlohmann::json;
using nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Errors.

namespace {

class JsCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "herald.jetstream"; }
    std::string message(int value) const override {
        switch (static_cast<JsErrc>(value)) {
            case JsErrc::ok: return "ok";
            case JsErrc::api_error: return "jetstream api error";
            case JsErrc::not_enabled: return "jetstream not enabled";
            case JsErrc::stream_not_found: return "stream not found";
            case JsErrc::consumer_not_found: return "consumer not found";
            case JsErrc::message_not_found: return "message not found";
            case JsErrc::stream_name_in_use: return "stream name already in use";
            case JsErrc::wrong_last_sequence: return "wrong last sequence";
            case JsErrc::wrong_last_msg_id: return "wrong last msg ID";
            case JsErrc::bad_response: return "invalid jetstream response";
            case JsErrc::no_stream_response: return "no response from stream";
            case JsErrc::too_many_pending: return "too many outstanding async publishes";
            case JsErrc::invalid_argument: return "invalid argument";
            case JsErrc::consumer_deleted: return "consumer deleted";
            case JsErrc::pull_status: return "pull request failed";
            case JsErrc::already_acked: return "message was already acknowledged";
            case JsErrc::no_reply: return "message does not have a reply";
            case JsErrc::bad_bucket: return "bucket not valid key-value store";
            case JsErrc::key_not_found: return "key not found";
            case JsErrc::key_exists: return "key exists";
            case JsErrc::history_too_large: return "history limited to a max of 64";
            case JsErrc::object_not_found: return "object not found";
            case JsErrc::digest_mismatch: return "received a corrupt object, digests do not match";
            case JsErrc::size_mismatch: return "received a corrupt object, sizes do not match";
            case JsErrc::bucket_not_found: return "bucket not found";
        }
        return "unknown";
    }
};

}  // namespace

const std::error_category& js_errc_category() {
    static const JsCategory category;
    return category;
}

std::string JsError::message() const {
    std::string text = code.message();
    if (api.code != 0 || !api.description.empty()) {
        text += ": " + api.description + " (code " + std::to_string(api.code) + ", err_code " +
                std::to_string(api.err_code) + ")";
    }
    return text;
}

namespace detail {

JsError api_error_of(const json& error) {
    ApiError api;
    api.code = static_cast<int>(get_i64(error, "code"));
    api.err_code = static_cast<int>(get_i64(error, "err_code"));
    api.description = get_str(error, "description");
    JsErrc code = JsErrc::api_error;
    switch (api.err_code) {
        case 10059: code = JsErrc::stream_not_found; break;
        case 10014: code = JsErrc::consumer_not_found; break;
        case 10037: code = JsErrc::message_not_found; break;
        case 10058: code = JsErrc::stream_name_in_use; break;
        case 10071: code = JsErrc::wrong_last_sequence; break;
        case 10070: code = JsErrc::wrong_last_msg_id; break;
        case 10039:
        case 10076: code = JsErrc::not_enabled; break;
        default: break;
    }
    return JsError{make_error_code(code), std::move(api)};
}

// ---------------------------------------------------------------------------------------------
// JSON helpers (no exceptions: every read checks the type).

std::int64_t get_i64(const json& object, const char* key, std::int64_t otherwise) {
    if (!object.is_object()) return otherwise;
    const auto it = object.find(key);
    if (it == object.end()) return otherwise;
    if (it->is_number_unsigned()) return static_cast<std::int64_t>(it->get<std::uint64_t>());
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
    return otherwise;
}
std::uint64_t get_u64(const json& object, const char* key) {
    if (!object.is_object()) return 0;
    const auto it = object.find(key);
    if (it == object.end()) return 0;
    if (it->is_number_unsigned()) return it->get<std::uint64_t>();
    if (it->is_number_integer()) {
        const auto v = it->get<std::int64_t>();
        return v < 0 ? 0 : static_cast<std::uint64_t>(v);
    }
    return 0;
}
std::string get_str(const json& object, const char* key) {
    if (!object.is_object()) return {};
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return {};
    return it->get<std::string>();
}
bool get_bool(const json& object, const char* key) {
    if (!object.is_object()) return false;
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}
const json& get_obj(const json& object, const char* key) {
    static const json empty = json::object();
    if (!object.is_object()) return empty;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_object()) return empty;
    return *it;
}
std::vector<std::string> get_strings(const json& object, const char* key) {
    std::vector<std::string> out;
    if (!object.is_object()) return out;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array()) return out;
    for (const auto& item : *it) {
        if (item.is_string()) out.push_back(item.get<std::string>());
    }
    return out;
}

namespace {

std::int64_t ns_of(Duration d) { return static_cast<std::int64_t>(d.ns); }
Duration duration_of(std::int64_t ns) { return Duration{ns < 0 ? 0 : static_cast<std::uint64_t>(ns)}; }

const char* retention_name(RetentionPolicy p) {
    switch (p) {
        case RetentionPolicy::limits: return "limits";
        case RetentionPolicy::interest: return "interest";
        case RetentionPolicy::workqueue: return "workqueue";
    }
    return "limits";
}
RetentionPolicy retention_of(const std::string& s) {
    if (s == "interest") return RetentionPolicy::interest;
    if (s == "workqueue") return RetentionPolicy::workqueue;
    return RetentionPolicy::limits;
}
const char* deliver_name(DeliverPolicy p) {
    switch (p) {
        case DeliverPolicy::all: return "all";
        case DeliverPolicy::last: return "last";
        case DeliverPolicy::new_messages: return "new";
        case DeliverPolicy::by_start_sequence: return "by_start_sequence";
        case DeliverPolicy::by_start_time: return "by_start_time";
        case DeliverPolicy::last_per_subject: return "last_per_subject";
    }
    return "all";
}
DeliverPolicy deliver_of(const std::string& s) {
    if (s == "last") return DeliverPolicy::last;
    if (s == "new") return DeliverPolicy::new_messages;
    if (s == "by_start_sequence") return DeliverPolicy::by_start_sequence;
    if (s == "by_start_time") return DeliverPolicy::by_start_time;
    if (s == "last_per_subject") return DeliverPolicy::last_per_subject;
    return DeliverPolicy::all;
}
const char* ack_name(AckPolicy p) {
    switch (p) {
        case AckPolicy::none: return "none";
        case AckPolicy::all: return "all";
        case AckPolicy::explicit_ack: return "explicit";
    }
    return "explicit";
}
AckPolicy ack_of(const std::string& s) {
    if (s == "none") return AckPolicy::none;
    if (s == "all") return AckPolicy::all;
    return AckPolicy::explicit_ack;
}

ordered_json source_json(const StreamSource& s) {
    ordered_json j;
    j["name"] = s.name;
    if (s.opt_start_seq != 0) j["opt_start_seq"] = s.opt_start_seq;
    if (!s.opt_start_time.empty()) j["opt_start_time"] = s.opt_start_time;
    if (!s.filter_subject.empty()) j["filter_subject"] = s.filter_subject;
    if (!s.external_api.empty() || !s.external_deliver.empty()) {
        ordered_json e;
        e["api"] = s.external_api;
        if (!s.external_deliver.empty()) e["deliver"] = s.external_deliver;
        j["external"] = std::move(e);
    }
    return j;
}
StreamSource source_of(const json& j) {
    StreamSource s;
    s.name = get_str(j, "name");
    s.opt_start_seq = get_u64(j, "opt_start_seq");
    s.opt_start_time = get_str(j, "opt_start_time");
    s.filter_subject = get_str(j, "filter_subject");
    const json& e = get_obj(j, "external");
    s.external_api = get_str(e, "api");
    s.external_deliver = get_str(e, "deliver");
    return s;
}

}  // namespace

// nats.go jsm.go StreamConfig: same field order and omitempty.
std::string encode_stream_config(const StreamConfig& c) {
    ordered_json j;
    j["name"] = c.name;
    if (!c.description.empty()) j["description"] = c.description;
    if (!c.subjects.empty()) j["subjects"] = c.subjects;
    j["retention"] = retention_name(c.retention);
    j["max_consumers"] = c.max_consumers;
    j["max_msgs"] = c.max_msgs;
    j["max_bytes"] = c.max_bytes;
    j["discard"] = c.discard == DiscardPolicy::new_messages ? "new" : "old";
    if (c.discard_new_per_subject) j["discard_new_per_subject"] = true;
    j["max_age"] = ns_of(c.max_age);
    j["max_msgs_per_subject"] = c.max_msgs_per_subject;
    if (c.max_msg_size != 0) j["max_msg_size"] = c.max_msg_size;
    j["storage"] = c.storage == StorageType::memory ? "memory" : "file";
    j["num_replicas"] = c.num_replicas;
    if (c.no_ack) j["no_ack"] = true;
    if (!c.template_owner.empty()) j["template_owner"] = c.template_owner;
    if (c.duplicate_window.ns != 0) j["duplicate_window"] = ns_of(c.duplicate_window);
    if (c.placement) {
        ordered_json p;
        p["cluster"] = c.placement->cluster;
        if (!c.placement->tags.empty()) p["tags"] = c.placement->tags;
        j["placement"] = std::move(p);
    }
    if (c.mirror) j["mirror"] = source_json(*c.mirror);
    if (!c.sources.empty()) {
        ordered_json sources = ordered_json::array();
        for (const auto& s : c.sources) sources.push_back(source_json(s));
        j["sources"] = std::move(sources);
    }
    if (c.sealed) j["sealed"] = true;
    if (c.deny_delete) j["deny_delete"] = true;
    if (c.deny_purge) j["deny_purge"] = true;
    if (c.allow_rollup_hdrs) j["allow_rollup_hdrs"] = true;
    if (c.republish) {
        ordered_json r;
        if (!c.republish->source.empty()) r["src"] = c.republish->source;
        r["dest"] = c.republish->destination;
        if (c.republish->headers_only) r["headers_only"] = true;
        j["republish"] = std::move(r);
    }
    j["allow_direct"] = c.allow_direct;
    j["mirror_direct"] = c.mirror_direct;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StreamConfig stream_config_of(const json& j) {
    StreamConfig c;
    c.name = get_str(j, "name");
    c.description = get_str(j, "description");
    c.subjects = get_strings(j, "subjects");
    c.retention = retention_of(get_str(j, "retention"));
    c.max_consumers = get_i64(j, "max_consumers", -1);
    c.max_msgs = get_i64(j, "max_msgs", -1);
    c.max_bytes = get_i64(j, "max_bytes", -1);
    c.discard = get_str(j, "discard") == "new" ? DiscardPolicy::new_messages : DiscardPolicy::old_messages;
    c.discard_new_per_subject = get_bool(j, "discard_new_per_subject");
    c.max_age = duration_of(get_i64(j, "max_age"));
    c.max_msgs_per_subject = get_i64(j, "max_msgs_per_subject", -1);
    c.max_msg_size = static_cast<std::int32_t>(get_i64(j, "max_msg_size", -1));
    c.storage = get_str(j, "storage") == "memory" ? StorageType::memory : StorageType::file;
    c.num_replicas = static_cast<int>(get_i64(j, "num_replicas", 1));
    c.no_ack = get_bool(j, "no_ack");
    c.template_owner = get_str(j, "template_owner");
    c.duplicate_window = duration_of(get_i64(j, "duplicate_window"));
    if (j.contains("placement")) {
        const json& p = get_obj(j, "placement");
        c.placement = Placement{get_str(p, "cluster"), get_strings(p, "tags")};
    }
    if (j.contains("mirror") && j["mirror"].is_object()) c.mirror = source_of(j["mirror"]);
    if (j.contains("sources") && j["sources"].is_array()) {
        for (const auto& s : j["sources"]) c.sources.push_back(source_of(s));
    }
    c.sealed = get_bool(j, "sealed");
    c.deny_delete = get_bool(j, "deny_delete");
    c.deny_purge = get_bool(j, "deny_purge");
    c.allow_rollup_hdrs = get_bool(j, "allow_rollup_hdrs");
    if (j.contains("republish")) {
        const json& r = get_obj(j, "republish");
        c.republish = RePublish{get_str(r, "src"), get_str(r, "dest"), get_bool(r, "headers_only")};
    }
    c.allow_direct = get_bool(j, "allow_direct");
    c.mirror_direct = get_bool(j, "mirror_direct");
    return c;
}

StreamInfo stream_info_of(const json& j, std::string text) {
    StreamInfo info;
    info.config = stream_config_of(get_obj(j, "config"));
    info.created = get_str(j, "created");
    const json& s = get_obj(j, "state");
    info.state.messages = get_u64(s, "messages");
    info.state.bytes = get_u64(s, "bytes");
    info.state.first_seq = get_u64(s, "first_seq");
    info.state.first_ts = get_str(s, "first_ts");
    info.state.last_seq = get_u64(s, "last_seq");
    info.state.last_ts = get_str(s, "last_ts");
    info.state.consumer_count = get_u64(s, "consumer_count");
    info.state.num_deleted = get_u64(s, "num_deleted");
    info.state.num_subjects = get_u64(s, "num_subjects");
    const json& subjects = get_obj(s, "subjects");
    for (const auto& [subject, count] : subjects.items()) {
        if (count.is_number_unsigned()) info.state.subjects[subject] = count.get<std::uint64_t>();
    }
    if (s.contains("deleted") && s["deleted"].is_array()) {
        for (const auto& seq : s["deleted"]) {
            if (seq.is_number_unsigned()) info.state.deleted.push_back(seq.get<std::uint64_t>());
        }
    }
    info.domain = get_str(j, "domain");
    info.did_create = get_bool(j, "did_create");
    info.json = std::move(text);
    return info;
}

// nats.go js.go ConsumerConfig: same field order and omitempty.
std::string encode_consumer_config(const ConsumerConfig& c) {
    ordered_json j;
    if (!c.durable_name.empty()) j["durable_name"] = c.durable_name;
    if (!c.name.empty()) j["name"] = c.name;
    if (!c.description.empty()) j["description"] = c.description;
    j["deliver_policy"] = deliver_name(c.deliver_policy);
    if (c.opt_start_seq != 0) j["opt_start_seq"] = c.opt_start_seq;
    if (!c.opt_start_time.empty()) j["opt_start_time"] = c.opt_start_time;
    j["ack_policy"] = ack_name(c.ack_policy);
    if (c.ack_wait.ns != 0) j["ack_wait"] = ns_of(c.ack_wait);
    if (c.max_deliver != 0) j["max_deliver"] = c.max_deliver;
    if (!c.backoff.empty()) {
        ordered_json b = ordered_json::array();
        for (const auto d : c.backoff) b.push_back(ns_of(d));
        j["backoff"] = std::move(b);
    }
    if (!c.filter_subject.empty()) j["filter_subject"] = c.filter_subject;
    j["replay_policy"] = c.replay_policy == ReplayPolicy::original ? "original" : "instant";
    if (c.rate_limit_bps != 0) j["rate_limit_bps"] = c.rate_limit_bps;
    if (!c.sample_freq.empty()) j["sample_freq"] = c.sample_freq;
    if (c.max_waiting != 0) j["max_waiting"] = c.max_waiting;
    if (c.max_ack_pending != 0) j["max_ack_pending"] = c.max_ack_pending;
    if (c.flow_control) j["flow_control"] = true;
    if (c.idle_heartbeat.ns != 0) j["idle_heartbeat"] = ns_of(c.idle_heartbeat);
    if (c.headers_only) j["headers_only"] = true;
    if (c.max_batch != 0) j["max_batch"] = c.max_batch;
    if (c.max_expires.ns != 0) j["max_expires"] = ns_of(c.max_expires);
    if (c.max_bytes != 0) j["max_bytes"] = c.max_bytes;
    if (!c.deliver_subject.empty()) j["deliver_subject"] = c.deliver_subject;
    if (!c.deliver_group.empty()) j["deliver_group"] = c.deliver_group;
    if (c.inactive_threshold.ns != 0) j["inactive_threshold"] = ns_of(c.inactive_threshold);
    j["num_replicas"] = c.num_replicas;
    if (c.mem_storage) j["mem_storage"] = true;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ConsumerConfig consumer_config_of(const json& j) {
    ConsumerConfig c;
    c.durable_name = get_str(j, "durable_name");
    c.name = get_str(j, "name");
    c.description = get_str(j, "description");
    c.deliver_policy = deliver_of(get_str(j, "deliver_policy"));
    c.opt_start_seq = get_u64(j, "opt_start_seq");
    c.opt_start_time = get_str(j, "opt_start_time");
    c.ack_policy = ack_of(get_str(j, "ack_policy"));
    c.ack_wait = duration_of(get_i64(j, "ack_wait"));
    c.max_deliver = get_i64(j, "max_deliver");
    if (j.contains("backoff") && j["backoff"].is_array()) {
        for (const auto& d : j["backoff"]) {
            if (d.is_number_integer()) c.backoff.push_back(duration_of(d.get<std::int64_t>()));
        }
    }
    c.filter_subject = get_str(j, "filter_subject");
    c.replay_policy = get_str(j, "replay_policy") == "original" ? ReplayPolicy::original : ReplayPolicy::instant;
    c.rate_limit_bps = get_u64(j, "rate_limit_bps");
    c.sample_freq = get_str(j, "sample_freq");
    c.max_waiting = get_i64(j, "max_waiting");
    c.max_ack_pending = get_i64(j, "max_ack_pending");
    c.flow_control = get_bool(j, "flow_control");
    c.idle_heartbeat = duration_of(get_i64(j, "idle_heartbeat"));
    c.headers_only = get_bool(j, "headers_only");
    c.max_batch = get_i64(j, "max_batch");
    c.max_expires = duration_of(get_i64(j, "max_expires"));
    c.max_bytes = get_i64(j, "max_bytes");
    c.deliver_subject = get_str(j, "deliver_subject");
    c.deliver_group = get_str(j, "deliver_group");
    c.inactive_threshold = duration_of(get_i64(j, "inactive_threshold"));
    c.num_replicas = static_cast<int>(get_i64(j, "num_replicas"));
    c.mem_storage = get_bool(j, "mem_storage");
    return c;
}

namespace {
SequenceInfo sequence_of(const json& j) {
    return SequenceInfo{get_u64(j, "consumer_seq"), get_u64(j, "stream_seq"), get_str(j, "last_active")};
}
}  // namespace

ConsumerInfo consumer_info_of(const json& j, std::string text) {
    ConsumerInfo info;
    info.stream_name = get_str(j, "stream_name");
    info.name = get_str(j, "name");
    info.created = get_str(j, "created");
    info.config = consumer_config_of(get_obj(j, "config"));
    info.delivered = sequence_of(get_obj(j, "delivered"));
    info.ack_floor = sequence_of(get_obj(j, "ack_floor"));
    info.num_ack_pending = get_u64(j, "num_ack_pending");
    info.num_redelivered = get_u64(j, "num_redelivered");
    info.num_waiting = get_u64(j, "num_waiting");
    info.num_pending = get_u64(j, "num_pending");
    info.push_bound = get_bool(j, "push_bound");
    info.json = std::move(text);
    return info;
}

// Standard base64 decode (STREAM.MSG.GET hdrs/data); nullopt on a bad character.
std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+' || c == '-') return 62;
        if (c == '/' || c == '_') return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        if (c == '=' || c == '\r' || c == '\n') continue;
        const int v = value(c);
        if (v < 0) return std::nullopt;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Time.

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};
Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return Civil{y + (m <= 2 ? 1 : 0), m, d};
}

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, std::int64_t& out) {
    if (pos + count > text.size()) return false;
    std::int64_t value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    pos += count;
    out = value;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text) {
    std::size_t pos = 0;
    std::int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
        !expect(text, pos, '-') || !read_digits(text, pos, 2, day)) {
        return std::nullopt;
    }
    if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return std::nullopt;
    ++pos;
    if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
        !expect(text, pos, ':') || !read_digits(text, pos, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::int64_t fraction_ns = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction_ns += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
            ++digits;
        }
        if (digits == 0) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const bool negative = text[pos] == '-';
        ++pos;
        std::int64_t oh = 0, om = 0;
        if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':') || !read_digits(text, pos, 2, om)) {
            return std::nullopt;
        }
        offset_s = (oh * 3600 + om * 60) * (negative ? -1 : 1);
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    // int64 nanoseconds cover 1677..2262; Go's zero time (year 1) and the like are out of range.
    constexpr std::int64_t seconds_max = 9'223'372'035;
    if (seconds > seconds_max || seconds < -seconds_max) return std::nullopt;
    return seconds * 1'000'000'000 + fraction_ns;
}

std::string format_rfc3339_ns(std::int64_t unix_ns) {
    std::int64_t seconds = unix_ns / 1'000'000'000;
    std::int64_t nanos = unix_ns % 1'000'000'000;
    if (nanos < 0) {
        nanos += 1'000'000'000;
        seconds -= 1;
    }
    std::int64_t days = seconds / 86400;
    std::int64_t rest = seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        days -= 1;
    }
    const Civil civil = civil_from_days(days);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                  static_cast<long long>(civil.year), civil.month, civil.day,
                  static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                  static_cast<long long>(rest % 60));
    std::string out = buffer;
    if (nanos != 0) {
        std::snprintf(buffer, sizeof buffer, ".%09lld", static_cast<long long>(nanos));
        std::string fraction = buffer;
        while (fraction.back() == '0') fraction.pop_back();
        out += fraction;
    }
    out += 'Z';
    return out;
}

bool valid_stream_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        return c == '.' || c == '*' || c == '>' || c == '/' || c == '\\' || c == ' ' || c == '\t' ||
               c == '\r' || c == '\n';
    });
}

// ---------------------------------------------------------------------------------------------
// Ack subjects and JsMsg.

namespace {

std::vector<std::string_view> split_tokens(std::string_view subject) {
    std::vector<std::string_view> tokens;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = subject.find('.', start);
        if (dot == std::string_view::npos) {
            tokens.push_back(subject.substr(start));
            break;
        }
        tokens.push_back(subject.substr(start, dot - start));
        start = dot + 1;
    }
    return tokens;
}

std::optional<std::uint64_t> to_u64(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

JsResult<MsgMetadata> parse_ack_subject(std::string_view reply) {
    auto tokens = split_tokens(reply);
    if (tokens.size() < 2 || tokens[0] != "$JS" || tokens[1] != "ACK") return JsErrc::invalid_argument;
    MsgMetadata meta;
    std::size_t base = 0;  // index of <stream>
    if (tokens.size() == 9) {
        base = 2;
    } else if (tokens.size() == 11 || tokens.size() == 12) {
        meta.domain = tokens[2] == "_" ? std::string() : std::string(tokens[2]);
        base = 4;
    } else {
        return JsErrc::invalid_argument;
    }
    meta.stream = std::string(tokens[base]);
    meta.consumer = std::string(tokens[base + 1]);
    const auto delivered = to_u64(tokens[base + 2]);
    const auto sseq = to_u64(tokens[base + 3]);
    const auto cseq = to_u64(tokens[base + 4]);
    const auto ts = to_u64(tokens[base + 5]);
    const auto pending = to_u64(tokens[base + 6]);
    if (!delivered || !sseq || !cseq || !ts || !pending) return JsErrc::invalid_argument;
    meta.num_delivered = *delivered;
    meta.stream_sequence = *sseq;
    meta.consumer_sequence = *cseq;
    meta.timestamp_ns = static_cast<std::int64_t>(*ts);
    meta.num_pending = *pending;
    return meta;
}

JsMsg::JsMsg(Connection* connection, const Message& message)
    : connection_(connection),
      subject_(message.subject),
      reply_(message.reply),
      headers_(message.headers),
      data_(message.payload) {}

JsStatus JsMsg::send_ack(std::string_view payload, bool final) {
    if (connection_ == nullptr || reply_.empty()) return JsErrc::no_reply;
    if (acked_) return JsErrc::already_acked;
    const Status status = connection_->publish(reply_, payload);
    if (!status) return status.error();
    if (final) acked_ = true;
    return Done{};
}

JsStatus JsMsg::ack() { return send_ack("+ACK", true); }
JsStatus JsMsg::nak(std::optional<Duration> delay) {
    if (!delay) return send_ack("-NAK", true);
    return send_ack("-NAK {\"delay\":" + std::to_string(delay->ns) + "}", true);
}
JsStatus JsMsg::in_progress() { return send_ack("+WPI", false); }
JsStatus JsMsg::term() { return send_ack("+TERM", true); }

void JsMsg::ack_sync(Duration timeout, JsCallback<Done> callback) {
    if (connection_ == nullptr) {
        callback(JsErrc::no_reply);  // no Connection, so no loop to post on
        return;
    }
    if (reply_.empty() || acked_) {
        // Report off the call stack like every other outcome (the Connection's flush posts).
        const JsErrc why = reply_.empty() ? JsErrc::no_reply : JsErrc::already_acked;
        connection_->flush([callback = std::move(callback), why](Status) { callback(why); });
        return;
    }
    acked_ = true;
    connection_->request(reply_, "+ACK", timeout, [callback = std::move(callback)](Result<Message> reply) {
        if (!reply) {
            callback(reply.error());
            return;
        }
        callback(Done{});
    });
}

// ---------------------------------------------------------------------------------------------
// The context.

namespace detail {

struct JsCtx : std::enable_shared_from_this<JsCtx> {
    JsCtx(io::Env& e, Connection& c, JetStreamOptions o) : env(e), connection(c), options(std::move(o)) {
        if (options.api_prefix.empty()) {
            options.api_prefix = options.domain.empty() ? "$JS.API." : "$JS." + options.domain + ".API.";
        }
        if (options.api_prefix.back() != '.') options.api_prefix += '.';
    }

    io::Env& env;
    Connection& connection;
    JetStreamOptions options;
    std::size_t async_pending = 0;
    std::vector<std::function<void()>> async_waiters;

    std::string api(std::string_view suffix) const { return options.api_prefix + std::string(suffix); }

    // Runs `callback` on the loop (never inline).
    template <class T>
    void post_result(JsCallback<T> callback, JsResult<T> result) {
        env.loop.post([callback = std::move(callback), result = std::move(result)]() mutable {
            callback(std::move(result));
        });
    }

    // An API request whose reply is a JSON envelope; errors become JsError.
    void api_request(std::string_view suffix, std::string body,
                     std::function<void(JsResult<json>, std::string text)> callback) {
        connection.request(api(suffix), body, options.timeout,
                           [callback = std::move(callback)](Result<Message> reply) {
                               if (!reply) {
                                   if (reply.error() == Errc::no_responders) {
                                       callback(JsErrc::not_enabled, {});
                                   } else {
                                       callback(reply.error(), {});
                                   }
                                   return;
                               }
                               std::string text = std::move(reply->payload);
                               json parsed = json::parse(text, nullptr, false);
                               if (parsed.is_discarded() || !parsed.is_object()) {
                                   callback(JsErrc::bad_response, std::move(text));
                                   return;
                               }
                               if (parsed.contains("error") && parsed["error"].is_object()) {
                                   callback(api_error_of(parsed["error"]), std::move(text));
                                   return;
                               }
                               callback(std::move(parsed), std::move(text));
                           });
    }

    void async_done() {
        ASSERT(async_pending > 0);
        --async_pending;
        if (async_pending == 0 && !async_waiters.empty()) {
            auto waiters = std::move(async_waiters);
            async_waiters.clear();
            for (auto& waiter : waiters) waiter();
        }
    }
};

}  // namespace detail

using detail::JsCtx;

JetStream::JetStream(io::Env& env, Connection& connection, JetStreamOptions options)
    : ctx_(std::make_shared<JsCtx>(env, connection, std::move(options))) {}
JetStream::~JetStream() = default;

const std::string& JetStream::api_prefix() const { return ctx_->options.api_prefix; }
Connection& JetStream::connection() const { return ctx_->connection; }
io::Env& JetStream::env() const { return ctx_->env; }
const JetStreamOptions& JetStream::options() const { return ctx_->options; }

void JetStream::account_info(JsCallback<AccountInfo> callback) {
    ctx_->api_request("INFO", "", [callback = std::move(callback)](JsResult<json> reply, std::string text) {
        if (!reply) return callback(reply.error());
        const json& j = *reply;
        AccountInfo info;
        info.memory = detail::get_u64(j, "memory");
        info.storage = detail::get_u64(j, "storage");
        info.streams = detail::get_u64(j, "streams");
        info.consumers = detail::get_u64(j, "consumers");
        info.domain = detail::get_str(j, "domain");
        const json& limits = detail::get_obj(j, "limits");
        info.limits.max_memory = detail::get_i64(limits, "max_memory", -1);
        info.limits.max_storage = detail::get_i64(limits, "max_storage", -1);
        info.limits.max_streams = detail::get_i64(limits, "max_streams", -1);
        info.limits.max_consumers = detail::get_i64(limits, "max_consumers", -1);
        const json& api = detail::get_obj(j, "api");
        info.api_total = detail::get_u64(api, "total");
        info.api_errors = detail::get_u64(api, "errors");
        info.json = std::move(text);
        callback(std::move(info));
    });
}

namespace {

// Refuses a bad stream name on the loop; true if refused.
template <class T>
bool reject_name(JsCtx& ctx, std::string_view name, JsCallback<T>& callback) {
    if (valid_stream_name(name)) return false;
    ctx.post_result<T>(std::move(callback), JsErrc::invalid_argument);
    return true;
}

std::function<void(JsResult<json>, std::string)> stream_info_reply(JsCallback<StreamInfo> callback) {
    return [callback = std::move(callback)](JsResult<json> reply, std::string text) {
        if (!reply) return callback(reply.error());
        callback(detail::stream_info_of(*reply, std::move(text)));
    };
}

std::function<void(JsResult<json>, std::string)> consumer_info_reply(JsCallback<ConsumerInfo> callback) {
    return [callback = std::move(callback)](JsResult<json> reply, std::string text) {
        if (!reply) return callback(reply.error());
        callback(detail::consumer_info_of(*reply, std::move(text)));
    };
}

std::function<void(JsResult<json>, std::string)> success_reply(JsCallback<Done> callback) {
    return [callback = std::move(callback)](JsResult<json> reply, std::string) {
        if (!reply) return callback(reply.error());
        if (!detail::get_bool(*reply, "success")) return callback(JsErrc::bad_response);
        callback(Done{});
    };
}

}  // namespace

void JetStream::add_stream(const StreamConfig& config, JsCallback<StreamInfo> callback) {
    if (reject_name(*ctx_, config.name, callback)) return;
    ctx_->api_request("STREAM.CREATE." + config.name, detail::encode_stream_config(config),
                      stream_info_reply(std::move(callback)));
}

void JetStream::update_stream(const StreamConfig& config, JsCallback<StreamInfo> callback) {
    if (reject_name(*ctx_, config.name, callback)) return;
    ctx_->api_request("STREAM.UPDATE." + config.name, detail::encode_stream_config(config),
                      stream_info_reply(std::move(callback)));
}

void JetStream::stream_info(std::string_view stream, JsCallback<StreamInfo> callback) {
    stream_info(stream, StreamInfoOptions{}, std::move(callback));
}

void JetStream::stream_info(std::string_view stream, const StreamInfoOptions& options,
                            JsCallback<StreamInfo> callback) {
    if (reject_name(*ctx_, stream, callback)) return;
    std::string body;
    if (!options.subjects_filter.empty() || options.deleted_details) {
        ordered_json j;
        if (options.deleted_details) j["deleted_details"] = true;
        if (!options.subjects_filter.empty()) j["subjects_filter"] = options.subjects_filter;
        body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    ctx_->api_request("STREAM.INFO." + std::string(stream), std::move(body), stream_info_reply(std::move(callback)));
}

void JetStream::delete_stream(std::string_view stream, JsCallback<Done> callback) {
    if (!valid_stream_name(stream)) return ctx_->post_result<Done>(std::move(callback), JsErrc::invalid_argument);
    ctx_->api_request("STREAM.DELETE." + std::string(stream), "", success_reply(std::move(callback)));
}

void JetStream::purge_stream(std::string_view stream, const PurgeOptions& options,
                             JsCallback<std::uint64_t> callback) {
    if (!valid_stream_name(stream)) {
        return ctx_->post_result<std::uint64_t>(std::move(callback), JsErrc::invalid_argument);
    }
    std::string body;
    if (!options.filter.empty() || options.seq != 0 || options.keep != 0) {
        ordered_json j;
        if (!options.filter.empty()) j["filter"] = options.filter;
        if (options.seq != 0) j["seq"] = options.seq;
        if (options.keep != 0) j["keep"] = options.keep;
        body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    ctx_->api_request("STREAM.PURGE." + std::string(stream), std::move(body),
                      [callback = std::move(callback)](JsResult<json> reply, std::string) {
                          if (!reply) return callback(reply.error());
                          if (!detail::get_bool(*reply, "success")) return callback(JsErrc::bad_response);
                          callback(detail::get_u64(*reply, "purged"));
                      });
}

namespace {

// Pages through a NAMES/LIST API: requests with growing offset until `total` items came (or a
// page came back empty), collecting with `take`.
template <class Item>
struct Pager : std::enable_shared_from_this<Pager<Item>> {
    std::shared_ptr<JsCtx> ctx;
    std::string suffix;
    std::string subject;  // STREAM.* filter
    const char* field = "";
    std::function<bool(const json&, std::string, std::vector<Item>&)> take;
    JsCallback<std::vector<Item>> callback;
    std::vector<Item> items;

    void next() {
        ordered_json body;
        body["offset"] = items.size();
        if (!subject.empty()) body["subject"] = subject;
        auto self = this->shared_from_this();
        ctx->api_request(suffix, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), [self](JsResult<json> reply, std::string text) {
            if (!reply) return self->callback(reply.error());
            const json& j = *reply;
            const auto it = j.find(self->field);
            std::size_t added = 0;
            if (it != j.end() && it->is_array()) {
                for (const auto& item : *it) {
                    if (self->take(item, text, self->items)) ++added;
                }
            }
            const std::uint64_t total = detail::get_u64(j, "total");
            if (added == 0 || self->items.size() >= total) return self->callback(std::move(self->items));
            self->next();
        });
    }
};

template <class Item>
void page_all(const std::shared_ptr<JsCtx>& ctx, std::string suffix, std::string subject, const char* field,
              std::function<bool(const json&, std::string, std::vector<Item>&)> take,
              JsCallback<std::vector<Item>> callback) {
    auto pager = std::make_shared<Pager<Item>>();
    pager->ctx = ctx;
    pager->suffix = std::move(suffix);
    pager->subject = std::move(subject);
    pager->field = field;
    pager->take = std::move(take);
    pager->callback = std::move(callback);
    pager->next();
}

bool take_name(const json& item, std::string, std::vector<std::string>& out) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
    return true;
}

}  // namespace

void JetStream::stream_names(std::string_view subject, JsCallback<std::vector<std::string>> callback) {
    page_all<std::string>(ctx_, "STREAM.NAMES", std::string(subject), "streams", take_name, std::move(callback));
}

void JetStream::streams(std::string_view subject, JsCallback<std::vector<StreamInfo>> callback) {
    page_all<StreamInfo>(
        ctx_, "STREAM.LIST", std::string(subject), "streams",
        [](const json& item, std::string, std::vector<StreamInfo>& out) {
            if (!item.is_object()) return false;
            out.push_back(detail::stream_info_of(item, item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
            return true;
        },
        std::move(callback));
}

void JetStream::consumer_names(std::string_view stream, JsCallback<std::vector<std::string>> callback) {
    if (!valid_stream_name(stream)) {
        return ctx_->post_result<std::vector<std::string>>(std::move(callback), JsErrc::invalid_argument);
    }
    page_all<std::string>(ctx_, "CONSUMER.NAMES." + std::string(stream), "", "consumers", take_name,
                          std::move(callback));
}

void JetStream::consumers(std::string_view stream, JsCallback<std::vector<ConsumerInfo>> callback) {
    if (!valid_stream_name(stream)) {
        return ctx_->post_result<std::vector<ConsumerInfo>>(std::move(callback), JsErrc::invalid_argument);
    }
    page_all<ConsumerInfo>(
        ctx_, "CONSUMER.LIST." + std::string(stream), "", "consumers",
        [](const json& item, std::string, std::vector<ConsumerInfo>& out) {
            if (!item.is_object()) return false;
            out.push_back(detail::consumer_info_of(item, item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
            return true;
        },
        std::move(callback));
}

namespace {

std::string msg_get_body(const MsgGetRequest& request) {
    ordered_json j;
    if (!request.last_by_subject.empty()) {
        j["last_by_subj"] = request.last_by_subject;
    } else if (!request.next_by_subject.empty()) {
        j["seq"] = request.seq;
        j["next_by_subj"] = request.next_by_subject;
    } else {
        j["seq"] = request.seq;
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A DIRECT.GET reply: the message with Nats-* headers, or a status.
JsResult<StoredMsg> direct_reply(Result<Message> reply) {
    if (!reply) {
        if (reply.error() == Errc::no_responders) return JsErrc::not_enabled;
        return reply.error();
    }
    const Headers& headers = reply->headers;
    if (!headers.status().empty()) {
        if (headers.status() == "404") return JsErrc::message_not_found;
        JsError error{make_error_code(JsErrc::api_error), {}};
        error.api.code = std::atoi(headers.status().c_str());
        error.api.description = headers.description();
        return error;
    }
    StoredMsg msg;
    const auto subject = headers.get("Nats-Subject");
    const auto seq = headers.get("Nats-Sequence");
    const auto time = headers.get("Nats-Time-Stamp");
    if (!subject || !seq) return JsErrc::bad_response;
    msg.subject = std::string(*subject);
    msg.sequence = to_u64(*seq).value_or(0);
    if (time) {
        msg.time = std::string(*time);
        msg.time_ns = parse_rfc3339_ns(msg.time).value_or(0);
    }
    msg.headers = headers;
    msg.data = std::move(reply->payload);
    return msg;
}

}  // namespace

void JetStream::get_msg(std::string_view stream, const MsgGetRequest& request, JsCallback<StoredMsg> callback) {
    if (!valid_stream_name(stream)) {
        return ctx_->post_result<StoredMsg>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx_->api_request("STREAM.MSG.GET." + std::string(stream), msg_get_body(request),
                      [callback = std::move(callback)](JsResult<json> reply, std::string) {
                          if (!reply) return callback(reply.error());
                          const json& m = detail::get_obj(*reply, "message");
                          StoredMsg msg;
                          msg.subject = detail::get_str(m, "subject");
                          msg.sequence = detail::get_u64(m, "seq");
                          msg.time = detail::get_str(m, "time");
                          msg.time_ns = parse_rfc3339_ns(msg.time).value_or(0);
                          const auto data = detail::base64_decode(detail::get_str(m, "data"));
                          const auto hdrs = detail::base64_decode(detail::get_str(m, "hdrs"));
                          if (!data || !hdrs || msg.subject.empty()) return callback(JsErrc::bad_response);
                          msg.data = *data;
                          if (!hdrs->empty()) {
                              auto headers = Headers::decode(*hdrs);
                              if (!headers) return callback(JsErrc::bad_response);
                              msg.headers = std::move(*headers);
                          }
                          callback(std::move(msg));
                      });
}

void JetStream::get_msg(std::string_view stream, std::uint64_t seq, JsCallback<StoredMsg> callback) {
    MsgGetRequest request;
    request.seq = seq;
    get_msg(stream, request, std::move(callback));
}

void JetStream::get_last_msg(std::string_view stream, std::string_view subject, JsCallback<StoredMsg> callback) {
    MsgGetRequest request;
    request.last_by_subject = std::string(subject);
    get_msg(stream, request, std::move(callback));
}

void JetStream::delete_msg(std::string_view stream, std::uint64_t seq, bool no_erase, JsCallback<Done> callback) {
    if (!valid_stream_name(stream)) return ctx_->post_result<Done>(std::move(callback), JsErrc::invalid_argument);
    ordered_json j;
    j["seq"] = seq;
    if (no_erase) j["no_erase"] = true;
    ctx_->api_request("STREAM.MSG.DELETE." + std::string(stream), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), success_reply(std::move(callback)));
}

void JetStream::direct_get(std::string_view stream, const MsgGetRequest& request, JsCallback<StoredMsg> callback) {
    if (!valid_stream_name(stream)) {
        return ctx_->post_result<StoredMsg>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx_->connection.request(ctx_->api("DIRECT.GET." + std::string(stream)), msg_get_body(request),
                             ctx_->options.timeout, [callback = std::move(callback)](Result<Message> reply) {
                                 callback(direct_reply(std::move(reply)));
                             });
}

void JetStream::direct_get_last(std::string_view stream, std::string_view subject, JsCallback<StoredMsg> callback) {
    if (!valid_stream_name(stream) || subject.empty()) {
        return ctx_->post_result<StoredMsg>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx_->connection.request(ctx_->api("DIRECT.GET." + std::string(stream) + "." + std::string(subject)), "",
                             ctx_->options.timeout, [callback = std::move(callback)](Result<Message> reply) {
                                 callback(direct_reply(std::move(reply)));
                             });
}

// ---- Consumers ----

namespace {

// The create subject nats.go 1.22.1 picks for a 2.9 server: a named/durable consumer uses
// CONSUMER.CREATE.<stream>.<name>[.<filter>] (filter form only when it is set and not ">"); an
// unnamed ephemeral uses CONSUMER.CREATE.<stream>.
std::string create_suffix(std::string_view stream, const ConsumerConfig& config) {
    std::string name = config.name.empty() ? config.durable_name : config.name;
    std::string suffix = "CONSUMER.CREATE." + std::string(stream);
    if (name.empty()) return suffix;
    suffix += "." + name;
    if (!config.filter_subject.empty() && config.filter_subject != ">") suffix += "." + config.filter_subject;
    return suffix;
}

std::string create_body(std::string_view stream, const ConsumerConfig& config) {
    return "{\"stream_name\":" + json(std::string(stream)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ",\"config\":" +
           detail::encode_consumer_config(config) + "}";
}

}  // namespace

void create_consumer(const std::shared_ptr<JsCtx>& ctx, std::string_view stream, const ConsumerConfig& config,
                     JsCallback<ConsumerInfo> callback) {
    const std::string& name = config.name.empty() ? config.durable_name : config.name;
    if (!valid_stream_name(stream) || (!name.empty() && !valid_stream_name(name)) ||
        (!config.name.empty() && !config.durable_name.empty() && config.name != config.durable_name)) {
        return ctx->post_result<ConsumerInfo>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx->api_request(create_suffix(stream, config), create_body(stream, config),
                     consumer_info_reply(std::move(callback)));
}

// Fire and forget: nobody waits for the answer.
void delete_consumer_quietly(const std::shared_ptr<JsCtx>& ctx, std::string_view stream, std::string_view consumer) {
    ctx->api_request("CONSUMER.DELETE." + std::string(stream) + "." + std::string(consumer), "",
                     [](JsResult<json>, std::string) {});
}

void JetStream::add_consumer(std::string_view stream, const ConsumerConfig& config,
                             JsCallback<ConsumerInfo> callback) {
    create_consumer(ctx_, stream, config, std::move(callback));
}

void JetStream::update_consumer(std::string_view stream, const ConsumerConfig& config,
                                JsCallback<ConsumerInfo> callback) {
    if (config.name.empty() && config.durable_name.empty()) {
        return ctx_->post_result<ConsumerInfo>(std::move(callback), JsErrc::invalid_argument);
    }
    add_consumer(stream, config, std::move(callback));
}

void JetStream::consumer_info(std::string_view stream, std::string_view consumer,
                              JsCallback<ConsumerInfo> callback) {
    if (!valid_stream_name(stream) || !valid_stream_name(consumer)) {
        return ctx_->post_result<ConsumerInfo>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx_->api_request("CONSUMER.INFO." + std::string(stream) + "." + std::string(consumer), "",
                      consumer_info_reply(std::move(callback)));
}

void JetStream::delete_consumer(std::string_view stream, std::string_view consumer, JsCallback<Done> callback) {
    if (!valid_stream_name(stream) || !valid_stream_name(consumer)) {
        return ctx_->post_result<Done>(std::move(callback), JsErrc::invalid_argument);
    }
    ctx_->api_request("CONSUMER.DELETE." + std::string(stream) + "." + std::string(consumer), "",
                      success_reply(std::move(callback)));
}

// ---- Publish ----

namespace {

Headers publish_headers(const Headers& base, const PublishOptions& options) {
    Headers headers = base;
    if (!options.msg_id.empty()) headers.set("Nats-Msg-Id", options.msg_id);
    if (!options.expected_stream.empty()) headers.set("Nats-Expected-Stream", options.expected_stream);
    if (options.expected_last_sequence) {
        headers.set("Nats-Expected-Last-Sequence", std::to_string(*options.expected_last_sequence));
    }
    if (options.expected_last_subject_sequence) {
        headers.set("Nats-Expected-Last-Subject-Sequence", std::to_string(*options.expected_last_subject_sequence));
    }
    if (!options.expected_last_msg_id.empty()) {
        headers.set("Nats-Expected-Last-Msg-Id", options.expected_last_msg_id);
    }
    return headers;
}

JsResult<PubAck> parse_pub_ack(const Message& reply) {
    const json parsed = json::parse(reply.payload, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return JsErrc::bad_response;
    if (parsed.contains("error") && parsed["error"].is_object()) return detail::api_error_of(parsed["error"]);
    PubAck ack;
    ack.stream = detail::get_str(parsed, "stream");
    ack.sequence = detail::get_u64(parsed, "seq");
    ack.domain = detail::get_str(parsed, "domain");
    ack.duplicate = detail::get_bool(parsed, "duplicate");
    if (ack.stream.empty()) return JsErrc::bad_response;
    return ack;
}

struct PublishAttempt : std::enable_shared_from_this<PublishAttempt> {
    std::shared_ptr<JsCtx> ctx;
    std::string subject;
    Headers headers;
    std::string payload;
    Duration timeout;
    std::uint32_t retries_left = 0;
    JsCallback<PubAck> callback;

    void send() {
        auto self = shared_from_this();
        ctx->connection.request(subject, headers, payload, timeout, [self](Result<Message> reply) {
            if (!reply) {
                if (reply.error() == Errc::no_responders) {
                    // nats.go: the stream may be starting or its leader changing; retry a few times.
                    if (self->retries_left > 0) {
                        --self->retries_left;
                        self->ctx->env.loop.schedule(self->ctx->options.publish_retry_wait, [self] { self->send(); });
                        return;
                    }
                    return self->callback(JsErrc::no_stream_response);
                }
                return self->callback(reply.error());
            }
            self->callback(parse_pub_ack(*reply));
        });
    }
};

}  // namespace

void JetStream::publish(std::string_view subject, std::string_view payload, const PublishOptions& options,
                        JsCallback<PubAck> callback) {
    publish(subject, Headers{}, payload, options, std::move(callback));
}

void JetStream::publish(std::string_view subject, const Headers& headers, std::string_view payload,
                        const PublishOptions& options, JsCallback<PubAck> callback) {
    auto attempt = std::make_shared<PublishAttempt>();
    attempt->ctx = ctx_;
    attempt->subject = std::string(subject);
    attempt->headers = publish_headers(headers, options);
    attempt->payload = std::string(payload);
    attempt->timeout = options.timeout.value_or(ctx_->options.timeout);
    attempt->retries_left = ctx_->options.publish_retry_attempts;
    attempt->callback = std::move(callback);
    attempt->send();
}

JsStatus JetStream::publish_async(std::string_view subject, const Headers& headers, std::string_view payload,
                                  const PublishOptions& options, JsCallback<PubAck> callback) {
    if (ctx_->async_pending >= ctx_->options.max_pending_async) return JsErrc::too_many_pending;
    ++ctx_->async_pending;
    std::weak_ptr<JsCtx> weak = ctx_;
    // The retry of a 503 is nats.go's synchronous publish behaviour; an async publish reports
    // no_stream_response at once, as nats.go's PublishAsync does.
    ctx_->connection.request(subject, publish_headers(headers, options), payload,
                             options.timeout.value_or(ctx_->options.timeout),
                             [weak, callback = std::move(callback)](Result<Message> reply) {
                                 JsResult<PubAck> result = JsErrc::bad_response;
                                 if (!reply) {
                                     result = reply.error() == Errc::no_responders
                                                  ? JsResult<PubAck>(JsErrc::no_stream_response)
                                                  : JsResult<PubAck>(reply.error());
                                 } else {
                                     result = parse_pub_ack(*reply);
                                 }
                                 if (callback) callback(std::move(result));
                                 if (auto ctx = weak.lock()) ctx->async_done();
                             });
    return Done{};
}

std::size_t JetStream::publish_async_pending() const { return ctx_->async_pending; }

void JetStream::publish_async_complete(std::function<void()> callback) {
    if (ctx_->async_pending == 0) {
        ctx_->env.loop.post(std::move(callback));
        return;
    }
    ctx_->async_waiters.push_back(std::move(callback));
}

// ---------------------------------------------------------------------------------------------
// Pull subscriptions.

namespace detail {

struct PullState {
    std::shared_ptr<JsCtx> ctx;
    std::string stream;
    std::string consumer;
};

// One fetch in flight: its own inbox subscription and a timer a little past the expiry.
struct Fetch : std::enable_shared_from_this<Fetch> {
    std::shared_ptr<JsCtx> ctx;
    FetchOptions options;
    JsCallback<std::vector<JsMsg>> callback;
    std::vector<JsMsg> messages;
    Subscription subscription;
    io::TimerId timer = 0;
    bool done = false;

    void finish(JsResult<std::vector<JsMsg>> result) {
        if (done) return;
        done = true;
        ctx->env.loop.cancel(timer);
        (void)subscription.unsubscribe();
        // Take the callback off `this` first: it may start the next fetch.
        auto take = std::move(callback);
        take(std::move(result));
    }
    void finish_ok() { finish(std::move(messages)); }

    void on_message(const Message& message) {
        if (done) return;
        const std::string& status = message.headers.status();
        if (message.has_headers && !status.empty() && message.payload.empty()) {
            if (status == "100") return;  // idle heartbeat
            if (status == "404" || status == "408") return finish_ok();
            if (!messages.empty()) return finish_ok();  // 409 after some messages: keep them
            JsError error{make_error_code(JsErrc::pull_status), {}};
            error.api.code = std::atoi(status.c_str());
            error.api.description = message.headers.description();
            if (message.headers.description() == "Consumer Deleted") error.code = make_error_code(JsErrc::consumer_deleted);
            return finish(std::move(error));
        }
        messages.emplace_back(&ctx->connection, message);
        if (messages.size() >= options.batch) finish_ok();
    }
};

}  // namespace detail

const std::string& PullSubscription::stream() const { return state_->stream; }
const std::string& PullSubscription::consumer() const { return state_->consumer; }

void PullSubscription::fetch(FetchOptions options, JsCallback<std::vector<JsMsg>> callback) {
    ASSERT(state_ != nullptr);
    auto& ctx = state_->ctx;
    if (options.batch == 0) {
        return ctx->post_result<std::vector<JsMsg>>(std::move(callback), JsErrc::invalid_argument);
    }
    auto fetch = std::make_shared<detail::Fetch>();
    fetch->ctx = ctx;
    fetch->options = options;
    fetch->callback = std::move(callback);
    const std::string inbox = ctx->connection.new_inbox();
    std::weak_ptr<detail::Fetch> weak = fetch;
    auto subscription = ctx->connection.subscribe(inbox, [fetch](const Message& message) {
        fetch->on_message(message);
    });
    if (!subscription) return ctx->post_result<std::vector<JsMsg>>(std::move(fetch->callback), subscription.error());
    fetch->subscription = *subscription;
    ordered_json body;
    body["batch"] = options.batch;
    if (!options.no_wait) body["expires"] = static_cast<std::int64_t>(options.expires.ns);
    if (options.max_bytes != 0) body["max_bytes"] = options.max_bytes;
    if (options.no_wait) body["no_wait"] = true;
    const Status sent = ctx->connection.publish(
        ctx->api("CONSUMER.MSG.NEXT." + state_->stream + "." + state_->consumer), inbox, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!sent) {
        (void)fetch->subscription.unsubscribe();
        return ctx->post_result<std::vector<JsMsg>>(std::move(fetch->callback), sent.error());
    }
    // The server ends the request with 408 at expiry; the client gives it one more timeout to say
    // so before it stops waiting (a lost connection, a server that forgot the request).
    const Duration bound = (options.no_wait ? Duration{} : options.expires) + ctx->options.timeout;
    fetch->timer = ctx->env.loop.schedule(bound, [weak] {
        if (auto self = weak.lock()) {
            if (self->messages.empty()) return self->finish(Errc::timeout);
            self->finish_ok();
        }
    });
}

void JetStream::pull_subscribe(std::string_view stream, std::string_view consumer,
                               JsCallback<PullSubscription> callback) {
    auto ctx = ctx_;
    consumer_info(stream, consumer, [ctx, callback = std::move(callback)](JsResult<ConsumerInfo> info) {
        if (!info) return callback(info.error());
        if (!info->config.deliver_subject.empty()) return callback(JsErrc::invalid_argument);
        PullSubscription sub;
        sub.state_ = std::make_shared<detail::PullState>();
        sub.state_->ctx = ctx;
        sub.state_->stream = info->stream_name;
        sub.state_->consumer = info->name;
        callback(std::move(sub));
    });
}

void JetStream::pull_subscribe(std::string_view stream, const ConsumerConfig& config,
                               JsCallback<PullSubscription> callback) {
    if ((config.durable_name.empty() && config.name.empty()) || !config.deliver_subject.empty()) {
        return ctx_->post_result<PullSubscription>(std::move(callback), JsErrc::invalid_argument);
    }
    auto ctx = ctx_;
    add_consumer(stream, config, [ctx, callback = std::move(callback)](JsResult<ConsumerInfo> info) {
        if (!info) return callback(info.error());
        PullSubscription sub;
        sub.state_ = std::make_shared<detail::PullState>();
        sub.state_->ctx = ctx;
        sub.state_->stream = info->stream_name;
        sub.state_->consumer = info->name;
        callback(std::move(sub));
    });
}

// ---------------------------------------------------------------------------------------------
// Push subscriptions.

namespace detail {

struct PushState : std::enable_shared_from_this<PushState> {
    std::shared_ptr<JsCtx> ctx;
    SubscribeOptions options;
    JsMsgHandler handler;
    Subscription subscription;
    std::string consumer;
    bool created = false;    // we created the consumer (ephemeral): delete it on unsubscribe
    bool active = true;
    bool resetting = false;
    std::uint64_t initial_pending = 0;
    std::uint64_t delivered = 0;
    std::uint64_t resets = 0;
    // Ordered mode.
    std::uint64_t consumer_seq = 0;  // last consumer sequence seen
    std::uint64_t stream_seq = 0;    // last stream sequence seen
    Instant last_activity{};
    io::TimerId heartbeat_timer = 0;
    std::uint64_t generation = 0;  // which consumer incarnation messages belong to

    Duration heartbeat() const { return options.config.idle_heartbeat; }

    void on_message(std::uint64_t gen, const Message& message) {
        if (!active || gen != generation) return;
        last_activity = ctx->env.clock.monotonic();
        const std::string& status = message.headers.status();
        if (message.has_headers && status == "100" && message.payload.empty()) {
            on_control(message);
            return;
        }
        if (options.ordered) {
            auto meta = parse_ack_subject(message.reply);
            if (!meta) return;
            if (meta->consumer_sequence != consumer_seq + 1) {
                reset();
                return;
            }
            consumer_seq = meta->consumer_sequence;
            stream_seq = meta->stream_sequence;
        }
        ++delivered;
        JsMsg msg(&ctx->connection, message);
        [[maybe_unused]] auto keep_alive = shared_from_this();  // the handler may unsubscribe
        handler(msg);
        if (!options.manual_ack && !options.ordered && options.config.ack_policy != AckPolicy::none &&
            !msg.acked() && !msg.reply().empty()) {
            (void)msg.ack();
        }
    }

    void on_control(const Message& message) {
        const std::string& description = message.headers.description();
        if (description.rfind("Flow", 0) == 0) {
            // nats.go: answer a flow-control request with an empty message to its reply.
            if (!message.reply.empty()) (void)ctx->connection.publish(message.reply, "");
            return;
        }
        if (const auto stalled = message.headers.get("Nats-Consumer-Stalled")) {
            (void)ctx->connection.publish(*stalled, "");
        }
        if (options.ordered) {
            // A heartbeat names the last consumer sequence the server sent: a gap if ahead of us.
            if (const auto last = message.headers.get("Nats-Last-Consumer")) {
                const auto seq = to_u64(*last);
                if (seq && *seq != consumer_seq) reset();
            }
        }
    }

    // nats.go ordered consumer reset: a new inbox and an ephemeral consumer that starts after the
    // last stream sequence seen; the old consumer is left to its inactive threshold.
    void reset() {
        if (resetting || !active) return;
        resetting = true;
        ++resets;
        ++generation;
        (void)subscription.unsubscribe();
        start();
    }

    ConsumerConfig ordered_config() const {
        ConsumerConfig c = options.config;
        c.durable_name.clear();
        c.name.clear();
        c.ack_policy = AckPolicy::none;
        c.max_deliver = 1;
        c.ack_wait = Duration::seconds(22 * 3600);
        c.flow_control = true;
        if (c.idle_heartbeat.ns == 0) c.idle_heartbeat = Duration::seconds(5);
        c.num_replicas = 1;
        c.mem_storage = true;
        if (stream_seq > 0) {
            c.deliver_policy = DeliverPolicy::by_start_sequence;
            c.opt_start_seq = stream_seq + 1;
            c.opt_start_time.clear();
        }
        return c;
    }

    // Subscribes a fresh inbox and creates (or binds) the consumer.
    void start(JsCallback<Done> started = {}) {
        auto self = shared_from_this();
        const std::uint64_t gen = generation;
        const std::string inbox = ctx->connection.new_inbox();
        auto handler_fn = [self, gen](const Message& message) { self->on_message(gen, message); };
        auto sub = options.queue.empty() ? ctx->connection.subscribe(inbox, handler_fn)
                                         : ctx->connection.queue_subscribe(inbox, options.queue, handler_fn);
        if (!sub) {
            resetting = false;
            if (started) started(sub.error());
            return;
        }
        subscription = *sub;
        ConsumerConfig config = options.ordered ? ordered_config() : options.config;
        config.deliver_subject = inbox;
        if (!options.queue.empty()) config.deliver_group = options.queue;
        consumer_seq = 0;
        create(config, std::move(started));
    }

    void create(const ConsumerConfig& config, JsCallback<Done> started);
    void arm_heartbeat_check();
};

}  // namespace detail

}  // namespace herald::client

namespace herald::client {
namespace detail {

void PushState::create(const ConsumerConfig& config, JsCallback<Done> started) {
    std::weak_ptr<PushState> weak = shared_from_this();
    create_consumer(ctx, options.stream, config,
                    [weak, started = std::move(started)](JsResult<ConsumerInfo> info) {
                        auto self = weak.lock();
                        if (!self) return;
                        self->resetting = false;
                        if (!info) {
                            (void)self->subscription.unsubscribe();
                            if (started) return started(info.error());
                            // An ordered reset that failed: try again after a heartbeat period.
                            self->ctx->env.loop.schedule(self->heartbeat(), [weak] {
                                if (auto again = weak.lock()) again->reset();
                            });
                            return;
                        }
                        self->consumer = info->name;
                        self->created = self->options.ordered || info->config.durable_name.empty();
                        if (started) {
                            self->initial_pending = info->num_pending;
                            started(Done{});
                        }
                    });
}

// Ordered mode: if nothing (data or heartbeat) came for 3 heartbeat periods, the consumer is gone
// or the link lost messages; reset (nats.go checkOrderedMsgs / heartbeat monitor).
void PushState::arm_heartbeat_check() {
    const Duration period = heartbeat() * 3;
    std::weak_ptr<PushState> weak = shared_from_this();
    heartbeat_timer = ctx->env.loop.schedule(period, [weak, period] {
        auto self = weak.lock();
        if (!self || !self->active) return;
        const Instant now = self->ctx->env.clock.monotonic();
        if (now.since(self->last_activity) >= period) self->reset();
        self->arm_heartbeat_check();
    });
}

}  // namespace detail

void JetStream::subscribe(const SubscribeOptions& options, JsMsgHandler handler,
                          JsCallback<PushSubscription> callback) {
    if (!valid_stream_name(options.stream) || !handler ||
        (options.ordered && (!options.consumer.empty() || !options.queue.empty()))) {
        return ctx_->post_result<PushSubscription>(std::move(callback), JsErrc::invalid_argument);
    }
    auto state = std::make_shared<detail::PushState>();
    state->ctx = ctx_;
    state->options = options;
    state->handler = std::move(handler);
    state->last_activity = ctx_->env.clock.monotonic();
    if (options.ordered && state->options.config.idle_heartbeat.ns == 0) {
        state->options.config.idle_heartbeat = Duration::seconds(5);
    }
    auto done = [state, callback = std::move(callback)](JsStatus status) mutable {
        if (!status) return callback(status.error());
        if (state->options.ordered) state->arm_heartbeat_check();
        PushSubscription sub;
        sub.state_ = state;
        callback(std::move(sub));
    };
    // A queue subscription shares one durable (named after the queue unless given), as nats.go:
    // the first member creates it, the others bind to its deliver subject.
    if (!options.queue.empty() && options.consumer.empty() && state->options.config.name.empty() &&
        state->options.config.durable_name.empty()) {
        state->options.config.durable_name = options.queue;
    }
    const std::string& durable = state->options.config.durable_name;
    if (options.consumer.empty() && (options.queue.empty() || durable.empty())) {
        state->start(std::move(done));
        return;
    }
    // Bind to an existing push consumer: subscribe its deliver subject (and group).
    const bool create_if_missing = options.consumer.empty();
    consumer_info(options.stream, create_if_missing ? durable : options.consumer,
                  [state, create_if_missing, done = std::move(done)](JsResult<ConsumerInfo> info) mutable {
                      if (!info && create_if_missing && info.error().code == JsErrc::consumer_not_found) {
                          return state->start(std::move(done));
                      }
                      if (!info) return done(info.error());
                      const std::string& deliver = info->config.deliver_subject;
                      if (deliver.empty()) return done(JsErrc::invalid_argument);
                      auto handler_fn = [state](const Message& message) { state->on_message(0, message); };
                      const std::string& group = info->config.deliver_group;
                      auto sub = group.empty() ? state->ctx->connection.subscribe(deliver, handler_fn)
                                               : state->ctx->connection.queue_subscribe(deliver, group, handler_fn);
                      if (!sub) return done(sub.error());
                      state->subscription = *sub;
                      state->consumer = info->name;
                      state->initial_pending = info->num_pending;
                      done(Done{});
                  });
}

Status PushSubscription::unsubscribe() {
    if (!state_ || !state_->active) return Errc::bad_subscription;
    state_->active = false;
    state_->ctx->env.loop.cancel(state_->heartbeat_timer);
    const Status status = state_->subscription.unsubscribe();
    // Drop the handler (and what it captured: watchers and object reads keep their own state in
    // it) once off the call stack: unsubscribe() may run inside that very handler.
    state_->ctx->env.loop.post([state = state_] { state->handler = nullptr; });
    if (state_->created && !state_->consumer.empty()) {
        // nats.go deletes the consumer it created; nobody waits for the answer.
        delete_consumer_quietly(state_->ctx, state_->options.stream, state_->consumer);
    }
    return status;
}

bool PushSubscription::valid() const { return state_ && state_->active; }
const std::string& PushSubscription::stream() const { return state_->options.stream; }
std::string PushSubscription::consumer() const { return state_ ? state_->consumer : std::string(); }
std::uint64_t PushSubscription::initial_pending() const { return state_ ? state_->initial_pending : 0; }
std::uint64_t PushSubscription::delivered() const { return state_ ? state_->delivered : 0; }
std::uint64_t PushSubscription::resets() const { return state_ ? state_->resets : 0; }

}  // namespace herald::client
