// Options from a parsed config tree. Each handler names the nats-server opts.go function it
// follows; where Herald differs (it refuses what it cannot honour) the comment says so.
#include "engine/config/loader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "engine/config/duration.h"
#include "engine/config/errc.h"
#include "engine/config/parser.h"
#include "engine/protocol/subject.h"

namespace herald::config {
namespace {

constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t port_max = 65535;

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return result;
}

template <std::size_t N>
bool one_of(const std::string& key, const std::string_view (&names)[N]) {
    return std::find(std::begin(names), std::end(names), key) != std::end(names);
}

// Options nats-server 2.9 knows that Herald does not implement. Accepting them silently would
// change security or behaviour, so they are errors.
constexpr std::string_view unsupported_keys[] = {
    "tls", "allow_non_tls", "https", "https_port", "cluster", "gateway", "leafnodes", "leaf",
    "websocket", "ws", "mqtt", "operator", "operators", "resolver", "resolver_preload",
    "resolver_tls", "resolver_pinned_accounts", "trusted_keys", "trusted", "mappings", "maps",
    "default_js_domain", "max_sub_tokens", "ocsp", "ocsp_cache", "nkey", "accounts_resolver",
};

// Logging and reporting knobs that do not change what clients see: accepted with a warning.
constexpr std::string_view ignored_keys[] = {
    "syslog", "remote_syslog", "logfile_size_limit", "log_size_limit", "max_traced_msg_len",
    "connect_error_reports", "reconnect_error_reports", "disable_sublist_cache", "prof_port",
    "max_closed_clients", "http_base_path",
};

// The shape of a bcrypt hash ($2a$/$2b$/$2y$, cost 04-31, 53 characters of bcrypt base64);
// auth/bcrypt.cc does the hashing.
bool is_well_formed_bcrypt_hash(std::string_view hash) {
    static constexpr std::string_view alphabet =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (hash.size() != 60 || hash.substr(0, 2) != "$2" || hash[3] != '$' || hash[6] != '$') return false;
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
    if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
    const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31) return false;
    return hash.substr(7).find_first_not_of(alphabet) == std::string_view::npos;
}

class Loader {
public:
    Loader(Options& options, std::string& error_message)
        : options_(options), error_message_(error_message) {}

    Errc error_code() const { return code_; }

    // processConfigFileLine for every top-level key, in file order.
    bool apply_root(const Value& root) {
        ASSERT(root.is_map());
        for (const MapEntry& entry : root.entries) {
            if (!apply_entry(entry)) return false;
        }
        if (const MapEntry* no_auth = find_key(root, "no_auth_user")) {
            if (!check_no_auth_user(*no_auth)) return false;
        }
        return true;
    }

private:
    // ---- Errors and warnings. -------------------------------------------------------------

    bool fail(const std::string& file, int line, const std::string& problem,
              Errc code = Errc::invalid_value) {
        error_message_ = file + ":" + std::to_string(line) + ": " + problem;
        code_ = code;
        return false;
    }
    bool fail(const Value& at, const std::string& problem, Errc code = Errc::invalid_value) {
        return fail(at.file, at.line, problem, code);
    }
    bool fail(const MapEntry& entry, const std::string& problem, Errc code = Errc::invalid_value) {
        return fail(entry.value.file, entry.key_line, problem, code);
    }
    void warn(const MapEntry& entry, const std::string& problem) {
        options_.config_warnings.push_back(entry.value.file + ":" +
                                           std::to_string(entry.key_line) + ": " + problem);
    }
    // An unknown key inside a block (`context` names it), unless it was a variable definition.
    bool unknown(const MapEntry& entry, const std::string& context) {
        if (entry.used_as_variable) return true;
        return fail(entry, "unknown field \"" + entry.key + "\"" + context, Errc::unknown_field);
    }
    static const MapEntry* find_key(const Value& map, std::string_view key) {
        for (const MapEntry& entry : map.entries) {
            if (lower(entry.key) == key) return &entry;
        }
        return nullptr;
    }

