// Operating errors of the auth folder. A failed CONNECT is authorization_violation: the server
// answers -ERR 'Authorization Violation' and closes, as nats-server does.
#pragma once

#include <system_error>

namespace herald::auth {

enum class Errc {
    ok = 0,
    authorization_violation,  // credentials missing, unknown or wrong
    invalid_config,           // auth options that cannot be used (e.g. a malformed bcrypt hash)
};

const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

}  // namespace herald::auth

template <>
struct std::is_error_code_enum<herald::auth::Errc> : std::true_type {};
