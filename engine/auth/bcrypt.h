// bcrypt password hashes ($2a$, $2b$, $2y$), as golang.org/x/crypto/bcrypt checks them for
// nats-server's comparePasswords. Only verification is needed: hashes come from the config file
// (made with `nats server passwd` or mkpasswd). Blowfish is implemented here over the constants
// in blowfish_constants.h; OpenSSL 3 no longer exposes it outside the legacy provider.
#pragma once

#include <string_view>

namespace herald::auth {

// Cost factors outside this range are refused (x/crypto/bcrypt MinCost..MaxCost).
inline constexpr int bcrypt_cost_min = 4;
inline constexpr int bcrypt_cost_max = 31;

// True if `hash` is a well-formed bcrypt hash: "$2a$" (or 2b, 2y), a two-digit cost in range,
// "$", 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
bool is_valid_bcrypt_hash(std::string_view hash);

// Whether `password` hashes to `hash`. The final comparison is constant-time. False for a
// malformed hash. Costs 2^cost Blowfish key schedules: call it once per CONNECT, not per message.
bool bcrypt_matches(std::string_view hash, std::string_view password);

}  // namespace herald::auth