    // ---- Typed readers: each fails with `expected a <type> for "<key>"`. --------------------

    bool read_integer(const MapEntry& entry, std::int64_t& target) {
        if (!entry.value.is_integer()) return fail(entry, "expected a number for \"" + entry.key + "\"");
        target = entry.value.integer;
        return true;
    }
    bool read_integer(const MapEntry& entry, std::int64_t& target, std::int64_t min,
                      std::int64_t max) {
        std::int64_t number = 0;
        if (!read_integer(entry, number)) return false;
        if (number < min || number > max) {
            return fail(entry, "\"" + entry.key + "\" must be between " + std::to_string(min) +
                                   " and " + std::to_string(max) + ", got " + std::to_string(number));
        }
        target = number;
        return true;
    }
    bool read_port(const MapEntry& entry, int& target) {
        std::int64_t number = 0;
        if (!read_integer(entry, number, -1, port_max)) return false;
        target = static_cast<int>(number);
        return true;
    }
    bool read_string(const MapEntry& entry, std::string& target) {
        if (!entry.value.is_string()) return fail(entry, "expected a string for \"" + entry.key + "\"");
        target = entry.value.text;
        return true;
    }
    // A password or token: plain text, or a bcrypt hash that must be well-formed.
    bool read_secret(const MapEntry& entry, std::string& target) {
        if (!read_string(entry, target)) return false;
        if (is_bcrypt_hash(target) && !is_well_formed_bcrypt_hash(target)) {
            return fail(entry, "\"" + entry.key + "\" looks like a bcrypt hash but is not a valid one");
        }
        return true;
    }
    bool read_bool(const MapEntry& entry, bool& target) {
        if (entry.value.kind != ValueKind::boolean) {
            return fail(entry, "expected a boolean for \"" + entry.key + "\"");
        }
        target = entry.value.boolean;
        return true;
    }
    // parseDuration: a Go duration string, or (deprecated, with a warning) an integer of seconds.
    bool read_duration_ns(const MapEntry& entry, std::int64_t& target_ns) {
        if (entry.value.is_string()) {
            std::optional<std::int64_t> ns = parse_go_duration(entry.value.text);
            if (!ns) {
                return fail(entry, "invalid duration \"" + entry.value.text + "\" for \"" +
                                       entry.key + "\" (use a string such as \"2m\" or \"500ms\")");
            }
            target_ns = *ns;
            return true;
        }
        if (entry.value.is_integer()) {
            constexpr std::int64_t seconds_max = std::numeric_limits<std::int64_t>::max() / 1000000000;
            if (entry.value.integer > seconds_max || entry.value.integer < -seconds_max) {
                return fail(entry, "duration for \"" + entry.key + "\" is out of range");
            }
            warn(entry, "\"" + entry.key + "\" is an integer, taken as " +
                            std::to_string(entry.value.integer) +
                            " seconds; use a duration string such as \"" +
                            std::to_string(entry.value.integer) + "s\"");
            target_ns = entry.value.integer * 1000000000;
            return true;
        }
        return fail(entry, "expected a duration for \"" + entry.key + "\"");
    }
    bool read_busy_poll(const MapEntry& entry) {
        if (entry.value.kind == ValueKind::boolean && !entry.value.boolean) {  // busy_poll: false
            options_.busy_poll = Duration{};
            return true;
        }
        if (!read_duration(entry, options_.busy_poll)) return false;
        if (options_.busy_poll > Duration::milliseconds(1)) {
            return fail(entry, "\"busy_poll\" must be at most 1ms (it is spent spinning)");
        }
        return true;
    }
    bool read_duration(const MapEntry& entry, Duration& target) {
        std::int64_t ns = 0;
        if (!read_duration_ns(entry, ns)) return false;
        if (ns < 0) return fail(entry, "\"" + entry.key + "\" must not be negative");
        target = Duration{static_cast<std::uint64_t>(ns)};
        return true;
    }
    // A string, or an array of strings.
    bool read_strings(const MapEntry& entry, std::vector<std::string>& target) {
        target.clear();
        if (entry.value.is_string()) {
            target.push_back(entry.value.text);
            return true;
        }
        if (!entry.value.is_array()) {
            return fail(entry, "expected a string or an array of strings for \"" + entry.key + "\"");
        }
        for (const Value& item : entry.value.items) {
            if (!item.is_string()) return fail(item, "expected strings in \"" + entry.key + "\"");
            target.push_back(item.text);
        }
        return true;
    }
    bool read_address(const MapEntry& entry, std::string& host, int& port) {
        if (entry.value.is_integer()) {  // parseListen: a bare number is a port.
            return read_port(entry, port);
        }
        if (!entry.value.is_string()) return fail(entry, "expected host:port for \"" + entry.key + "\"");
        std::string parsed_host;
        int parsed_port = 0;
        if (!split_host_port(entry.value.text, parsed_host, parsed_port) || parsed_port < -1 ||
            parsed_port > port_max) {
            return fail(entry, "could not parse address string \"" + entry.value.text + "\" for \"" +
                                   entry.key + "\"");
        }
        host = parsed_host.empty() ? "0.0.0.0" : parsed_host;
        port = parsed_port;
        return true;
    }

