#include "auth/key_set.h"

#include <gtest/gtest.h>

#include "auth/verification_key.h"
#include "test_keys.h"

namespace switchboard::auth {
namespace {

// Why a key was refused, or "" when it was added.
std::string refusal(const base::Result<void>& added) { return added ? std::string() : added.error(); }

using testing::secret_of_size;

TEST(KeySet, StartsEmpty) {
  const KeySet keys;
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(keys.size(), 0u);
  EXPECT_EQ(keys.find(""), nullptr);
}

TEST(KeySet, AddsHmacSecrets) {
  KeySet keys;
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS256, secret_of_size(32))), "");
  EXPECT_EQ(refusal(keys.add_hmac_secret("k384", Algorithm::kHS384, secret_of_size(48))), "");
  EXPECT_EQ(refusal(keys.add_hmac_secret("k512", Algorithm::kHS512, secret_of_size(64))), "");
  EXPECT_EQ(keys.size(), 3u);
  ASSERT_NE(keys.find(""), nullptr);
  EXPECT_EQ(keys.find("")->algorithm, Algorithm::kHS256);
  EXPECT_EQ(keys.find("k512")->hmac_secret, secret_of_size(64));
  EXPECT_EQ(keys.find("missing"), nullptr);
}

// RFC 7518 §3.2: a key of at least the hash output size.
TEST(KeySet, RefusesShortHmacSecrets) {
  KeySet keys;
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS256, secret_of_size(31))),
            "HS256 secret must be at least 32 bytes");
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS384, secret_of_size(47))),
            "HS384 secret must be at least 48 bytes");
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS512, secret_of_size(63))),
            "HS512 secret must be at least 64 bytes");
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS256, "")), "HS256 secret must be at least 32 bytes");
  EXPECT_TRUE(keys.empty());
}

TEST(KeySet, SecretsAreForHmacOnly) {
  KeySet keys;
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kRS256, secret_of_size(64))),
            "RS256 needs a public key, not a secret");
  EXPECT_EQ(refusal(keys.add_public_key_pem("", Algorithm::kHS256, testing::rsa_key().public_pem)),
            "HS256 takes a secret, not a public key");
  EXPECT_TRUE(keys.empty());
}

TEST(KeySet, AddsPublicKeys) {
  KeySet keys;
  EXPECT_EQ(refusal(keys.add_public_key_pem("rsa", Algorithm::kRS256, testing::rsa_key().public_pem)), "");
  EXPECT_EQ(refusal(keys.add_public_key_pem("pss", Algorithm::kPS512, testing::rsa_key().public_pem)), "");
  EXPECT_EQ(refusal(keys.add_public_key_pem("es256", Algorithm::kES256, testing::p256_key().public_pem)), "");
  EXPECT_EQ(refusal(keys.add_public_key_pem("es384", Algorithm::kES384, testing::p384_key().public_pem)), "");
  EXPECT_EQ(refusal(keys.add_public_key_pem("ed", Algorithm::kEdDSA, testing::ed25519_key().private_pem)), "");
  EXPECT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys.find("pss")->algorithm, Algorithm::kPS512);
  EXPECT_EQ(keys.find("ed")->hmac_secret, "");
}

TEST(KeySet, RefusesUnfitPublicKeys) {
  KeySet keys;
  EXPECT_EQ(refusal(keys.add_public_key_pem("", Algorithm::kRS256, testing::rsa_1024_key().public_pem)),
            "RSA key is shorter than 2048 bits");
  EXPECT_EQ(refusal(keys.add_public_key_pem("", Algorithm::kES256, testing::p384_key().public_pem)),
            "ES256 needs an EC key on P-256");
  EXPECT_EQ(refusal(keys.add_public_key_pem("", Algorithm::kEdDSA, testing::ed448_key().public_pem)),
            "EdDSA needs an Ed25519 key");
  EXPECT_EQ(refusal(keys.add_public_key_pem("", Algorithm::kRS256, "not pem")),
            "not a PEM public key, unencrypted private key or certificate");
  EXPECT_TRUE(keys.empty());
}

TEST(KeySet, RefusesDuplicateKids) {
  KeySet keys;
  ASSERT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS256, secret_of_size(32))), "");
  EXPECT_EQ(refusal(keys.add_hmac_secret("", Algorithm::kHS256, secret_of_size(40))),
            "a key for tokens without \"kid\" is already set");
  ASSERT_EQ(refusal(keys.add_public_key_pem("a", Algorithm::kEdDSA, testing::ed25519_key().public_pem)), "");
  EXPECT_EQ(refusal(keys.add_public_key_pem("a", Algorithm::kES256, testing::p256_key().public_pem)),
            "duplicate kid \"a\"");
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.find("a")->algorithm, Algorithm::kEdDSA);
}

TEST(KeySet, AddsJwks) {
  KeySet keys;
  ASSERT_EQ(refusal(keys.add_jwks(testing::jwks(testing::okp_jwk(testing::ed25519_key(), "ed") + "," +
                                                testing::ec_jwk(testing::p256_key(), "P-256", "ec")))),
            "");
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.find("ec")->algorithm, Algorithm::kES256);
}

// A JWKS is all or nothing: a bad entry or a clashing kid adds no key.
TEST(KeySet, JwksIsAllOrNothing) {
  KeySet keys;
  ASSERT_EQ(refusal(keys.add_hmac_secret("taken", Algorithm::kHS256, secret_of_size(32))), "");
  EXPECT_EQ(refusal(keys.add_jwks(testing::jwks(testing::okp_jwk(testing::ed25519_key(), "ed") + "," +
                                                testing::ec_jwk(testing::p256_key(), "P-256", "taken")))),
            "duplicate kid \"taken\"");
  EXPECT_EQ(refusal(keys.add_jwks(testing::jwks(testing::okp_jwk(testing::ed25519_key(), "ed") + "," +
                                                testing::okp_jwk(testing::ed25519_key(), "ed")))),
            "duplicate kid \"ed\"");
  EXPECT_EQ(refusal(keys.add_jwks(testing::jwks(testing::okp_jwk(testing::ed25519_key(), "ed") + "," +
                                                testing::rsa_jwk(testing::rsa_key(), "r", "")))),
            "jwks key \"r\": an RSA key needs \"alg\"");
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.find("ed"), nullptr);
}

TEST(KeySet, CopiesShareKeys) {
  KeySet keys;
  ASSERT_EQ(refusal(keys.add_public_key_pem("ed", Algorithm::kEdDSA, testing::ed25519_key().public_pem)), "");
  const KeySet copy = keys;
  EXPECT_EQ(copy.find("ed"), keys.find("ed"));
  KeySet moved = std::move(keys);
  EXPECT_EQ(moved.find("ed"), copy.find("ed"));
}

}  // namespace
}  // namespace switchboard::auth
