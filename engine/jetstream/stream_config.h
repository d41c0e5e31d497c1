// StreamConfig: the JSON a client sends to $JS.API.STREAM.CREATE/UPDATE and sees echoed in
// StreamInfo (jetstream-api.md §3), parsed, defaulted and validated as nats-server 2.9.10's
// checkStreamCfg and configUpdateCheck (server/stream.go) do, with the same errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/time.h"
#include "engine/jetstream/api_errors.h"
#include "engine/store/stream_store.h"

namespace herald::jetstream {

enum class Retention : std::uint8_t { limits, interest, workqueue };
enum class DiscardPolicy : std::uint8_t { old_messages, new_messages };
enum class Storage : std::uint8_t { file, memory };

std::string_view retention_name(Retention retention);
std::string_view discard_name(DiscardPolicy discard);
std::string_view storage_name(Storage storage);

inline constexpr std::size_t name_size_max = 255;              // nats-server JSMaxNameLen.
inline constexpr std::size_t description_size_max = 4 * 1024;  // JSMaxDescriptionLen.
inline constexpr std::int64_t replicas_max = 5;                // StreamMaxReplicas.
inline constexpr std::int64_t duplicate_window_default_ns = 120'000'000'000;  // 2 minutes.
inline constexpr std::int64_t limit_duration_min_ns = 100'000'000;            // 100ms.

struct StreamConfig {
    std::string name;
    std::string description;
    std::vector<std::string> subjects;
    Retention retention = Retention::limits;
    std::int64_t max_consumers = 0;
    std::int64_t max_msgs = 0;
    std::int64_t max_bytes = 0;
    std::int64_t max_age_ns = 0;
    std::int64_t max_msgs_per_subject = 0;
    std::int64_t max_msg_size = 0;  // int32 on the wire.
    DiscardPolicy discard = DiscardPolicy::old_messages;
    Storage storage = Storage::file;
    std::int64_t num_replicas = 0;
    bool no_ack = false;
    std::string template_owner;
    std::int64_t duplicate_window_ns = 0;
    Json placement;  // Kept as sent (null when absent): one node places nothing.
    Json mirror;     // StreamSource (stream_source.h), normalized; null when none.
    Json sources;    // Array of StreamSource, normalized; null when none (or empty).
    Json republish;  // {"src","dest","headers_only"} normalized, or null.
    bool allow_direct = false;
    bool mirror_direct = false;
    bool discard_new_per_subject = false;
    bool sealed = false;
    bool deny_delete = false;
    bool deny_purge = false;
    bool allow_rollup_hdrs = false;

    // The store's view of the limits.
    store::StoreLimits store_limits() const;
    friend bool operator==(const StreamConfig&, const StreamConfig&) = default;
};

// Parses a request body like Go's json.Unmarshal into StreamConfig: unknown fields are
// ignored; a wrong type or an unknown enum string is invalid JSON (400/10025).
// Returns the failure to send, or nullopt with `config` filled.
std::optional<ApiFailure> parse_stream_config(std::string_view text, StreamConfig& config);
std::optional<ApiFailure> stream_config_from_json(const Json& json, StreamConfig& config);

// The config as StreamInfo.config shows it (omitempty as nats-server).
Json stream_config_json(const StreamConfig& config);

// checkStreamCfg: fills defaults and validates one config on its own (not against other
// streams). Returns the failure to send, or nullopt.
std::optional<ApiFailure> check_stream_config(StreamConfig& config);

// configUpdateCheck: what an update may not change. Both configs are already checked.
std::optional<ApiFailure> check_stream_update(const StreamConfig& old_config, StreamConfig& config);

// Whether some subject matches both patterns (nats-server SubjectsCollide).
bool subjects_collide(std::string_view left, std::string_view right);

// Stream and consumer names: not empty, none of " \t\r\n\f.*>" (nats-server isValidName).
bool is_valid_name(std::string_view name);

}  // namespace herald::jetstream