    // ---- Top level. ---------------------------------------------------------------------------

    bool apply_entry(const MapEntry& entry) {
        const std::string key = lower(entry.key);
        if (key == "listen") return read_address(entry, options_.host, options_.port);
        if (key == "port") return read_port(entry, options_.port);
        if (key == "host" || key == "net") return read_string(entry, options_.host);
        if (key == "client_advertise") return read_string(entry, options_.client_advertise);
        if (key == "server_name") return apply_server_name(entry);
        if (key == "server_tags") return read_strings(entry, options_.server_tags);
        if (key == "http") return read_address(entry, options_.http_host, options_.http_port);
        if (key == "http_port" || key == "monitor_port") return read_port(entry, options_.http_port);
        if (key == "max_payload") return read_integer(entry, options_.max_payload, 1, int32_max);
        if (key == "max_pending") return read_integer(entry, options_.max_pending, 1, std::numeric_limits<std::int64_t>::max());
        if (key == "max_control_line") return read_integer(entry, options_.max_control_line, 1, int32_max);
        if (key == "max_connections" || key == "max_conn") return read_integer(entry, options_.max_connections, 0, std::numeric_limits<std::int64_t>::max());
        if (key == "max_subscriptions" || key == "max_subs") return read_integer(entry, options_.max_subscriptions, 0, std::numeric_limits<std::int64_t>::max());
        if (key == "ping_interval") return read_duration(entry, options_.ping_interval);
        if (key == "ping_max") return read_integer(entry, options_.ping_max);
        if (key == "write_deadline") return read_duration(entry, options_.write_deadline);
        if (key == "busy_poll") return read_busy_poll(entry);
        if (key == "lame_duck_duration") return apply_lame_duck_duration(entry);
        if (key == "lame_duck_grace_period") return read_duration(entry, options_.lame_duck_grace_period);
        if (key == "no_header_support") return read_bool(entry, options_.no_header_support);
        if (key == "debug") return read_bool(entry, options_.debug);
        if (key == "trace") return read_bool(entry, options_.trace);
        if (key == "trace_verbose") return read_bool(entry, options_.trace_verbose);
        if (key == "logtime") return read_bool(entry, options_.logtime);
        if (key == "logfile" || key == "log_file") return read_string(entry, options_.log_file);
        if (key == "pidfile" || key == "pid_file") return read_string(entry, options_.pid_file);
        if (key == "ports_file_dir") return read_string(entry, options_.ports_file_dir);
        if (key == "authorization") return apply_authorization(entry);
        if (key == "accounts") return apply_accounts(entry);
        if (key == "no_auth_user") return read_string(entry, options_.no_auth_user);
        if (key == "system_account" || key == "system") return read_string(entry, options_.system_account);
        if (key == "no_system_account") return read_bool(entry, options_.no_system_account);
        if (key == "jetstream") return apply_jetstream(entry);
        if (key == "store_dir") return read_string(entry, options_.store_dir);
        if (one_of(key, unsupported_keys)) {
            return fail(entry, "\"" + entry.key + "\" is not supported by herald yet",
                        Errc::unsupported);
        }
        if (one_of(key, ignored_keys)) {
            warn(entry, "\"" + entry.key + "\" is not supported by herald yet and is ignored");
            return true;
        }
        return unknown(entry, "");
    }

