#include "chaos/scenario.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/config/duration.h"

namespace herald::chaos {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, fault_type_count> fault_names = {
    "server_crash", "server_crash_silent", "server_pause", "client_crash", "client_pause",
    "partition",    "partition_one_way",   "isolate",      "bridge",       "clog",
    "slow_link",    "bandwidth",           "reset",        "blackhole",    "kick",
    "clock_skew",   "clock_drift",         "clock_jump",   "disk_crash",   "disk_corrupt",
    "disk_errors",  "disk_bitflip",        "disk_full",
};

constexpr std::array<std::string_view, checker_type_count> checker_names = {
    "no_phantom", "no_duplicate", "order", "no_loss", "reply_matches", "queue_once",
    "stale_detected", "liveness", "js_no_loss", "js_no_phantom", "js_consumer", "js_exactly_once",
};

constexpr std::uint64_t clients_max = 10'000;
constexpr std::uint64_t nodes_max = 64;
constexpr std::uint64_t rate_max = 1'000'000;
constexpr std::uint64_t size_max = 1024 * 1024;

// Reads the fields of one JSON object; the first problem wins and names the field by its path.
class Reader {
public:
    Reader(const json& object, std::string path, std::string& error)
        : object_(object), path_(std::move(path)), error_(error) {
        if (error_.empty() && !object_.is_object()) error_ = fmt::format("{}: expected an object", where());
    }

    bool ok() const { return error_.empty(); }
    std::string field(std::string_view key) const {
        return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
    }
    const json* find(std::string_view key) const {
        if (!ok()) return nullptr;
        const auto it = object_.find(std::string(key));
        return it == object_.end() ? nullptr : &*it;
    }
    void fail(std::string_view key, std::string_view message) {
        if (error_.empty()) error_ = fmt::format("{}: {}", field(key), message);
    }
    // Every key must be one of `known`: a typo is an error, not a silently ignored field.
    void only(std::initializer_list<std::string_view> known) {
        if (!ok()) return;
        for (const auto& [key, value] : object_.items()) {
            bool found = false;
            for (const std::string_view name : known) found = found || key == name;
            if (!found) {
                fail(key, "unknown field");
                return;
            }
        }
    }
    void string(std::string_view key, std::string& out, bool required = false) {
        const json* value = find(key);
        if (value == nullptr) {
            if (required && ok()) fail(key, "required string is missing");
            return;
        }
        if (!value->is_string()) return fail(key, "expected a string");
        out = value->get<std::string>();
        if (required && out.empty()) fail(key, "must not be empty");
    }
    void unsigned_integer(std::string_view key, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
        const json* value = find(key);
        if (value == nullptr) return;
        if (!value->is_number_unsigned()) return fail(key, fmt::format("expected an integer in [{}, {}]", min, max));
        const auto number = value->get<std::uint64_t>();
        if (number < min || number > max) return fail(key, fmt::format("expected an integer in [{}, {}]", min, max));
        out = number;
    }
    void number(std::string_view key, double& out, double min, double max) {
        const json* value = find(key);
        if (value == nullptr) return;
        if (!value->is_number()) return fail(key, fmt::format("expected a number in [{}, {}]", min, max));
        const double number = value->get<double>();
        if (!(number >= min && number <= max)) return fail(key, fmt::format("expected a number in [{}, {}]", min, max));
        out = number;
    }
    void boolean(std::string_view key, bool& out) {
        const json* value = find(key);
        if (value == nullptr) return;
        if (!value->is_boolean()) return fail(key, "expected true or false");
        out = value->get<bool>();
    }
    void duration(std::string_view key, Duration& out, bool allow_zero = false) {
        const json* value = find(key);
        if (value == nullptr) return;
        const auto parsed = value->is_string() ? parse_duration(value->get<std::string>()) : std::nullopt;
        if (!parsed) return fail(key, "expected a duration such as \"250ms\", \"2s\" or \"1m\"");
        if (parsed->ns == 0 && !allow_zero) return fail(key, "must be more than zero");
        out = *parsed;
    }
    // An array field: calls `each(element, path)` per element.
    template <typename Each>
    void array(std::string_view key, Each each, bool required = false) {
        const json* value = find(key);
        if (value == nullptr) {
            if (required && ok()) fail(key, "required array is missing");
            return;
        }
        if (!value->is_array()) return fail(key, "expected an array");
        for (std::size_t i = 0; i < value->size() && ok(); ++i) {
            each((*value)[i], fmt::format("{}[{}]", field(key), i));
        }
    }

private:
    std::string where() const { return path_.empty() ? std::string("scenario") : path_; }

