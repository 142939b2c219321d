#include "auth/jose_header.h"

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

VerifyError parse(std::string_view json) {
  JoseHeader header;
  return parse_jose_header(json, &header);
}

TEST(JoseHeader, ReadsAlgAndKid) {
  JoseHeader header;
  ASSERT_EQ(parse_jose_header(R"({"alg":"ES384","typ":"JWT","kid":"k1"})", &header), VerifyError::kNone);
  EXPECT_EQ(header.algorithm, Algorithm::kES384);
  EXPECT_EQ(header.key_id, "k1");
  ASSERT_EQ(parse_jose_header(R"({"alg":"HS256"})", &header), VerifyError::kNone);
  EXPECT_EQ(header.algorithm, Algorithm::kHS256);
  EXPECT_EQ(header.key_id, "");
}

TEST(JoseHeader, TypIsJwtInAnyCaseOrAbsent) {
  EXPECT_EQ(parse(R"({"alg":"HS256","typ":"jwt"})"), VerifyError::kNone);
  EXPECT_EQ(parse(R"({"alg":"HS256","typ":"JwT"})"), VerifyError::kNone);
  EXPECT_EQ(parse(R"({"alg":"HS256","typ":"JOSE"})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":"HS256","typ":"at+jwt"})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":"HS256","typ":1})"), VerifyError::kMalformed);
}

TEST(JoseHeader, RefusesNoneInAnyCase) {
  EXPECT_EQ(parse(R"({"alg":"none"})"), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(parse(R"({"alg":"None"})"), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(parse(R"({"alg":"NONE"})"), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(parse(R"({"alg":"nOnE"})"), VerifyError::kUnsupportedAlgorithm);
}

TEST(JoseHeader, RefusesUnknownAlgorithms) {
  EXPECT_EQ(parse(R"({"alg":"ES512"})"), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(parse(R"({"alg":"hs256"})"), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(parse(R"({"alg":""})"), VerifyError::kUnsupportedAlgorithm);
}

TEST(JoseHeader, AlgMustBeAString) {
  EXPECT_EQ(parse(R"({})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":null})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":["HS256"]})"), VerifyError::kMalformed);
}

// RFC 7515 §4.1.11: no extension is understood, so any "crit" is refused.
TEST(JoseHeader, RefusesCrit) {
  EXPECT_EQ(parse(R"({"alg":"HS256","crit":["exp"],"exp":1})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":"HS256","crit":[]})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":"HS256","b64":false,"crit":["b64"]})"), VerifyError::kMalformed);
}

TEST(JoseHeader, KidMustBeAString) {
  EXPECT_EQ(parse(R"({"alg":"HS256","kid":1})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"alg":"HS256","kid":null})"), VerifyError::kMalformed);
}

TEST(JoseHeader, RefusesDuplicateAlg) {
  EXPECT_EQ(parse(R"({"alg":"HS256","alg":"RS256"})"), VerifyError::kMalformed);
}

TEST(JoseHeader, RefusesNonObjects) {
  EXPECT_EQ(parse(R"(["alg","HS256"])"), VerifyError::kMalformed);
  EXPECT_EQ(parse("garbage"), VerifyError::kMalformed);
  EXPECT_EQ(parse(""), VerifyError::kMalformed);
}

TEST(JoseHeader, IgnoresEmbeddedKeyMembers) {
  EXPECT_EQ(parse(R"({"alg":"RS256","jwk":{"kty":"RSA"},"jku":"https://evil.example/jwks"})"), VerifyError::kNone);
}

TEST(JoseHeader, LeavesTheOutputAloneOnFailure) {
  JoseHeader header;
  header.key_id = "kept";
  EXPECT_EQ(parse_jose_header(R"({"alg":"none","kid":"other"})", &header), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(header.key_id, "kept");
}

}  // namespace
}  // namespace switchboard::auth
