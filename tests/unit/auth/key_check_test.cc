#include "auth/key_check.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace switchboard::auth {
namespace {

using testing::ed25519_key;
using testing::ed448_key;
using testing::p256_key;
using testing::p384_key;
using testing::rsa_1024_key;
using testing::rsa_key;

TEST(KeyCheck, AcceptsMatchingKeys) {
  for (Algorithm algorithm : {Algorithm::kRS256, Algorithm::kRS384, Algorithm::kRS512, Algorithm::kPS256,
                              Algorithm::kPS384, Algorithm::kPS512}) {
    EXPECT_TRUE(check_key_for_algorithm(algorithm, rsa_key().key.get()).ok());
  }
  EXPECT_TRUE(check_key_for_algorithm(Algorithm::kES256, p256_key().key.get()).ok());
  EXPECT_TRUE(check_key_for_algorithm(Algorithm::kES384, p384_key().key.get()).ok());
  EXPECT_TRUE(check_key_for_algorithm(Algorithm::kEdDSA, ed25519_key().key.get()).ok());
}

TEST(KeyCheck, RefusesShortRsa) {
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kRS256, rsa_1024_key().key.get()).error(),
            "RSA key is shorter than 2048 bits");
}

TEST(KeyCheck, RefusesTheWrongKeyType) {
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kRS256, p256_key().key.get()).error(), "RS256 needs an RSA key");
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kES256, rsa_key().key.get()).error(), "ES256 needs an EC key on P-256");
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kES256, p384_key().key.get()).error(), "ES256 needs an EC key on P-256");
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kES384, p256_key().key.get()).error(), "ES384 needs an EC key on P-384");
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kEdDSA, ed448_key().key.get()).error(), "EdDSA needs an Ed25519 key");
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kEdDSA, p256_key().key.get()).error(), "EdDSA needs an Ed25519 key");
  EXPECT_FALSE(check_key_for_algorithm(Algorithm::kHS256, rsa_key().key.get()).ok());
  EXPECT_EQ(check_key_for_algorithm(Algorithm::kRS256, nullptr).error(), "no key");
}

}  // namespace
}  // namespace switchboard::auth