    const json& object_;
    std::string path_;
    std::string& error_;
};

void fail_at(std::string& error, const std::string& path, std::string_view message) {
    if (error.empty()) error = fmt::format("{}: {}", path, message);
}

void read_nodes(const json& element, const std::string& path, Scenario& scenario, std::string& error) {
    Reader reader(element, path, error);
    reader.only({"count", "ping_interval", "ping_max", "max_pending", "write_deadline", "max_payload", "jetstream",
                 "sync_latency", "sync_jitter"});
    std::uint64_t count = 1;
    reader.unsigned_integer("count", count, 1, nodes_max);
    sim::NodeSpec node;
    node.options.ping_interval = Duration::seconds(2);
    node.options.ping_max = 2;
    node.options.write_deadline = Duration::seconds(2);
    reader.duration("ping_interval", node.options.ping_interval);
    std::uint64_t ping_max = 2;
    reader.unsigned_integer("ping_max", ping_max, 1, 100);
    node.options.ping_max = static_cast<std::int64_t>(ping_max);
    std::uint64_t max_pending = static_cast<std::uint64_t>(node.options.max_pending);
    reader.unsigned_integer("max_pending", max_pending, 1024, std::uint64_t{1} << 40U);
    node.options.max_pending = static_cast<std::int64_t>(max_pending);
    std::uint64_t max_payload = static_cast<std::uint64_t>(node.options.max_payload);
    reader.unsigned_integer("max_payload", max_payload, 1024, size_max * 64);
    node.options.max_payload = static_cast<std::int64_t>(max_payload);
    reader.duration("write_deadline", node.options.write_deadline);
    reader.boolean("jetstream", node.options.jetstream);
    reader.duration("sync_latency", node.sync_latency);
    reader.duration("sync_jitter", node.sync_latency_jitter, true);
    if (node.options.jetstream) node.options.store_dir = "/herald";
    if (!reader.ok()) return;
    for (std::uint64_t i = 0; i < count; ++i) scenario.cluster.nodes.push_back(node);
    if (scenario.cluster.nodes.size() > nodes_max) fail_at(error, path, "too many nodes");
}

void read_subscribe(const json& element, const std::string& path, std::vector<sim::SubscribeSpec>& out,
                    std::string& error) {
    Reader reader(element, path, error);
    reader.only({"subject", "queue"});
    sim::SubscribeSpec spec;
    reader.string("subject", spec.subject, true);
    reader.string("queue", spec.queue);
    if (reader.ok()) out.push_back(std::move(spec));
}

void read_client(const json& element, const std::string& path, Scenario& scenario, std::string& error) {
    Reader reader(element, path, error);
    reader.only({"name", "count", "servers", "publish", "subscribe", "request", "respond", "flush_interval",
                 "ping_interval", "max_pings_out", "connect_timeout", "reconnect_wait", "reconnect_wait_max",
                 "js_publish", "js_consume"});
    sim::ClientSpec client;
    std::uint64_t count = 1;
    reader.string("name", client.name, true);
    reader.unsigned_integer("count", count, 1, clients_max);
    reader.array("servers", [&](const json& server, const std::string& at) {
        if (!server.is_number_unsigned() || server.get<std::uint64_t>() >= scenario.cluster.nodes.size()) {
            return fail_at(error, at, fmt::format("expected a node index below {}", scenario.cluster.nodes.size()));
        }
        client.servers.push_back(server.get<std::uint32_t>());
    });
    reader.array("publish", [&](const json& item, const std::string& at) {
        Reader publish(item, at, error);
        publish.only({"subject", "rate", "size"});
        sim::PublishSpec spec;
        publish.string("subject", spec.subject, true);
        publish.unsigned_integer("rate", spec.rate_per_second, 1, rate_max);
        std::uint64_t size = spec.size_bytes;
        publish.unsigned_integer("size", size, 0, size_max);
        spec.size_bytes = static_cast<std::uint32_t>(size);
        if (publish.ok()) client.publish.push_back(std::move(spec));
    });
    reader.array("subscribe", [&](const json& item, const std::string& at) {
        read_subscribe(item, at, client.subscribe, error);
    });
    reader.array("respond", [&](const json& item, const std::string& at) {
        read_subscribe(item, at, client.respond, error);
    });
    reader.array("request", [&](const json& item, const std::string& at) {
        Reader request(item, at, error);
        request.only({"subject", "rate", "timeout"});
        sim::RequestSpec spec;
        request.string("subject", spec.subject, true);
        request.unsigned_integer("rate", spec.rate_per_second, 1, rate_max);
        request.duration("timeout", spec.timeout);
        if (request.ok()) client.request.push_back(std::move(spec));
    });
    reader.array("js_publish", [&](const json& item, const std::string& at) {
        Reader publish(item, at, error);
        publish.only({"subject", "rate", "size", "timeout", "attempts"});
        sim::JsPublishSpec spec;
        publish.string("subject", spec.subject, true);
        publish.unsigned_integer("rate", spec.rate_per_second, 1, rate_max);
        std::uint64_t size = spec.size_bytes;
        publish.unsigned_integer("size", size, 0, size_max);
        spec.size_bytes = static_cast<std::uint32_t>(size);
        publish.duration("timeout", spec.timeout);
        std::uint64_t attempts = spec.attempts_max;
        publish.unsigned_integer("attempts", attempts, 1, 1000);
        spec.attempts_max = static_cast<std::uint32_t>(attempts);
        if (publish.ok()) client.js_publish.push_back(std::move(spec));
    });
    reader.array("js_consume", [&](const json& item, const std::string& at) {
        Reader consume(item, at, error);
        consume.only({"stream", "durable", "expires", "ack_wait", "timeout"});
        sim::JsConsumeSpec spec;
        consume.string("stream", spec.stream, true);
        consume.string("durable", spec.durable, true);
        consume.duration("expires", spec.expires);
        consume.duration("ack_wait", spec.ack_wait);
        consume.duration("timeout", spec.timeout);
        if (consume.ok()) client.js_consume.push_back(std::move(spec));
    });
    reader.duration("flush_interval", client.flush_interval);
    reader.duration("ping_interval", client.ping_interval);
    std::uint64_t pings = client.max_pings_out;
    reader.unsigned_integer("max_pings_out", pings, 1, 100);
    client.max_pings_out = static_cast<std::uint32_t>(pings);
    reader.duration("connect_timeout", client.connect_timeout);
    reader.duration("reconnect_wait", client.reconnect_wait);
    reader.duration("reconnect_wait_max", client.reconnect_wait_max);
    if (!reader.ok()) return;
    if (client.servers.empty()) {
        for (std::uint32_t i = 0; i < scenario.cluster.nodes.size(); ++i) client.servers.push_back(i);
    }
    const std::string base = client.name;
    for (std::uint64_t i = 0; i < count; ++i) {
        client.name = count == 1 ? base : fmt::format("{}{}", base, i);
        for (const auto& other : scenario.cluster.clients) {
            if (other.name == client.name) return fail_at(error, reader.field("name"), fmt::format("duplicate client name '{}'", client.name));
        }
        scenario.cluster.clients.push_back(client);
    }
    if (scenario.cluster.clients.size() > clients_max) fail_at(error, path, "too many clients");
}

void read_targets(Reader& reader, const Scenario& scenario, std::vector<std::string>& out, std::string& error) {
    reader.array("targets", [&](const json& item, const std::string& at) {
        if (!item.is_string() || !resolve_target(scenario, item.get<std::string>())) {
            return fail_at(error, at, "expected \"n<index>\" or the name of a client");
        }
        out.push_back(item.get<std::string>());
    });
}

std::optional<FaultType> read_fault_type(Reader& reader) {
    std::string name;
    reader.string("type", name, true);
    if (!reader.ok()) return std::nullopt;
    const auto type = fault_type_from_name(name);
    if (!type) reader.fail("type", fmt::format("unknown fault type '{}'", name));
    return type;
}

void read_faults(const json& element, Scenario& scenario, std::string& error) {
    Reader reader(element, "faults", error);
    reader.only({"schedule", "random", "swarm_off_probability"});
    reader.array("schedule", [&](const json& item, const std::string& at) {
        Reader fault(item, at, error);
        fault.only({"at", "type", "targets", "duration"});
        ScriptedFault spec;
        fault.duration("at", spec.at, true);
        if (fault.find("at") == nullptr) fault.fail("at", "required duration is missing");
        const auto type = read_fault_type(fault);
        if (type) spec.type = *type;
        read_targets(fault, scenario, spec.targets, error);
        fault.duration("duration", spec.duration);
        if (fault.ok() && !spec.targets.empty() && spec.targets.size() < fault_type_arity(spec.type)) {
            fault.fail("targets", fmt::format("{} needs {} targets", fault_type_name(spec.type), fault_type_arity(spec.type)));
        }
        if (fault.ok()) scenario.schedule.push_back(std::move(spec));
    });
    reader.array("random", [&](const json& item, const std::string& at) {
        Reader fault(item, at, error);
        fault.only({"type", "rate_per_minute", "duration_min", "duration_max", "targets"});
        RandomFault spec;
        const auto type = read_fault_type(fault);
        if (type) spec.type = *type;
        fault.number("rate_per_minute", spec.rate_per_minute, 0.0, 6000.0);
        fault.duration("duration_min", spec.duration_min);
        fault.duration("duration_max", spec.duration_max);
        read_targets(fault, scenario, spec.targets, error);
        if (fault.ok() && spec.duration_max < spec.duration_min) fault.fail("duration_max", "is less than duration_min");
        if (fault.ok()) scenario.random.push_back(std::move(spec));
    });
    reader.number("swarm_off_probability", scenario.swarm_off_probability, 0.0, 1.0);
}

void read_checkers(const json& value, Scenario& scenario, std::string& error) {
    if (value.is_string() && value.get<std::string>() == "all") return;
    if (!value.is_array()) return fail_at(error, "checkers", "expected \"all\" or an array of checker names");
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto type = value[i].is_string() ? checker_type_from_name(value[i].get<std::string>()) : std::nullopt;
        if (!type) return fail_at(error, fmt::format("checkers[{}]", i), "unknown checker");
        scenario.checkers.push_back(*type);
    }
}

}  // namespace

