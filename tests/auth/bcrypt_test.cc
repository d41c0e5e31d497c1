// Tests of bcrypt verification (engine/auth/bcrypt.h) against published vectors: Openwall
// crypt_blowfish's test table and the hash in nats-server's documentation.
#include <catch2/catch.hpp>

#include "engine/auth/bcrypt.h"

namespace herald::auth {

TEST_CASE("bcrypt: the crypt_blowfish test vectors verify", "[auth][bcrypt]") {
    CHECK(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"));
    CHECK(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"));
    CHECK(bcrypt_matches("$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"));
    CHECK(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""));
    CHECK(bcrypt_matches("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"));
}

TEST_CASE("bcrypt: characters after the 72nd are ignored", "[auth][bcrypt]") {
    const char* hash = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
    CHECK(bcrypt_matches(hash,
                         "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                         "chars after 72 are ignored"));
    CHECK(bcrypt_matches(hash,
                         "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                         "something else"));
}

TEST_CASE("bcrypt: the nats-server documentation hash matches its password", "[auth][bcrypt]") {
    const char* hash = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG";
    CHECK(bcrypt_matches(hash, "T0pS3cr3t"));
    CHECK_FALSE(bcrypt_matches(hash, "T0pS3cr3T"));
}

TEST_CASE("bcrypt: wrong passwords and malformed hashes do not match", "[auth][bcrypt]") {
    CHECK_FALSE(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*V"));
    CHECK_FALSE(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", "U*U"));
    CHECK_FALSE(is_valid_bcrypt_hash("$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    CHECK_FALSE(is_valid_bcrypt_hash("$2a$05$CCCCCCCCCCCCCCCCCCCC!.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    CHECK_FALSE(is_valid_bcrypt_hash("$2q$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    CHECK(is_valid_bcrypt_hash("$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

}  // namespace herald::auth
