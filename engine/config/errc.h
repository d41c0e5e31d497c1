// Operating errors of the config folder: a config file or a command line that cannot be used.
// The human-readable detail ("herald.conf:7: unknown field \"prot\"") travels beside the code in
// an error_message string, because an error_code cannot carry text.
#pragma once

#include <system_error>

namespace herald::config {

enum class Errc {
    ok = 0,
    syntax_error,      // the text is not valid nats-server config syntax
    unknown_field,     // a key that nats-server does not know
    unsupported,       // a key or flag nats-server knows but Herald does not implement yet
    invalid_value,     // a known key with a value of the wrong type or range
    file_error,        // a config or include file that cannot be read
    invalid_flag,      // a command-line flag that is unknown or has a bad value
};

const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

}  // namespace herald::config

template <>
struct std::is_error_code_enum<herald::config::Errc> : std::true_type {};
