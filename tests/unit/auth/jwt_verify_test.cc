#include "auth/jwt_verify.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jwt_test_fixture.h"

namespace switchboard::auth::testing {
namespace {

using JwtVerify = JwtTest;

TEST_F(JwtVerify, AcceptsHs256WithoutKid) {
  ASSERT_EQ(check(hs256(payload())), VerifyError::kNone);
  EXPECT_EQ(claims_.subject, "alice");
  EXPECT_EQ(claims_.expires_at, kNow + 60);
  EXPECT_EQ(claims_.issued_at, kNow);
}

TEST_F(JwtVerify, AcceptsHs384AndHs512) {
  EXPECT_EQ(check(sign_hmac(Algorithm::kHS384, secret_of_size(48), "hs384", payload())), VerifyError::kNone);
  EXPECT_EQ(check(sign_hmac(Algorithm::kHS512, secret_of_size(64), "hs512", payload())), VerifyError::kNone);
}

TEST_F(JwtVerify, AcceptsRsaPkcs1) {
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kRS256, rsa_key().private_pem, "rs256", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kRS384, rsa_key().private_pem, "rs384", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kRS512, rsa_key().private_pem, "rs512", payload())),
            VerifyError::kNone);
}

TEST_F(JwtVerify, AcceptsRsaPss) {
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kPS256, rsa_key().private_pem, "ps256", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kPS384, rsa_key().private_pem, "ps384", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kPS512, rsa_key().private_pem, "ps512", payload())),
            VerifyError::kNone);
}

TEST_F(JwtVerify, AcceptsEcdsa) {
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kES384, p384_key().private_pem, "es384", payload())),
            VerifyError::kNone);
}

TEST_F(JwtVerify, AcceptsEdDsa) {
  ASSERT_EQ(check(sign_with_private_key_pem(Algorithm::kEdDSA, ed25519_key().private_pem, "ed", payload())),
            VerifyError::kNone);
  EXPECT_EQ(claims_.subject, "alice");
}

TEST_F(JwtVerify, AcceptsJwksKeys) {
  KeySet keys;
  ASSERT_TRUE(keys.add_jwks(jwks(rsa_jwk(rsa_key(), "r", "PS256") + "," + ec_jwk(p384_key(), "P-384", "e") + "," +
                                 okp_jwk(ed25519_key(), "o") + "," + oct_jwk(secret_of_size(32), "h", "HS256")))
                  .ok());
  const auto check_with = [&](const std::string& token) { return verify(token, keys, options_, nullptr); };
  EXPECT_EQ(check_with(sign_with_private_key_pem(Algorithm::kPS256, rsa_key().private_pem, "r", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check_with(sign_with_private_key_pem(Algorithm::kES384, p384_key().private_pem, "e", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check_with(sign_with_private_key_pem(Algorithm::kEdDSA, ed25519_key().private_pem, "o", payload())),
            VerifyError::kNone);
  EXPECT_EQ(check_with(sign_hmac(Algorithm::kHS256, secret_of_size(32), "h", payload())), VerifyError::kNone);
}

TEST_F(JwtVerify, ReadsSwitchboardClaims) {
  options_.use = TokenUse::kSubscription;  // the token has a "channel"
  ASSERT_EQ(check(hs256(R"({"sub":"bob","aud":["x","switchboard"],"iss":"me","channels":["news","chat:*"],)"
                        R"("channel":"chat:1","info":{ "name": "Bob" }})")),
            VerifyError::kNone);
  EXPECT_EQ(claims_.subject, "bob");
  EXPECT_EQ(claims_.issuer, "me");
  EXPECT_EQ(claims_.audience, (std::vector<std::string>{"x", "switchboard"}));
  ASSERT_TRUE(claims_.channels);
  EXPECT_EQ(*claims_.channels, (std::vector<std::string>{"news", "chat:*"}));
  EXPECT_EQ(claims_.channel, "chat:1");
  EXPECT_EQ(claims_.info_json, R"({"name":"Bob"})");
}

TEST_F(JwtVerify, AnonymousTokenHasNoSubject) {
  ASSERT_EQ(check(hs256("{}")), VerifyError::kNone);
  EXPECT_EQ(claims_.subject, "");
  ASSERT_EQ(check(hs256(R"({"sub":""})")), VerifyError::kNone);
  EXPECT_EQ(claims_.subject, "");
}

TEST_F(JwtVerify, ClaimsMayBeNull) {
  EXPECT_EQ(verify(hs256(payload()), keys_, options_, nullptr), VerifyError::kNone);
}

TEST_F(JwtVerify, ChecksIssuerAndAudienceWhenAsked) {
  options_.issuer = "https://id.example";
  options_.audience = "switchboard";
  EXPECT_EQ(check(hs256(R"({"iss":"https://id.example","aud":"switchboard"})")), VerifyError::kNone);
  EXPECT_EQ(check(hs256(R"({"iss":"https://id.example","aud":["a","switchboard"]})")), VerifyError::kNone);
}

// verify() is const over the KeySet: several threads share one set.
TEST_F(JwtVerify, ManyThreadsShareOneKeySet) {
  const std::string tokens[] = {
      hs256(payload()),
      sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload()),
      sign_with_private_key_pem(Algorithm::kRS256, rsa_key().private_pem, "rs256", payload()),
      sign_with_private_key_pem(Algorithm::kEdDSA, ed25519_key().private_pem, "ed", payload()),
  };
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        for (const std::string& token : tokens) {
          if (verify(token, keys_, options_, nullptr) != VerifyError::kNone) ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace switchboard::auth::testing