std::string_view fault_type_name(FaultType type) {
    const auto index = static_cast<std::size_t>(type);
    return index < fault_names.size() ? fault_names[index] : "unknown";
}

std::optional<FaultType> fault_type_from_name(std::string_view name) {
    for (std::size_t i = 0; i < fault_names.size(); ++i) {
        if (fault_names[i] == name) return static_cast<FaultType>(i);
    }
    return std::nullopt;
}

std::size_t fault_type_arity(FaultType type) {
    switch (type) {
        case FaultType::partition:
        case FaultType::partition_one_way:
        case FaultType::clog:
        case FaultType::slow_link:
        case FaultType::bandwidth:
        case FaultType::reset:
        case FaultType::blackhole:
            return 2;
        case FaultType::bridge:
            return 3;
        default:
            return 1;
    }
}

std::string_view checker_type_name(CheckerType type) {
    const auto index = static_cast<std::size_t>(type);
    return index < checker_names.size() ? checker_names[index] : "unknown";
}

std::optional<CheckerType> checker_type_from_name(std::string_view name) {
    for (std::size_t i = 0; i < checker_names.size(); ++i) {
        if (checker_names[i] == name) return static_cast<CheckerType>(i);
    }
    return std::nullopt;
}

std::optional<Duration> parse_duration(std::string_view text) {
    const auto ns = config::parse_go_duration(text);
    if (!ns || *ns < 0) return std::nullopt;
    return Duration{static_cast<std::uint64_t>(*ns)};
}

