#include "auth/signature_check.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "auth/digest.h"
#include "auth/pem_key.h"
#include "test_keys.h"

namespace switchboard::auth {
namespace {

VerificationKey public_key(Algorithm algorithm, const testing::TestKey& key) {
  return VerificationKey(algorithm, "", public_key_from_pem(key.public_pem).value());
}

TEST(SignatureCheck, HmacComparesTheWholeTag) {
  const VerificationKey key(Algorithm::kHS256, testing::secret_of_size(32), nullptr);
  const std::string token = testing::hmac_token(Algorithm::kHS256, key.hmac_secret, R"({"alg":"HS256"})", "{}");
  const testing::Parts parts = testing::split(token);
  std::string tag;
  ASSERT_TRUE(compute_hmac(Algorithm::kHS256, key.hmac_secret, parts.header + "." + parts.payload, &tag));
  EXPECT_TRUE(verify_signature(key, parts.header + "." + parts.payload, tag));
  EXPECT_FALSE(verify_signature(key, parts.header + "." + parts.payload, tag.substr(0, 31)));
  EXPECT_FALSE(verify_signature(key, parts.header + "." + parts.payload, tag + "x"));
  EXPECT_FALSE(verify_signature(key, parts.header + "." + parts.payload, ""));
  tag[31] = static_cast<char>(tag[31] ^ 1);
  EXPECT_FALSE(verify_signature(key, parts.header + "." + parts.payload, tag));
}

TEST(SignatureCheck, FailuresLeaveTheErrorQueueEmpty) {
  ERR_clear_error();
  const VerificationKey rsa = public_key(Algorithm::kRS256, testing::rsa_key());
  EXPECT_FALSE(verify_signature(rsa, "input", std::string(256, 'x')));
  EXPECT_FALSE(verify_signature(rsa, "input", "short"));
  const VerificationKey ec = public_key(Algorithm::kES256, testing::p256_key());
  EXPECT_FALSE(verify_signature(ec, "input", std::string(64, '\0')));
  const VerificationKey ed = public_key(Algorithm::kEdDSA, testing::ed25519_key());
  EXPECT_FALSE(verify_signature(ed, "input", std::string(64, 'x')));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SignatureCheck, AKeyWithoutAPublicKeyVerifiesNothing) {
  const VerificationKey key(Algorithm::kRS256, "", nullptr);
  EXPECT_FALSE(verify_signature(key, "input", std::string(256, 'x')));
}

}  // namespace
}  // namespace switchboard::auth
