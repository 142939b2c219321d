// A KeySet holding one key per algorithm, shared by the verify tests.
#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "auth/jwt_sign.h"
#include "auth/jwt_verify.h"
#include "test_keys.h"

namespace switchboard::auth::testing {

constexpr std::int64_t kNow = 1'700'000'000;

// The HS256 secret of the key for tokens without a kid.
inline std::string default_secret() { return secret_of_size(32); }

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add(keys_.add_hmac_secret("", Algorithm::kHS256, default_secret()));
    add(keys_.add_hmac_secret("hs384", Algorithm::kHS384, secret_of_size(48)));
    add(keys_.add_hmac_secret("hs512", Algorithm::kHS512, secret_of_size(64)));
    add(keys_.add_public_key_pem("rs256", Algorithm::kRS256, rsa_key().public_pem));
    add(keys_.add_public_key_pem("rs384", Algorithm::kRS384, rsa_key().public_pem));
    add(keys_.add_public_key_pem("rs512", Algorithm::kRS512, rsa_key().public_pem));
    add(keys_.add_public_key_pem("ps256", Algorithm::kPS256, rsa_key().public_pem));
    add(keys_.add_public_key_pem("ps384", Algorithm::kPS384, rsa_key().public_pem));
    add(keys_.add_public_key_pem("ps512", Algorithm::kPS512, rsa_key().public_pem));
    add(keys_.add_public_key_pem("es256", Algorithm::kES256, p256_key().public_pem));
    add(keys_.add_public_key_pem("es384", Algorithm::kES384, p384_key().public_pem));
    add(keys_.add_public_key_pem("ed", Algorithm::kEdDSA, ed25519_key().public_pem));
    options_.now = kNow;
  }

  static void add(const base::Result<void>& added) { ASSERT_TRUE(added.ok()) << added.error(); }

  VerifyError check(std::string_view token) { return verify(token, keys_, options_, &claims_); }

  // A valid payload for kNow: subject alice, one minute left.
  static std::string payload() {
    return R"({"sub":"alice","iat":)" + std::to_string(kNow) + R"(,"exp":)" + std::to_string(kNow + 60) + "}";
  }

  static std::string hs256(std::string_view payload_json) {
    return sign_hmac(Algorithm::kHS256, default_secret(), "", payload_json);
  }

  KeySet keys_;
  VerifyOptions options_;
  Claims claims_;
};

}  // namespace switchboard::auth::testing
