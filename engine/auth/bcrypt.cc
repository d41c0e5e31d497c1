// bcrypt (Provos and Mazieres, 1999): EksBlowfishSetup followed by 64 encryptions of
// "OrpheanBeholderScryDoubt". Follows the OpenBSD reference; the key is the password plus its
// NUL, cut at 72 bytes, with no length wrap-around (as $2b$ and Go's x/crypto).
#include "engine/auth/bcrypt.h"

#include <array>
#include <cstdint>
#include <string>

#include <openssl/crypto.h>

#include "engine/auth/blowfish_constants.h"
#include "engine/base/assert.h"

namespace herald::auth {
namespace {

constexpr std::string_view base64_alphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t salt_size = 16;
constexpr std::size_t salt_encoded_size = 22;
constexpr std::size_t hash_size = 23;            // of the 24 ciphertext bytes, bcrypt keeps 23
constexpr std::size_t hash_encoded_size = 31;
constexpr std::size_t key_size_max = 72;
constexpr std::size_t prefix_size = 7;           // "$2a$NN$"
constexpr std::size_t encoded_size = prefix_size + salt_encoded_size + hash_encoded_size;
static_assert(encoded_size == 60);

struct State {
    std::array<std::uint32_t, 18> p;
    std::array<std::uint32_t, 1024> s;
};

std::uint32_t feistel(const State& state, std::uint32_t x) {
    const std::uint32_t a = state.s[x >> 24];
    const std::uint32_t b = state.s[256 + ((x >> 16) & 0xff)];
    const std::uint32_t c = state.s[512 + ((x >> 8) & 0xff)];
    const std::uint32_t d = state.s[768 + (x & 0xff)];
    return ((a + b) ^ c) + d;
}

void encipher(const State& state, std::uint32_t& left, std::uint32_t& right) {
    std::uint32_t l = left ^ state.p[0];
    std::uint32_t r = right;
    for (std::size_t i = 1; i <= 16; i += 2) {
        r ^= feistel(state, l) ^ state.p[i];
        l ^= feistel(state, r) ^ state.p[i + 1];
    }
    left = r ^ state.p[17];
    right = l;
}

// The next 32 bits of `data` read cyclically, big-endian (OpenBSD Blowfish_stream2word).
std::uint32_t stream_word(std::string_view data, std::size_t& position) {
    std::uint32_t word = 0;
    for (int i = 0; i < 4; i++) {
        if (position >= data.size()) position = 0;
        word = (word << 8) | static_cast<std::uint8_t>(data[position]);
        position++;
    }
    return word;
}

// Blowfish_expandstate when `salt` is non-empty, Blowfish_expand0state when it is empty.
void expand_state(State& state, std::string_view salt, std::string_view key) {
    std::size_t key_position = 0;
    for (std::uint32_t& word : state.p) word ^= stream_word(key, key_position);
    std::size_t salt_position = 0;
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    auto next_block = [&]() {
        if (!salt.empty()) {
            left ^= stream_word(salt, salt_position);
            right ^= stream_word(salt, salt_position);
        }
        encipher(state, left, right);
    };
    for (std::size_t i = 0; i < state.p.size(); i += 2) {
        next_block();
        state.p[i] = left;
        state.p[i + 1] = right;
    }
    for (std::size_t i = 0; i < state.s.size(); i += 2) {
        next_block();
        state.s[i] = left;
        state.s[i + 1] = right;
    }
}

int base64_value(char c) {
    const std::size_t index = base64_alphabet.find(c);
    return index == std::string_view::npos ? -1 : static_cast<int>(index);
}

// bcrypt's base64: standard bit order, its own alphabet, no padding. Returns false on a bad
// character. `target` gets exactly `size` bytes.
bool base64_decode(std::string_view text, std::size_t size, std::string& target) {
    target.clear();
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base64_value(c);
        if (value < 0) return false;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (target.size() < size) target.push_back(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    return target.size() == size;
}

std::string base64_encode(std::string_view data) {
    std::string text;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : data) {
        buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            text.push_back(base64_alphabet[(buffer >> bits) & 0x3f]);
        }
    }
    if (bits > 0) text.push_back(base64_alphabet[(buffer << (6 - bits)) & 0x3f]);
    return text;
}

// The 31-character hash part for this cost, salt and password.
std::string compute_hash(int cost, std::string_view salt, std::string_view password) {
    ASSERT(cost >= bcrypt_cost_min && cost <= bcrypt_cost_max);
    ASSERT(salt.size() == salt_size);
    std::string key(password.substr(0, key_size_max));
    if (key.size() < key_size_max) key.push_back('\0');

    State state;
    std::copy(std::begin(blowfish::initial_p), std::end(blowfish::initial_p), state.p.begin());
    std::copy(std::begin(blowfish::initial_s), std::end(blowfish::initial_s), state.s.begin());
    expand_state(state, salt, key);
    const std::uint64_t rounds = std::uint64_t{1} << cost;
    for (std::uint64_t round = 0; round < rounds; round++) {
        expand_state(state, {}, key);
        expand_state(state, {}, salt);
    }

    static constexpr std::string_view magic = "OrpheanBeholderScryDoubt";
    std::array<std::uint32_t, 6> text{};
    std::size_t position = 0;
    for (std::uint32_t& word : text) word = stream_word(magic, position);
    for (int i = 0; i < 64; i++) {
        for (std::size_t block = 0; block < text.size(); block += 2) {
            encipher(state, text[block], text[block + 1]);
        }
    }
    std::string bytes;
    for (const std::uint32_t word : text) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            bytes.push_back(static_cast<char>((word >> shift) & 0xff));
        }
    }
    bytes.resize(hash_size);
    return base64_encode(bytes);
}

// Cost from "$2a$NN$", or -1.
int parse_cost(std::string_view hash) {
    if (hash.size() != encoded_size || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
        hash[6] != '$') {
        return -1;
    }
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return -1;
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return -1;
    const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < bcrypt_cost_min || cost > bcrypt_cost_max) return -1;
    return cost;
}

}  // namespace

bool is_valid_bcrypt_hash(std::string_view hash) {
    if (parse_cost(hash) < 0) return false;
    std::string salt;
    if (!base64_decode(hash.substr(prefix_size, salt_encoded_size), salt_size, salt)) return false;
    for (const char c : hash.substr(prefix_size + salt_encoded_size)) {
        if (base64_value(c) < 0) return false;
    }
    return true;
}

bool bcrypt_matches(std::string_view hash, std::string_view password) {
    if (!is_valid_bcrypt_hash(hash)) return false;
    const int cost = parse_cost(hash);
    std::string salt;
    const bool decoded = base64_decode(hash.substr(prefix_size, salt_encoded_size), salt_size, salt);
    ASSERT(decoded);
    const std::string computed = compute_hash(cost, salt, password);
    ASSERT(computed.size() == hash_encoded_size);
    const std::string_view expected = hash.substr(prefix_size + salt_encoded_size);
    return CRYPTO_memcmp(computed.data(), expected.data(), hash_encoded_size) == 0;
}

}  // namespace herald::auth