std::string format_duration(Duration duration) {
    const std::uint64_t ns = duration.ns;
    if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
    if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
    if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
    return fmt::format("{}ns", ns);
}

std::optional<sim::NodeIndex> resolve_target(const Scenario& scenario, std::string_view target) {
    const std::size_t servers = scenario.cluster.nodes.size();
    if (target.size() >= 2 && target[0] == 'n') {
        std::uint64_t index = 0;
        bool digits = true;
        for (const char c : target.substr(1)) {
            digits = digits && c >= '0' && c <= '9';
            if (digits) index = index * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (digits && index < servers) return static_cast<sim::NodeIndex>(index);
    }
    for (std::size_t i = 0; i < scenario.cluster.clients.size(); ++i) {
        if (scenario.cluster.clients[i].name == target) return static_cast<sim::NodeIndex>(servers + i);
    }
    return std::nullopt;
}

std::string target_name(const Scenario& scenario, sim::NodeIndex node) {
    const std::size_t servers = scenario.cluster.nodes.size();
    if (node < servers) return fmt::format("n{}", node);
    if (node - servers < scenario.cluster.clients.size()) return scenario.cluster.clients[node - servers].name;
    return fmt::format("node{}", node);
}

ScenarioResult parse_scenario(std::string_view json_text) {
    ScenarioResult result;
    const json root = json::parse(json_text, nullptr, false);
    if (root.is_discarded()) {
        result.error = "scenario: not valid JSON";
        return result;
    }
    std::string& error = result.error;
    Scenario scenario;
    Reader reader(root, "", error);
    reader.only({"name", "description", "nodes", "network", "clients", "faults", "duration", "settle",
                 "checkers", "canaries", "log", "streams"});
    reader.string("name", scenario.name, true);
    reader.string("description", scenario.description);
    reader.array("nodes", [&](const json& item, const std::string& at) { read_nodes(item, at, scenario, error); }, true);
    if (reader.ok() && scenario.cluster.nodes.empty()) reader.fail("nodes", "needs at least one node");
    if (const json* network = reader.find("network")) {
        Reader net(*network, "network", error);
        net.only({"latency_min", "latency_jitter", "connect_timeout"});
        auto& link = scenario.cluster.world.network.link;
        net.duration("latency_min", link.latency_min, true);
        net.duration("latency_jitter", link.latency_jitter, true);
        net.duration("connect_timeout", scenario.cluster.world.network.connect_timeout);
    }
    reader.array("streams", [&](const json& item, const std::string& at) {
        Reader stream(item, at, error);
        stream.only({"name", "subjects", "storage", "duplicate_window"});
        sim::StreamSpec spec;
        stream.string("name", spec.name, true);
        stream.array("subjects", [&](const json& subject, const std::string& where) {
            if (!subject.is_string() || subject.get<std::string>().empty()) return fail_at(error, where, "expected a subject");
            spec.subjects.push_back(subject.get<std::string>());
        }, true);
        std::string storage = "file";
        stream.string("storage", storage);
        if (storage != "file" && storage != "memory") stream.fail("storage", "expected \"file\" or \"memory\"");
        spec.file = storage == "file";
        stream.duration("duplicate_window", spec.duplicate_window);
        if (stream.ok()) scenario.cluster.streams.push_back(std::move(spec));
    });
    reader.array("clients", [&](const json& item, const std::string& at) { read_client(item, at, scenario, error); }, true);
    if (reader.ok() && scenario.cluster.clients.empty()) reader.fail("clients", "needs at least one client");
    if (const json* faults = reader.find("faults")) read_faults(*faults, scenario, error);
    reader.duration("duration", scenario.duration);
    reader.duration("settle", scenario.settle);
    if (const json* checkers = reader.find("checkers")) read_checkers(*checkers, scenario, error);
    if (const json* canaries = reader.find("canaries")) {
        Reader canary(*canaries, "canaries", error);
        canary.only({"drop_after_reconnect", "duplicate_delivery", "wrong_requester", "keep_stale", "ack_before_fsync",
                     "stop_at_damage", "ack_failed_writes", "skip_consumer_state", "forget_dedup"});
        canary.boolean("ack_before_fsync", scenario.canaries.ack_before_fsync);
        canary.boolean("stop_at_damage", scenario.canaries.stop_at_damage);
        canary.boolean("ack_failed_writes", scenario.canaries.ack_failed_writes);
        canary.boolean("skip_consumer_state", scenario.canaries.skip_consumer_state);
        canary.boolean("forget_dedup", scenario.canaries.forget_dedup);
        canary.boolean("drop_after_reconnect", scenario.canaries.drop_after_reconnect);
        canary.boolean("duplicate_delivery", scenario.canaries.duplicate_delivery);
        canary.boolean("wrong_requester", scenario.canaries.wrong_requester);
        canary.boolean("keep_stale", scenario.canaries.keep_stale);
    }
    std::string log = "info";
    reader.string("log", log);
    if (reader.ok()) {
        if (log == "info") {
            scenario.cluster.server_log_level = base::LogLevel::info;
        } else if (log == "debug") {
            scenario.cluster.server_log_level = base::LogLevel::debug;
        } else if (log == "trace") {
            scenario.cluster.server_log_level = base::LogLevel::trace;
        } else {
            reader.fail("log", "expected \"info\", \"debug\" or \"trace\"");
        }
    }
    for (const ScriptedFault& fault : scenario.schedule) {
        if (reader.ok() && fault.at >= scenario.duration) {
            reader.fail("faults.schedule", fmt::format("a fault at {} is not within duration {}", format_duration(fault.at), format_duration(scenario.duration)));
        }
    }
    if (!error.empty()) return result;
    if (scenario.checkers.empty()) {
        for (std::size_t i = 0; i < checker_type_count; ++i) scenario.checkers.push_back(static_cast<CheckerType>(i));
    }
    for (auto& node : scenario.cluster.nodes) {
        node.options.canaries.drop_after_reconnect = scenario.canaries.drop_after_reconnect;
        node.options.canaries.duplicate_delivery = scenario.canaries.duplicate_delivery;
        node.options.canaries.wrong_requester = scenario.canaries.wrong_requester;
        node.options.canaries.keep_stale = scenario.canaries.keep_stale;
        node.options.canaries.ack_before_fsync = scenario.canaries.ack_before_fsync;
        node.options.canaries.stop_at_damage = scenario.canaries.stop_at_damage;
        node.options.canaries.ack_failed_writes = scenario.canaries.ack_failed_writes;
        node.options.canaries.skip_consumer_state = scenario.canaries.skip_consumer_state;
        node.options.canaries.forget_dedup = scenario.canaries.forget_dedup;
    }
    result.scenario = std::move(scenario);
    return result;
}

namespace {

json subscribe_json(const std::vector<sim::SubscribeSpec>& subs) {
    json out = json::array();
    for (const auto& sub : subs) {
        json item = {{"subject", sub.subject}};
        if (!sub.queue.empty()) item["queue"] = sub.queue;
        out.push_back(item);
    }
    return out;
}

json targets_json(const std::vector<std::string>& targets) {
    json out = json::array();
    for (const auto& target : targets) out.push_back(target);
    return out;
}

}  // namespace

std::string scenario_to_json(const Scenario& scenario) {
    json root;
    root["name"] = scenario.name;
    if (!scenario.description.empty()) root["description"] = scenario.description;
    json nodes = json::array();
    for (const auto& node : scenario.cluster.nodes) {
        nodes.push_back({{"ping_interval", format_duration(node.options.ping_interval)},
                         {"ping_max", node.options.ping_max},
                         {"max_pending", node.options.max_pending},
                         {"max_payload", node.options.max_payload},
                         {"write_deadline", format_duration(node.options.write_deadline)}});
        if (node.options.jetstream) nodes.back()["jetstream"] = true;
        nodes.back()["sync_latency"] = format_duration(node.sync_latency);
        nodes.back()["sync_jitter"] = format_duration(node.sync_latency_jitter);
    }
    root["nodes"] = nodes;
    const auto& network = scenario.cluster.world.network;
    root["network"] = {{"latency_min", format_duration(network.link.latency_min)},
                       {"latency_jitter", format_duration(network.link.latency_jitter)},
                       {"connect_timeout", format_duration(network.connect_timeout)}};
    json clients = json::array();
    for (const auto& client : scenario.cluster.clients) {
        json item = {{"name", client.name}, {"servers", client.servers}};
        if (!client.publish.empty()) {
            json publish = json::array();
            for (const auto& p : client.publish) publish.push_back({{"subject", p.subject}, {"rate", p.rate_per_second}, {"size", p.size_bytes}});
            item["publish"] = publish;
        }
        if (!client.subscribe.empty()) item["subscribe"] = subscribe_json(client.subscribe);
        if (!client.respond.empty()) item["respond"] = subscribe_json(client.respond);
        if (!client.request.empty()) {
            json request = json::array();
            for (const auto& r : client.request) request.push_back({{"subject", r.subject}, {"rate", r.rate_per_second}, {"timeout", format_duration(r.timeout)}});
            item["request"] = request;
        }
        if (!client.js_publish.empty()) {
            json publish = json::array();
            for (const auto& p : client.js_publish) {
                publish.push_back({{"subject", p.subject}, {"rate", p.rate_per_second}, {"size", p.size_bytes},
                                   {"timeout", format_duration(p.timeout)}, {"attempts", p.attempts_max}});
            }
            item["js_publish"] = publish;
        }
        if (!client.js_consume.empty()) {
            json consume = json::array();
            for (const auto& k : client.js_consume) {
                consume.push_back({{"stream", k.stream}, {"durable", k.durable}, {"expires", format_duration(k.expires)},
                                   {"ack_wait", format_duration(k.ack_wait)}, {"timeout", format_duration(k.timeout)}});
            }
            item["js_consume"] = consume;
        }
        item["flush_interval"] = format_duration(client.flush_interval);
        item["ping_interval"] = format_duration(client.ping_interval);
        item["max_pings_out"] = client.max_pings_out;
        item["connect_timeout"] = format_duration(client.connect_timeout);
        item["reconnect_wait"] = format_duration(client.reconnect_wait);
        item["reconnect_wait_max"] = format_duration(client.reconnect_wait_max);
        clients.push_back(item);
    }
    root["clients"] = clients;
    if (!scenario.cluster.streams.empty()) {
        json streams = json::array();
        for (const auto& s : scenario.cluster.streams) {
            streams.push_back({{"name", s.name}, {"subjects", s.subjects}, {"storage", s.file ? "file" : "memory"},
                               {"duplicate_window", format_duration(s.duplicate_window)}});
        }
        root["streams"] = streams;
    }
    json schedule = json::array();
    for (const auto& fault : scenario.schedule) {
        schedule.push_back({{"at", format_duration(fault.at)}, {"type", fault_type_name(fault.type)},
                            {"targets", targets_json(fault.targets)}, {"duration", format_duration(fault.duration)}});
    }
    json random = json::array();
    for (const auto& fault : scenario.random) {
        random.push_back({{"type", fault_type_name(fault.type)}, {"rate_per_minute", fault.rate_per_minute},
                          {"duration_min", format_duration(fault.duration_min)},
                          {"duration_max", format_duration(fault.duration_max)}, {"targets", targets_json(fault.targets)}});
    }
    root["faults"] = {{"schedule", schedule}, {"random", random}, {"swarm_off_probability", scenario.swarm_off_probability}};
    root["duration"] = format_duration(scenario.duration);
    root["settle"] = format_duration(scenario.settle);
    json checkers = json::array();
    for (const CheckerType checker : scenario.checkers) checkers.push_back(checker_type_name(checker));
    root["checkers"] = checkers;
    const CanarySpec& c = scenario.canaries;
    if (c.any()) {
        root["canaries"] = {{"drop_after_reconnect", c.drop_after_reconnect}, {"duplicate_delivery", c.duplicate_delivery},
                            {"wrong_requester", c.wrong_requester}, {"keep_stale", c.keep_stale},
                            {"ack_before_fsync", c.ack_before_fsync}, {"stop_at_damage", c.stop_at_damage},
                            {"ack_failed_writes", c.ack_failed_writes}, {"skip_consumer_state", c.skip_consumer_state},
                            {"forget_dedup", c.forget_dedup}};
    }
    switch (scenario.cluster.server_log_level) {
        case base::LogLevel::debug: root["log"] = "debug"; break;
        case base::LogLevel::trace: root["log"] = "trace"; break;
        default: break;
    }
    return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace herald::chaos
