#include "auth/jwt_sign.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "auth/base64url.h"
#include "test_keys.h"

namespace switchboard::auth {
namespace {

using testing::split;

std::string decoded(std::string_view part) {
  std::string bytes;
  EXPECT_TRUE(base64url_decode(part, &bytes));
  return bytes;
}

TEST(JwtSign, HmacTokenHasTheExpectedHeader) {
  const std::string token = sign_hmac(Algorithm::kHS256, "secret", "", R"({"sub":"alice"})");
  const testing::Parts parts = split(token);
  EXPECT_EQ(decoded(parts.header), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(decoded(parts.payload), R"({"sub":"alice"})");
  EXPECT_EQ(decoded(parts.signature).size(), 32u);
}

// RFC 7515 Appendix A.1: the HS256 example, with its header and payload
// bytes exactly as the RFC gives them.
TEST(JwtSign, MatchesRfc7515AppendixA1) {
  const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
  const std::string payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
  std::string key;
  ASSERT_TRUE(base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow", &key));
  EXPECT_EQ(testing::hmac_token(Algorithm::kHS256, key, header, payload),
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST(JwtSign, EscapesTheKid) {
  const std::string token = sign_hmac(Algorithm::kHS512, "secret", "a\"b\\c\n", "{}");
  EXPECT_EQ(decoded(split(token).header), R"({"alg":"HS512","typ":"JWT","kid":"a\"b\\c\u000a"})");
}

TEST(JwtSign, EcdsaSignaturesAreRawRAndS) {
  EXPECT_EQ(decoded(split(sign_with_private_key_pem(Algorithm::kES256, testing::p256_key().private_pem, "k", "{}"))
                        .signature)
                .size(),
            64u);
  EXPECT_EQ(decoded(split(sign_with_private_key_pem(Algorithm::kES384, testing::p384_key().private_pem, "k", "{}"))
                        .signature)
                .size(),
            96u);
}

TEST(JwtSign, KidHeaderForPrivateKeyTokens) {
  const std::string token = sign_with_private_key_pem(Algorithm::kEdDSA, testing::ed25519_key().private_pem, "ed", "{}");
  EXPECT_EQ(decoded(split(token).header), R"({"alg":"EdDSA","typ":"JWT","kid":"ed"})");
  EXPECT_EQ(decoded(split(token).signature).size(), 64u);
}

TEST(JwtSign, ThrowsOnUnfitKeys) {
  EXPECT_THROW(sign_with_private_key_pem(Algorithm::kES256, testing::rsa_key().private_pem, "", "{}"),
               std::runtime_error);
  EXPECT_THROW(sign_with_private_key_pem(Algorithm::kRS256, testing::rsa_key().public_pem, "", "{}"),
               std::runtime_error);
  EXPECT_THROW(sign_with_private_key_pem(Algorithm::kRS256, "garbage", "", "{}"), std::runtime_error);
  EXPECT_THROW(sign_with_private_key_pem(Algorithm::kHS256, testing::rsa_key().private_pem, "", "{}"),
               std::runtime_error);
  EXPECT_THROW(sign_hmac(Algorithm::kRS256, "secret", "", "{}"), std::runtime_error);
}

}  // namespace
}  // namespace switchboard::auth
