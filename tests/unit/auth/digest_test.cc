#include "auth/digest.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0x0f];
  }
  return out;
}

// RFC 4231 §4.3, test case 2 ("Jefe").
TEST(Digest, HmacMatchesRfc4231) {
  std::string mac;
  ASSERT_TRUE(compute_hmac(Algorithm::kHS256, "Jefe", "what do ya want for nothing?", &mac));
  EXPECT_EQ(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  ASSERT_TRUE(compute_hmac(Algorithm::kHS384, "Jefe", "what do ya want for nothing?", &mac));
  EXPECT_EQ(hex(mac),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
  ASSERT_TRUE(compute_hmac(Algorithm::kHS512, "Jefe", "what do ya want for nothing?", &mac));
  EXPECT_EQ(hex(mac),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a3"
            "4d4a6b4b636e070a38bce737");
}

TEST(Digest, HmacWithAnEmptyKey) {
  std::string mac;
  ASSERT_TRUE(compute_hmac(Algorithm::kHS256, "", "", &mac));
  EXPECT_EQ(hex(mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Digest, HmacRefusesNonHmacAlgorithms) {
  std::string mac;
  EXPECT_FALSE(compute_hmac(Algorithm::kRS256, "key", "data", &mac));
  EXPECT_FALSE(compute_hmac(Algorithm::kEdDSA, "key", "data", &mac));
}

TEST(Digest, FetchesEachHash) {
  EXPECT_EQ(EVP_MD_get_size(fetched_digest(Algorithm::kRS256)), 32);
  EXPECT_EQ(EVP_MD_get_size(fetched_digest(Algorithm::kES384)), 48);
  EXPECT_EQ(EVP_MD_get_size(fetched_digest(Algorithm::kPS512)), 64);
  EXPECT_EQ(fetched_digest(Algorithm::kEdDSA), nullptr);
}

}  // namespace
}  // namespace switchboard::auth