    bool apply_server_name(const MapEntry& entry) {
        if (!read_string(entry, options_.server_name)) return false;
        if (options_.server_name.find_first_of(" \t") != std::string::npos) {
            return fail(entry, "server_name cannot contain spaces");
        }
        return true;
    }

    // nats-server: the minimum lame duck duration is 30 seconds.
    bool apply_lame_duck_duration(const MapEntry& entry) {
        Duration duration;
        if (!read_duration(entry, duration)) return false;
        if (duration < Duration::seconds(30)) {
            return fail(entry, "invalid lame_duck_duration, minimum is 30 seconds");
        }
        options_.lame_duck_duration = duration;
        return true;
    }

    // ---- authorization {} (parseAuthorization and the checks after it). --------------------

    bool apply_authorization(const MapEntry& block) {
        if (!block.value.is_map()) return fail(block, "expected a map for \"authorization\"");
        std::optional<Permissions> defaults;
        std::vector<User> users;
        bool have_users = false;
        for (const MapEntry& entry : block.value.entries) {
            const std::string key = lower(entry.key);
            bool ok = true;
            if (key == "user" || key == "username") {
                ok = read_string(entry, options_.username);
            } else if (key == "pass" || key == "password") {
                ok = read_secret(entry, options_.password);
            } else if (key == "token") {
                ok = read_secret(entry, options_.token);
            } else if (key == "timeout") {
                ok = apply_auth_timeout(entry);
            } else if (key == "users") {
                have_users = true;
                ok = read_users(entry, "", users);
            } else if (key == "default_permission" || key == "default_permissions") {
                defaults.emplace();
                ok = read_permissions(entry, *defaults);
            } else if (key == "nkeys" || key == "nkey" || key == "auth_callout") {
                ok = fail(entry, "\"" + entry.key + "\" is not supported by herald yet", Errc::unsupported);
            } else {
                ok = unknown(entry, " in authorization");
            }
            if (!ok) return false;
        }
        const bool single_user = !options_.username.empty() || !options_.password.empty();
        if (single_user && !options_.token.empty()) {
            return fail(block, "cannot have a user/pass and token");
        }
        if (have_users && single_user) {
            return fail(block, "can not have a single user/pass and a users array");
        }
        if (have_users && !options_.token.empty()) {
            return fail(block, "can not have a token and a users array");
        }
        for (User& user : users) {
            if (!user.permissions) user.permissions = defaults;
        }
        options_.default_permissions = defaults;
        for (User& user : users) options_.users.push_back(std::move(user));
        return true;
    }

    // nats-server takes an integer or float of seconds; any other type silently becomes one
    // second (captured). Herald does the same but warns.
    bool apply_auth_timeout(const MapEntry& entry) {
        double seconds = 1.0;
        if (entry.value.is_integer()) {
            seconds = static_cast<double>(entry.value.integer);
        } else if (entry.value.kind == ValueKind::floating) {
            seconds = entry.value.floating;
        } else {
            warn(entry, "authorization timeout must be a number of seconds; using 1 second");
        }
        if (!(seconds >= 0) || seconds > 1e9) {
            return fail(entry, "authorization timeout out of range");
        }
        options_.auth_timeout = Duration{static_cast<std::uint64_t>(std::llround(seconds * 1e9))};
        return true;
    }

