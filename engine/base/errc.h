// Generic operating errors shared by every folder (I/O, timeouts, bad input). Folders with their
// own vocabulary add an errc.h of their own in the same shape.
#pragma once

#include <system_error>

namespace herald::base {

enum class Errc {
    ok = 0,
    io_error,
    closed,
    timed_out,
    would_block,
    not_found,
    already_exists,
    invalid_argument,
    no_space,
    connection_refused,
    connection_reset,
    address_in_use,
    parse_error,
    limit_exceeded,
    cancelled,
};

const std::error_category& errc_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), errc_category()}; }

}  // namespace herald::base

template <>
struct std::is_error_code_enum<herald::base::Errc> : std::true_type {};
