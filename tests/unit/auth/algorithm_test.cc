#include "auth/algorithm.h"

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

constexpr Algorithm kAll[] = {Algorithm::kHS256, Algorithm::kHS384, Algorithm::kHS512, Algorithm::kRS256,
                              Algorithm::kRS384, Algorithm::kRS512, Algorithm::kPS256, Algorithm::kPS384,
                              Algorithm::kPS512, Algorithm::kES256, Algorithm::kES384, Algorithm::kEdDSA};

TEST(Algorithm, NamesRoundTrip) {
  for (Algorithm algorithm : kAll) {
    EXPECT_EQ(algorithm_from_name(algorithm_name(algorithm)), algorithm) << algorithm_name(algorithm);
  }
  EXPECT_EQ(algorithm_name(Algorithm::kHS256), "HS256");
  EXPECT_EQ(algorithm_name(Algorithm::kEdDSA), "EdDSA");
}

TEST(Algorithm, RefusesNoneAndUnknownNames) {
  EXPECT_FALSE(algorithm_from_name("none"));
  EXPECT_FALSE(algorithm_from_name("None"));
  EXPECT_FALSE(algorithm_from_name("NONE"));
  EXPECT_FALSE(algorithm_from_name(""));
  EXPECT_FALSE(algorithm_from_name("ES512"));
  EXPECT_FALSE(algorithm_from_name("RSA-OAEP"));
}

// RFC 7515 §4.1.1: "alg" is case-sensitive.
TEST(Algorithm, NamesAreCaseSensitive) {
  EXPECT_FALSE(algorithm_from_name("hs256"));
  EXPECT_FALSE(algorithm_from_name("EDDSA"));
  EXPECT_FALSE(algorithm_from_name("HS256 "));
}

TEST(Algorithm, SchemesAndSizes) {
  EXPECT_EQ(signature_scheme(Algorithm::kHS384), SignatureScheme::kHmac);
  EXPECT_EQ(signature_scheme(Algorithm::kRS512), SignatureScheme::kRsaPkcs1);
  EXPECT_EQ(signature_scheme(Algorithm::kPS256), SignatureScheme::kRsaPss);
  EXPECT_EQ(signature_scheme(Algorithm::kES384), SignatureScheme::kEcdsa);
  EXPECT_EQ(signature_scheme(Algorithm::kEdDSA), SignatureScheme::kEdDsa);
  EXPECT_EQ(digest_size(Algorithm::kHS256), 32u);
  EXPECT_EQ(digest_size(Algorithm::kHS384), 48u);
  EXPECT_EQ(digest_size(Algorithm::kHS512), 64u);
  EXPECT_EQ(digest_size(Algorithm::kEdDSA), 0u);
  EXPECT_STREQ(digest_name(Algorithm::kPS384), "SHA384");
  EXPECT_EQ(digest_name(Algorithm::kEdDSA), nullptr);
  EXPECT_EQ(ecdsa_signature_size(Algorithm::kES256), 64u);
  EXPECT_EQ(ecdsa_signature_size(Algorithm::kES384), 96u);
  EXPECT_EQ(ecdsa_signature_size(Algorithm::kRS256), 0u);
}

}  // namespace
}  // namespace switchboard::auth