    // parseUsers: an array of maps with user, password and permissions.
    bool read_users(const MapEntry& entry, const std::string& account, std::vector<User>& users) {
        if (!entry.value.is_array()) return fail(entry, "expected users field to be an array");
        for (const Value& item : entry.value.items) {
            if (!item.is_map()) return fail(item, "expected a user entry to be a map");
            User user;
            user.account = account;
            for (const MapEntry& field : item.entries) {
                const std::string key = lower(field.key);
                bool ok = true;
                if (key == "user" || key == "username") {
                    ok = read_string(field, user.username);
                } else if (key == "pass" || key == "password") {
                    ok = read_secret(field, user.password);
                } else if (key == "permission" || key == "permissions" || key == "authorization") {
                    user.permissions.emplace();
                    ok = read_permissions(field, *user.permissions);
                } else if (key == "nkey" || key == "allowed_connection_types" ||
                           key == "connection_types" || key == "clients") {
                    ok = fail(field, "\"" + field.key + "\" in a user entry is not supported by herald yet",
                              Errc::unsupported);
                } else {
                    ok = unknown(field, " in user entry");
                }
                if (!ok) return false;
            }
            if (user.username.empty()) return fail(item, "user entry requires a user");
            users.push_back(std::move(user));
        }
        return true;
    }

    // ---- Permissions (parseUserPermissions, parseVariablePermissions, parseAllowResponses). --

    bool read_permissions(const MapEntry& entry, Permissions& permissions) {
        if (!entry.value.is_map()) return fail(entry, "expected permissions to be a map");
        for (const MapEntry& field : entry.value.entries) {
            const std::string key = lower(field.key);
            bool ok = true;
            if (key == "pub" || key == "publish" || key == "import") {
                ok = read_subject_permission(field, permissions.publish, false);
            } else if (key == "sub" || key == "subscribe" || key == "export") {
                ok = read_subject_permission(field, permissions.subscribe, true);
            } else if (key == "publish_allow_responses" || key == "allow_responses") {
                ok = read_allow_responses(field, permissions.allow_responses);
            } else {
                ok = unknown(field, " in permissions");
            }
            if (!ok) return false;
        }
        // nats-server: allow_responses turns off the blanket publish allow. (nats-server applies
        // this in map order, which Go randomises; Herald applies it after all keys.)
        if (permissions.allow_responses) {
            if (!permissions.publish) permissions.publish.emplace();
            if (!permissions.publish->allow) permissions.publish->allow.emplace();
        }
        return true;
    }

    // A map with allow/deny, or a string or array that is the allow list. An empty map or an
    // empty allow array means "no restriction" (nats-server leaves the list nil).
    bool read_subject_permission(const MapEntry& entry, std::optional<SubjectPermission>& target,
                                 bool queues_allowed) {
        SubjectPermission permission;
        if (!entry.value.is_map()) {
            std::vector<std::string> allow;
            if (!read_subjects(entry, allow, queues_allowed)) return false;
            if (!allow.empty()) permission.allow = std::move(allow);
            target = std::move(permission);
            return true;
        }
        if (entry.value.entries.empty()) {
            target.reset();
            return true;
        }
        for (const MapEntry& field : entry.value.entries) {
            const std::string key = lower(field.key);
            if (key == "allow") {
                std::vector<std::string> allow;
                if (!read_subjects(field, allow, queues_allowed)) return false;
                if (allow.empty()) {
                    permission.allow.reset();
                } else {
                    permission.allow = std::move(allow);
                }
            } else if (key == "deny") {
                if (!read_subjects(field, permission.deny, queues_allowed)) return false;
            } else if (!field.used_as_variable) {
                return fail(field, "unknown field \"" + field.key +
                                       "\" in subject permissions, only 'allow' or 'deny' are permitted",
                            Errc::unknown_field);
            }
        }
        target = std::move(permission);
        return true;
    }

