// ConsumerConfig: a JetStream consumer's configuration (jetstream-api.md §7.2) as nats-server
// 2.9.10 ConsumerConfig: parsed like json.Unmarshal (wrong types → 10025), defaults of
// setConsumerConfigDefaults, the checks of checkConsumerCfg in the same order, and the JSON in Go
// field order with omitempty. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/jetstream/api_errors.h"
#include "engine/jetstream/stream_config.h"

namespace herald::jetstream {

enum class DeliverPolicy : std::uint8_t {
    all,
    last,
    new_messages,
    by_start_sequence,
    by_start_time,
    last_per_subject
};
enum class AckPolicy : std::uint8_t { none, all, explicit_ack };
enum class ReplayPolicy : std::uint8_t { instant, original };

inline constexpr std::int64_t ack_wait_default_ns = 30'000'000'000;  // JsAckWaitDefault.
inline constexpr std::int64_t max_waiting_default = 512;             // JSWaitQueueDefaultMax.
inline constexpr std::int64_t max_ack_pending_default = 1000;        // JsDefaultMaxAckPending.
inline constexpr std::int64_t inactive_threshold_default_ns = 5'000'000'000;  // Ephemerals.
inline constexpr std::size_t backoff_entries_max = 1024;

struct ConsumerConfig {
    std::string durable_name;
    std::string name;
    std::string description;
    DeliverPolicy deliver_policy = DeliverPolicy::all;
    std::uint64_t opt_start_seq = 0;
    std::optional<std::int64_t> opt_start_time_ns;
    AckPolicy ack_policy = AckPolicy::none;
    std::int64_t ack_wait_ns = 0;
    std::int64_t max_deliver = 0;
    std::vector<std::int64_t> backoff_ns;
    std::string filter_subject;
    ReplayPolicy replay_policy = ReplayPolicy::instant;
    std::uint64_t rate_limit_bps = 0;
    std::string sample_freq;
    std::int64_t max_waiting = 0;
    std::int64_t max_ack_pending = 0;
    std::int64_t idle_heartbeat_ns = 0;
    bool flow_control = false;
    bool headers_only = false;
    std::int64_t max_batch = 0;
    std::int64_t max_expires_ns = 0;
    std::int64_t max_bytes = 0;
    std::string deliver_subject;
    std::string deliver_group;
    std::int64_t inactive_threshold_ns = 0;
    std::int64_t num_replicas = 0;
    bool mem_storage = false;
    bool direct = false;

    bool durable() const { return !durable_name.empty(); }
    bool push() const { return !deliver_subject.empty(); }
    friend bool operator==(const ConsumerConfig&, const ConsumerConfig&) = default;
};

std::string_view deliver_policy_name(DeliverPolicy policy);
std::string_view ack_policy_name(AckPolicy policy);
std::string_view replay_policy_name(ReplayPolicy policy);

// `json` is the request's "config" object.
std::optional<ApiFailure> consumer_config_from_json(const Json& json, ConsumerConfig& config);
void set_consumer_defaults(ConsumerConfig& config);
// checkConsumerCfg against the stream's config.
std::optional<ApiFailure> check_consumer_config(const ConsumerConfig& config,
                                                const StreamConfig& stream);
// The update rules of nats-server updateConfig for an existing consumer.
std::optional<ApiFailure> check_consumer_update(const ConsumerConfig& old_config,
                                                const ConsumerConfig& config);
Json consumer_config_json(const ConsumerConfig& config);

// Go time.Time's RFC 3339 text (with optional fraction and offset) → unix ns.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace herald::jetstream
