// Options: everything a node is configured with, filled from defaults, a nats-server style config
// file and command-line flags (command line wins). Plain data; the parsers live beside it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/limits.h"
#include "engine/base/time.h"

namespace herald::config {

// One direction (publish or subscribe) of a permission set. An absent allow list means "allow
// everything not denied"; deny always wins.
struct SubjectPermission {
    std::optional<std::vector<std::string>> allow;
    std::vector<std::string> deny;
};

// allow_responses: may publish to reply subjects of requests received, up to max within expires.
// max_msgs < 0 means no limit on responses; expires.ns == 0 means the permit never expires (both
// written as negative values in the config, as nats-server parseAllowResponses accepts).
struct ResponsePermission {
    std::int64_t max_msgs = 1;
    Duration expires = Duration::seconds(120);
};

struct Permissions {
    std::optional<SubjectPermission> publish;
    std::optional<SubjectPermission> subscribe;
    std::optional<ResponsePermission> allow_responses;
};

struct User {
    std::string username;
    std::string password;                     // plain text or a bcrypt hash ($2a$...)
    std::optional<Permissions> permissions;   // falls back to default_permissions
    std::string account;                      // empty = the global account ($G)
};

struct AccountConfig {
    std::string name;
    std::vector<User> users;                  // account field of each is set to `name`
    std::optional<Permissions> default_permissions;  // already applied to `users` without any
    bool jetstream = false;                   // `jetstream: enabled` (or a limits map) in the account
};

// canary: test-only. Deliberately wrong broker behaviours that the simulator switches on to prove
// its checkers can fail (chaos/, scenarios/canaries/). Never on by default; no config key or flag
// sets them, only code that builds Options by hand.
struct Canaries {
    bool drop_after_reconnect = false;  // Drop one message to a client whose name reconnected.
    bool duplicate_delivery = false;    // Now and then deliver a message twice to one subscription.
    bool wrong_requester = false;       // Now and then answer a request with another one's reply.
    bool keep_stale = false;            // Never close a client that stopped answering PINGs.
    // JetStream (scenarios/canaries/js-*.json).
    bool ack_before_fsync = false;      // File streams ack a store once written, never fsync it.
    bool stop_at_damage = false;        // Recovery drops a block's records after damage in it.
    bool ack_failed_writes = false;     // A store whose write or fsync failed is acked anyway.
    bool skip_consumer_state = false;   // Consumers never save their delivery state.
    bool forget_dedup = false;          // A recovered stream does not rebuild its dedup window.
};

struct Options {
    // Identity and listeners.
    std::string server_name;                  // empty = server id
    std::string host = "0.0.0.0";
    int port = 4222;                          // -1 = random free port
    std::string http_host = "0.0.0.0";
    int http_port = 0;                        // 0 = off, -1 = random free port
    std::string client_advertise;

    // Files.
    std::string config_file;
    std::string log_file;
    std::string pid_file;
    std::string ports_file_dir;

    // Logging.
    bool debug = false;
    bool trace = false;
    bool trace_verbose = false;               // -VV / -DVV: trace the system account as well
    bool logtime = true;

    // Limits (config/flags; nats-server defaults).
    std::int64_t max_payload = static_cast<std::int64_t>(limits::payload_size_default);
    std::int64_t max_pending = static_cast<std::int64_t>(limits::pending_size_default);
    std::int64_t max_control_line = static_cast<std::int64_t>(limits::control_line_size_default);
    std::int64_t max_connections = limits::connections_default;
    std::int64_t max_subscriptions = 0;       // per connection; 0 = unlimited
    Duration ping_interval = Duration::seconds(120);
    std::int64_t ping_max = 2;
    Duration write_deadline = Duration::seconds(10);
    bool no_header_support = false;
    Duration lame_duck_duration = Duration::seconds(120);
    Duration lame_duck_grace_period = Duration::seconds(10);
    std::vector<std::string> server_tags;
    std::string system_account = "$SYS";
    bool no_system_account = false;
    // Herald only (`busy_poll: "50us"`, `--busy_poll`): how long the event loop keeps polling
    // after its last event before it sleeps, while that keeps catching events (io::AsioEnv::
    // set_busy_poll). Saves a thread wake-up per request on the latency path at the cost of up to
    // this much CPU per idle gap. 0 = off.
    Duration busy_poll = Duration::microseconds(50);

    // Authorization (top-level `authorization {}` block and --user/--pass/--auth).
    std::string username;
    std::string password;
    std::string token;
    Duration auth_timeout = Duration::seconds(2);
    std::vector<User> users;                  // users of the global account
    std::optional<Permissions> default_permissions;
    std::vector<AccountConfig> accounts;
    std::string no_auth_user;

    // JetStream (engine arrives with the JetStream issue; the options are accepted now).
    bool jetstream = false;
    std::string store_dir;
    std::int64_t jetstream_max_memory = -1;   // -1 = default
    std::int64_t jetstream_max_store = -1;
    std::string jetstream_domain;
    // `jetstream { sync_interval: "2m" }` (nats-server 2.10): file stores ack once written to the
    // OS and fsync every interval (lazy). Zero, the default, or `sync_interval: always`: ack only
    // after fsync (DESIGN.md "Durability default").
    Duration jetstream_sync_interval{};

    // Messages the loader produced without failing: integer durations taken as seconds, options
    // accepted but ignored. The server logs them as warnings; `-t` treats them as errors (as
    // nats-server -t does with its pedantic checks).
    std::vector<std::string> config_warnings;

    Canaries canaries;  // canary: test-only, all off.
};

}  // namespace herald::config
