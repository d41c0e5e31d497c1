// Go time.ParseDuration for config values: "2m", "1h30m", "500ms", "1.5s", "-1s". nats-server
// reads every duration option this way when it is given as a string.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::config {

// Nanoseconds, possibly negative; nullopt if `text` is not a Go duration (units ns, us, µs, ms,
// s, m, h; a bare "0" needs no unit) or does not fit in 64 bits.
std::optional<std::int64_t> parse_go_duration(std::string_view text);

}  // namespace herald::config
