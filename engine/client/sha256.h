// SHA-256 (FIPS 180-4), streaming. The object store hashes every object it writes and checks
// every object it reads against the stored "SHA-256=<base64url>" digest, as nats.go does.
// No OpenSSL in engine code; tests check the FIPS 180 example vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::client {

class Sha256 {
public:
    static constexpr std::size_t digest_size = 32;
    using Digest = std::array<std::uint8_t, digest_size>;

    Sha256();
    void update(std::string_view data);
    // The digest of everything updated so far; the object is then reset for a new message.
    Digest finish();

    static Digest of(std::string_view data);
    static std::string hex(const Digest& digest);

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_{};
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_bytes_ = 0;
};

// base64 with the URL alphabet (- and _), padded with '=' (Go's base64.URLEncoding).
std::string base64url_encode(std::string_view bytes);

}  // namespace herald::client