    // parseSubjects + checkSubjectArray. Subscribe entries may be "subject queue".
    bool read_subjects(const MapEntry& entry, std::vector<std::string>& subjects, bool queues_allowed) {
        if (!read_strings(entry, subjects)) return false;
        for (const std::string& subject : subjects) {
            const std::size_t space = subject.find_first_of(" \t");
            bool valid = false;
            if (space == std::string::npos) {
                valid = protocol::is_valid_subject(subject);
            } else if (queues_allowed) {
                const std::size_t queue_start = subject.find_first_not_of(" \t", space);
                const std::string_view queue =
                    queue_start == std::string::npos ? std::string_view() : std::string_view(subject).substr(queue_start);
                valid = protocol::is_valid_subject(std::string_view(subject).substr(0, space)) &&
                        protocol::is_valid_queue_name(queue);
            }
            if (!valid) return fail(entry, "subject \"" + subject + "\" is not a valid subject");
        }
        return true;
    }

    bool read_allow_responses(const MapEntry& entry, std::optional<ResponsePermission>& target) {
        if (entry.value.kind == ValueKind::boolean) {
            if (entry.value.boolean) {
                target = ResponsePermission{};
            } else {
                target.reset();
            }
            return true;
        }
        if (!entry.value.is_map()) {
            return fail(entry, "error parsing response permissions, expected a boolean or a map");
        }
        ResponsePermission permission;
        for (const MapEntry& field : entry.value.entries) {
            const std::string key = lower(field.key);
            if (key == "max" || key == "max_msgs" || key == "max_messages" || key == "max_responses") {
                std::int64_t max = 0;
                if (!read_integer(field, max)) return false;
                if (max != 0) permission.max_msgs = max;  // 0 = default; negative = unlimited
            } else if (key == "expires" || key == "expiration" || key == "ttl") {
                if (!field.value.is_string()) {
                    return fail(field, "error parsing expires, not a duration string");
                }
                std::optional<std::int64_t> ns = parse_go_duration(field.value.text);
                if (!ns) return fail(field, "error parsing expires: invalid duration \"" + field.value.text + "\"");
                if (*ns < 0) permission.expires = Duration{0};  // negative = never expires
                if (*ns > 0) permission.expires = Duration{static_cast<std::uint64_t>(*ns)};
            } else if (!unknown(field, " in allow_responses")) {
                return false;
            }
        }
        target = permission;
        return true;
    }

    // ---- accounts {} (parseAccounts, config mode only). ---------------------------------------

    bool apply_accounts(const MapEntry& block) {
        if (block.value.is_array()) {  // accounts: [A, B]
            for (const Value& item : block.value.items) {
                if (!item.is_string()) return fail(item, "expected an account name");
                if (!add_account(block, AccountConfig{item.text, {}, std::nullopt, false})) return false;
            }
            return true;
        }
        if (!block.value.is_map()) return fail(block, "expected a map for \"accounts\"");
        for (const MapEntry& entry : block.value.entries) {
            if (!entry.value.is_map()) {
                return fail(entry, "expected account \"" + entry.key + "\" to be a map");
            }
            AccountConfig account;
            account.name = entry.key;
            if (!read_account(entry, account)) return false;
            if (!add_account(entry, std::move(account))) return false;
        }
        return true;
    }

