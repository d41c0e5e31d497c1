// Turns a parsed config tree into Options, following nats-server 2.9 opts.go
// (processConfigFileLine, parseAuthorization, parseUsers, parseAccounts, parseUserPermissions,
// parseJetStream). Keys are case-insensitive; an unknown top-level key is an error, as are keys
// nats-server knows but Herald does not implement yet (tls, cluster, ...), except a few harmless
// logging knobs that are accepted with a warning. Messages read "file:line: problem".
#pragma once

#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "engine/config/environment.h"
#include "engine/config/options.h"
#include "engine/config/value.h"

namespace herald::config {

// Applies every key of `root` to `options` (values not in the file are left as they are), then
// checks the result as a whole (validate_options).
Status apply_config(const Value& root, Options& options, std::string& error_message);

// Cross-option checks done after the file and the flags are in: no_auth_user names a user,
// single user and token are not mixed with a users list, max_payload <= max_pending...
Status validate_options(const Options& options, std::string& error_message);

// Reads and parses `path` (with includes and variables) and applies it on top of `base`.
// `options.config_file` is set to `path`.
Result<Options> load_config_file(const std::string& path, Options base, std::string& error_message,
                                 const Environment& environment);

// The same for text already in memory; `file_name` is used in messages and for includes.
Result<Options> load_config_text(std::string_view text, const std::string& file_name, Options base,
                                 std::string& error_message,
                                 const Environment& environment);

// Splits "host:port" (or "[v6]:port", or ":port"). False if the port is not an integer.
bool split_host_port(std::string_view address, std::string& host, int& port);

// True for strings that look like bcrypt hashes ($2a$, $2b$, $2x$, $2y$), as nats-server isBcrypt.
bool is_bcrypt_hash(std::string_view password);

}  // namespace herald::config
