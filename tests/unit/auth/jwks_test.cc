#include "auth/jwks.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace switchboard::auth {
namespace {

using testing::ec_jwk;
using testing::jwks;
using testing::oct_jwk;
using testing::okp_jwk;
using testing::rsa_jwk;
using testing::secret_of_size;

// The refusal, or "" when the set loads.
std::string error_for(std::string_view json) {
  const base::Result<std::vector<JwksKey>> keys = parse_jwks(json);
  return keys ? std::string() : keys.error();
}

TEST(Jwks, LoadsEveryKeyType) {
  const std::string json =
      jwks(rsa_jwk(testing::rsa_key(), "rsa", "RS256") + "," + rsa_jwk(testing::rsa_key(), "pss", "PS384") + "," +
           ec_jwk(testing::p256_key(), "P-256", "p256") + "," +
           ec_jwk(testing::p384_key(), "P-384", "p384", R"("alg":"ES384","use":"sig")") + "," +
           okp_jwk(testing::ed25519_key(), "ed") + "," + oct_jwk(secret_of_size(48), "hmac", "HS384"));
  base::Result<std::vector<JwksKey>> parsed = parse_jwks(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const std::vector<JwksKey>& keys = *parsed;
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys[0].key_id, "rsa");
  EXPECT_EQ(keys[0].key->algorithm, Algorithm::kRS256);
  EXPECT_EQ(EVP_PKEY_eq(keys[0].key->public_key.get(), testing::rsa_key().key.get()), 1);
  EXPECT_EQ(keys[1].key->algorithm, Algorithm::kPS384);
  EXPECT_EQ(keys[2].key->algorithm, Algorithm::kES256);
  EXPECT_EQ(EVP_PKEY_eq(keys[2].key->public_key.get(), testing::p256_key().key.get()), 1);
  EXPECT_EQ(keys[3].key->algorithm, Algorithm::kES384);
  EXPECT_EQ(keys[4].key->algorithm, Algorithm::kEdDSA);
  EXPECT_EQ(EVP_PKEY_eq(keys[4].key->public_key.get(), testing::ed25519_key().key.get()), 1);
  EXPECT_EQ(keys[5].key->algorithm, Algorithm::kHS384);
  EXPECT_EQ(keys[5].key->hmac_secret, secret_of_size(48));
  EXPECT_EQ(keys[5].key->public_key, nullptr);
}

TEST(Jwks, SkipsKeysNotForSignatures) {
  base::Result<std::vector<JwksKey>> parsed = parse_jwks(jwks(
      rsa_jwk(testing::rsa_key(), "enc", "RSA-OAEP", R"("use":"enc")") + "," + okp_jwk(testing::ed25519_key(), "ed")));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const std::vector<JwksKey>& keys = *parsed;
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].key_id, "ed");
}