    bool read_account(const MapEntry& block, AccountConfig& account) {
        const std::string context = " in account \"" + account.name + "\"";
        for (const MapEntry& field : block.value.entries) {
            const std::string key = lower(field.key);
            bool ok = true;
            if (key == "users") {
                ok = read_users(field, account.name, account.users);
            } else if (key == "default_permissions" || key == "default_permission") {
                account.default_permissions.emplace();
                ok = read_permissions(field, *account.default_permissions);
            } else if (key == "jetstream") {
                ok = read_account_jetstream(field, account.jetstream);
            } else if (key == "nkey" || key == "imports" || key == "exports" || key == "mappings" ||
                       key == "maps" || key == "limits") {
                ok = fail(field, "\"" + field.key + "\"" + context + " is not supported by herald yet",
                          Errc::unsupported);
            } else {
                ok = unknown(field, context);
            }
            if (!ok) return false;
        }
        for (User& user : account.users) {
            if (!user.permissions) user.permissions = account.default_permissions;
        }
        return true;
    }

    bool read_account_jetstream(const MapEntry& entry, bool& enabled) {
        if (entry.value.kind == ValueKind::boolean) {
            enabled = entry.value.boolean;
            return true;
        }
        if (entry.value.is_string()) {
            const std::string word = lower(entry.value.text);
            if (word == "enabled" || word == "enable") {
                enabled = true;
                return true;
            }
            if (word == "disabled" || word == "disable") {
                enabled = false;
                return true;
            }
        }
        if (entry.value.is_map()) {  // limits map: enabled; the limits themselves come later
            enabled = true;
            warn(entry, "account jetstream limits are not supported by herald yet and are ignored");
            return true;
        }
        return fail(entry, "expected 'enabled', 'disabled' or a map for account \"jetstream\"");
    }

    bool add_account(const MapEntry& at, AccountConfig account) {
        for (const AccountConfig& existing : options_.accounts) {
            if (existing.name == account.name) {
                return fail(at, "duplicate account \"" + account.name + "\"");
            }
        }
        options_.accounts.push_back(std::move(account));
        return true;
    }

    bool check_no_auth_user(const MapEntry& entry) {
        const std::string& name = options_.no_auth_user;
        if (name.empty()) return true;
        auto named = [&](const User& user) { return user.username == name; };
        bool found = std::any_of(options_.users.begin(), options_.users.end(), named);
        for (const AccountConfig& account : options_.accounts) {
            found = found || std::any_of(account.users.begin(), account.users.end(), named);
        }
        if (found) return true;
        return fail(entry, "no_auth_user: \"" + name +
                               "\" not present as user or nkey in authorization block or account configuration");
    }

    // ---- jetstream (parseJetStream). --------------------------------------------------------

    bool apply_jetstream(const MapEntry& entry) {
        if (entry.value.kind == ValueKind::boolean) {
            options_.jetstream = entry.value.boolean;
            return true;
        }
        if (entry.value.is_string()) {
            const std::string word = lower(entry.value.text);
            if (word == "enabled" || word == "enable") {
                options_.jetstream = true;
                return true;
            }
            if (word == "disabled" || word == "disable") {
                options_.jetstream = false;
                return true;
            }
            return fail(entry, "expected 'enabled' or 'disabled' for string value, got '" +
                                   entry.value.text + "'");
        }
        if (!entry.value.is_map()) return fail(entry, "expected a map, a boolean or a string for \"jetstream\"");
        bool enabled = true;  // a map enables JetStream unless it says otherwise
        for (const MapEntry& field : entry.value.entries) {
            const std::string key = lower(field.key);
            bool ok = true;
            if (key == "enabled" || key == "enable") {
                ok = read_bool(field, enabled);
            } else if (key == "store_dir" || key == "store" || key == "storedir") {
                ok = read_string(field, options_.store_dir);
            } else if (key == "max_memory_store" || key == "max_mem_store" || key == "max_mem") {
                ok = read_integer(field, options_.jetstream_max_memory);
            } else if (key == "max_file_store" || key == "max_file") {
                ok = read_integer(field, options_.jetstream_max_store);
            } else if (key == "domain") {
                ok = read_string(field, options_.jetstream_domain);
            } else if (key == "sync_interval" || key == "sync") {
                // nats-server 2.10 parseJetStream: "always" or a duration.
                if (field.value.is_string() && lower(field.value.text) == "always") {
                    options_.jetstream_sync_interval = Duration{};
                } else {
                    ok = read_duration(field, options_.jetstream_sync_interval);
                }
            } else if (key == "key" || key == "ek" || key == "encryption_key" || key == "cipher" ||
                       key == "unique_tag" || key == "max_outstanding_catchup" || key == "limits" ||
                       key == "extension_hint") {
                ok = fail(field, "jetstream option \"" + field.key + "\" is not supported by herald yet",
                          Errc::unsupported);
            } else {
                ok = unknown(field, " in jetstream");
            }
            if (!ok) return false;
        }
        options_.jetstream = enabled;
        return true;
    }

    Options& options_;
    std::string& error_message_;
    Errc code_ = Errc::invalid_value;
};

}  // namespace

bool split_host_port(std::string_view address, std::string& host, int& port) {
    std::string_view port_text;
    if (!address.empty() && address[0] == '[') {
        const std::size_t close = address.find(']');
        if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':') {
            return false;
        }
        host.assign(address.substr(1, close - 1));
        port_text = address.substr(close + 2);
    } else {
        const std::size_t colon = address.rfind(':');
        if (colon == std::string_view::npos) return false;
        host.assign(address.substr(0, colon));
        if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
        port_text = address.substr(colon + 1);
    }
    int number = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), number);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port_text.empty()) {
        return false;
    }
    port = number;
    return true;
}

bool is_bcrypt_hash(std::string_view password) {
    return password.size() > 4 && password[0] == '$' && password[1] == '2' && password[3] == '$' &&
           (password[2] == 'a' || password[2] == 'b' || password[2] == 'x' || password[2] == 'y');
}

Status validate_options(const Options& options, std::string& error_message) {
    if (options.port < -1 || options.port > port_max) {
        error_message = "port " + std::to_string(options.port) + " is out of range";
        return Errc::invalid_value;
    }
    if (options.http_port < -1 || options.http_port > port_max) {
        error_message = "http_port " + std::to_string(options.http_port) + " is out of range";
        return Errc::invalid_value;
    }
    if (options.max_payload > options.max_pending) {
        error_message = "max_payload (" + std::to_string(options.max_payload) +
                        ") cannot be higher than max_pending (" + std::to_string(options.max_pending) + ")";
        return Errc::invalid_value;
    }
    std::set<std::string> names;
    auto check_user = [&](const User& user) {
        if (!names.insert(user.username).second) {
            error_message = "duplicate user \"" + user.username + "\" detected";
            return false;
        }
        return true;
    };
    for (const User& user : options.users) {
        if (!check_user(user)) return Errc::invalid_value;
    }
    for (const AccountConfig& account : options.accounts) {
        for (const User& user : account.users) {
            if (!check_user(user)) return Errc::invalid_value;
        }
    }
    return ok();
}

Status apply_config(const Value& root, Options& options, std::string& error_message) {
    Loader loader(options, error_message);
    if (!loader.apply_root(root)) return loader.error_code();
    return validate_options(options, error_message);
}

Result<Options> load_config_text(std::string_view text, const std::string& file_name, Options base,
                                 std::string& error_message, const Environment& environment) {
    Result<Value> root = parse_config_text(text, file_name, environment, error_message);
    if (!root) return root.error();
    base.config_file = file_name;
    Status applied = apply_config(*root, base, error_message);
    if (!applied) return applied.error();
    return base;
}

Result<Options> load_config_file(const std::string& path, Options base, std::string& error_message,
                                 const Environment& environment) {
    Result<Value> root = parse_config_file(path, environment, error_message);
    if (!root) return root.error();
    base.config_file = path;
    Status applied = apply_config(*root, base, error_message);
    if (!applied) return applied.error();
    return base;
}

}  // namespace herald::config