TEST(Jwks, EveryKeyNeedsAKid) {
  EXPECT_EQ(error_for(jwks(okp_jwk(testing::ed25519_key(), ""))), "jwks key #0: missing \"kid\"");
  EXPECT_EQ(error_for(jwks(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})")), "jwks key #0: missing \"kid\"");
}

TEST(Jwks, RsaAndOctKeysNeedAlg) {
  EXPECT_EQ(error_for(jwks(rsa_jwk(testing::rsa_key(), "r", ""))), "jwks key \"r\": an RSA key needs \"alg\"");
  EXPECT_EQ(error_for(jwks(oct_jwk(secret_of_size(32), "h", ""))), "jwks key \"h\": an oct key needs \"alg\"");
}

TEST(Jwks, AlgMustFitTheKey) {
  EXPECT_EQ(error_for(jwks(rsa_jwk(testing::rsa_key(), "r", "ES256"))),
            "jwks key \"r\": alg ES256 does not fit an RSA key");
  EXPECT_EQ(error_for(jwks(rsa_jwk(testing::rsa_key(), "r", "none"))), "jwks key \"r\": unsupported alg \"none\"");
  EXPECT_EQ(error_for(jwks(ec_jwk(testing::p256_key(), "P-256", "e", R"("alg":"ES384")"))),
            "jwks key \"e\": alg ES384 does not fit curve P-256");
  EXPECT_EQ(error_for(jwks(okp_jwk(testing::ed25519_key(), "o", R"("alg":"ES256")"))),
            "jwks key \"o\": alg ES256 does not fit curve Ed25519");
  EXPECT_EQ(error_for(jwks(oct_jwk(secret_of_size(32), "h", "RS256"))),
            "jwks key \"h\": alg RS256 does not fit an oct key");
}

TEST(Jwks, ReportsBadEntriesClearly) {
  // The EC point's coordinates swapped with another key's y: off the curve.
  std::string broken = ec_jwk(testing::p256_key(), "P-256", "broken");
  const std::string other = ec_jwk(testing::other_p256_key(), "P-256", "x");
  broken.replace(broken.find("\"y\":"), std::string::npos, other.substr(other.find("\"y\":")));
  EXPECT_EQ(error_for(jwks(okp_jwk(testing::ed25519_key(), "good") + "," + broken)),
            "jwks key \"broken\": invalid EC point");
  EXPECT_EQ(error_for(jwks(R"({"kty":"EC","crv":"P-521","kid":"k","x":"AA","y":"AA"})")),
            "jwks key \"k\": unsupported EC curve \"P-521\"");
  EXPECT_EQ(error_for(jwks(R"({"kty":"EC","crv":"P-256","kid":"k","x":"AAAA","y":"AAAA"})")),
            "jwks key \"k\": \"x\" and \"y\" must be 32 bytes");
  EXPECT_EQ(error_for(jwks(R"({"kty":"OKP","crv":"X25519","kid":"k","x":"AAAA"})")),
            "jwks key \"k\": unsupported OKP curve \"X25519\"");
  EXPECT_EQ(error_for(jwks(R"({"kty":"RSA","kid":"k","alg":"RS256","e":"AQAB"})")), "jwks key \"k\": missing \"n\"");
  EXPECT_EQ(error_for(jwks(R"({"kty":"RSA","kid":"k","alg":"RS256","n":"a+b/","e":"AQAB"})")),
            "jwks key \"k\": \"n\" is not base64url");
  EXPECT_EQ(error_for(jwks(rsa_jwk(testing::rsa_1024_key(), "short", "RS256"))),
            "jwks key \"short\": RSA key is shorter than 2048 bits");
  EXPECT_EQ(error_for(jwks(oct_jwk(secret_of_size(31), "h", "HS256"))),
            "jwks key \"h\": HS256 secret must be at least 32 bytes");
  EXPECT_EQ(error_for(jwks(R"({"kty":"XYZ","kid":"k"})")), "jwks key \"k\": unsupported kty \"XYZ\"");
  EXPECT_EQ(error_for(jwks(R"({"kid":"k"})")), "jwks key \"k\": missing \"kty\"");
  EXPECT_EQ(error_for(jwks(R"({"kty":"oct","kid":7})")),
            "jwks key #0: \"use\", \"kty\", \"kid\", \"alg\" and \"crv\" must be strings");
  EXPECT_EQ(error_for(jwks(R"("key")")), "jwks key #0: not a JSON object");
}

TEST(Jwks, NeedsTheKeysArray) {
  EXPECT_EQ(error_for(""), "jwks: expected a JSON object {\"keys\": [...]}");
  EXPECT_EQ(error_for("[]"), "jwks: expected a JSON object {\"keys\": [...]}");
  EXPECT_EQ(error_for(R"({"keys":{}})"), "jwks: expected a JSON object {\"keys\": [...]}");
  EXPECT_EQ(error_for(R"({"keys":[]})"), "jwks: no signing keys");
}

}  // namespace
}  // namespace switchboard::auth
