// The attack suite: every way a token must be refused, one test each.
#include <string>

#include <gtest/gtest.h>

#include "auth/base64url.h"
#include "auth/ecdsa_signature.h"
#include "jwt_test_fixture.h"

namespace switchboard::auth::testing {
namespace {

using JwtAttack = JwtTest;

std::string decoded(std::string_view part) {
  std::string bytes;
  EXPECT_TRUE(base64url_decode(part, &bytes));
  return bytes;
}

std::string join(const Parts& parts) { return parts.header + "." + parts.payload + "." + parts.signature; }

// --- "alg": "none" (RFC 7518 §3.6 unsecured JWS) ---

TEST_F(JwtAttack, AlgNoneWithEmptySignature) {
  EXPECT_EQ(check(assemble(R"({"alg":"none","typ":"JWT"})", payload(), "")), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(check(base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload()) + "."),
            VerifyError::kUnsupportedAlgorithm);
}

TEST_F(JwtAttack, AlgNoneInOtherCases) {
  EXPECT_EQ(check(assemble(R"({"alg":"None"})", payload(), "")), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(check(assemble(R"({"alg":"NONE"})", payload(), "")), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(check(assemble(R"({"alg":"nOnE","kid":"rs256"})", payload(), "")), VerifyError::kUnsupportedAlgorithm);
}

// A valid signature does not make "none" acceptable either.
TEST_F(JwtAttack, AlgNoneWithAValidLookingSignature) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"none"})", payload())),
            VerifyError::kUnsupportedAlgorithm);
}

TEST_F(JwtAttack, UnknownAlgorithm) {
  EXPECT_EQ(check(assemble(R"({"alg":"ES512"})", payload(), "sig")), VerifyError::kUnsupportedAlgorithm);
  EXPECT_EQ(check(assemble(R"({"alg":"hs256"})", payload(), "sig")), VerifyError::kUnsupportedAlgorithm);
}

// --- algorithm confusion ---

// The classic: the RSA public key (which is public) used as an HMAC secret.
// The key "rs256" is pinned to RS256, so an HS256 header cannot select HMAC.
TEST_F(JwtAttack, HmacSignedWithTheRsaPublicKeyPem) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, rsa_key().public_pem, R"({"alg":"HS256","kid":"rs256"})", payload())),
            VerifyError::kAlgorithmMismatch);
}

TEST_F(JwtAttack, HmacSignedWithTheRsaPublicKeyPemWithoutKid) {
  KeySet keys;
  ASSERT_TRUE(keys.add_public_key_pem("", Algorithm::kRS256, rsa_key().public_pem).ok());
  const std::string token =
      hmac_token(Algorithm::kHS256, rsa_key().public_pem, R"({"alg":"HS256","typ":"JWT"})", payload());
  EXPECT_EQ(verify(token, keys, options_, nullptr), VerifyError::kAlgorithmMismatch);
}

TEST_F(JwtAttack, PinnedAlgorithmBeatsAnotherAlgorithmOnTheSameKey) {
  // PS256-signed, presented to the key pinned to RS256 (same RSA key).
  const std::string pss = sign_with_private_key_pem(Algorithm::kPS256, rsa_key().private_pem, "rs256", payload());
  EXPECT_EQ(check(pss), VerifyError::kAlgorithmMismatch);
  // HS384 header against the HS256 key.
  EXPECT_EQ(check(sign_hmac(Algorithm::kHS384, secret_of_size(48), "", payload())), VerifyError::kAlgorithmMismatch);
  // ES256 header against the ES384 key.
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es384", payload())),
            VerifyError::kAlgorithmMismatch);
}

// A key embedded in the header ("jwk", RFC 7515 §4.1.3) is never trusted.
TEST_F(JwtAttack, EmbeddedJwkIsIgnored) {
  // The attacker signs with their own key and ships it in the header.
  const std::string header =
      R"({"alg":"ES256","kid":"es256","jwk":)" + ec_jwk(other_p256_key(), "P-256", "es256") + "}";
  EXPECT_EQ(check(key_token(Algorithm::kES256, other_p256_key(), header, payload())), VerifyError::kBadSignature);
  // The same header signed with the trusted key passes: "jwk" is inert.
  EXPECT_EQ(check(key_token(Algorithm::kES256, p256_key(), header, payload())), VerifyError::kNone);
}

// --- wrong keys and tampering ---

TEST_F(JwtAttack, WrongHmacSecret) {
  EXPECT_EQ(check(sign_hmac(Algorithm::kHS256, secret_of_size(33), "", payload())), VerifyError::kBadSignature);
}

TEST_F(JwtAttack, WrongRsaKey) {
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kRS256, other_rsa_key().private_pem, "rs256", payload())),
            VerifyError::kBadSignature);
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kPS256, other_rsa_key().private_pem, "ps256", payload())),
            VerifyError::kBadSignature);
}

TEST_F(JwtAttack, WrongEcKey) {
  EXPECT_EQ(check(sign_with_private_key_pem(Algorithm::kES256, other_p256_key().private_pem, "es256", payload())),
            VerifyError::kBadSignature);
}

TEST_F(JwtAttack, TamperedPayload) {
  for (const std::string& token :
       {hs256(payload()), sign_with_private_key_pem(Algorithm::kRS256, rsa_key().private_pem, "rs256", payload()),
        sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload()),
        sign_with_private_key_pem(Algorithm::kEdDSA, ed25519_key().private_pem, "ed", payload())}) {
    Parts parts = split(token);
    std::string claims = decoded(parts.payload);
    claims.replace(claims.find("alice"), 5, "admin");
    parts.payload = base64url_encode(claims);
    EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature) << token;
  }
}

TEST_F(JwtAttack, TamperedExpiry) {
  Parts parts = split(hs256(payload()));
  std::string claims = decoded(parts.payload);
  claims.replace(claims.find(std::to_string(kNow + 60)), 10, std::to_string(kNow + 999999));
  parts.payload = base64url_encode(claims);
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
}

TEST_F(JwtAttack, TamperedHeader) {
  Parts parts = split(sign_hmac(Algorithm::kHS256, default_secret(), "", payload()));
  parts.header = base64url_encode(R"({"alg":"HS256","typ":"JWT","x":1})");
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
  // Pointing the kid at another key of the same algorithm does not help.
  Parts moved = split(sign_with_private_key_pem(Algorithm::kRS256, other_rsa_key().private_pem, "", payload()));
  moved.header = base64url_encode(R"({"alg":"RS256","typ":"JWT","kid":"rs256"})");
  EXPECT_EQ(check(join(moved)), VerifyError::kBadSignature);
}

TEST_F(JwtAttack, SignatureFromAnotherToken) {
  Parts parts = split(hs256(payload()));
  parts.signature = split(hs256(R"({"sub":"admin"})")).signature;
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
}

// --- time and audience ---

TEST_F(JwtAttack, Expired) {
  EXPECT_EQ(check(hs256(R"({"sub":"alice","exp":)" + std::to_string(kNow - 1) + "}")), VerifyError::kExpired);
}

TEST_F(JwtAttack, ExactlyAtExpIsExpired) {
  EXPECT_EQ(check(hs256(R"({"exp":)" + std::to_string(kNow) + "}")), VerifyError::kExpired);
  EXPECT_EQ(check(hs256(R"({"exp":)" + std::to_string(kNow + 1) + "}")), VerifyError::kNone);
}

TEST_F(JwtAttack, ExpiredWithinLeeway) {
  const std::string token = hs256(R"({"exp":)" + std::to_string(kNow - 30) + "}");
  options_.leeway_s = 31;
  EXPECT_EQ(check(token), VerifyError::kNone);
  options_.leeway_s = 30;
  EXPECT_EQ(check(token), VerifyError::kExpired);
}

TEST_F(JwtAttack, NotYetValid) {
  const std::string token = hs256(R"({"nbf":)" + std::to_string(kNow + 30) + "}");
  EXPECT_EQ(check(token), VerifyError::kNotYetValid);
  options_.leeway_s = 30;
  EXPECT_EQ(check(token), VerifyError::kNone);
}

TEST_F(JwtAttack, IssuedInTheFuture) {
  const std::string token = hs256(R"({"iat":)" + std::to_string(kNow + 3600) + "}");
  EXPECT_EQ(check(token), VerifyError::kIssuedInFuture);
  options_.leeway_s = 3600;
  EXPECT_EQ(check(token), VerifyError::kNone);
}

TEST_F(JwtAttack, WrongIssuer) {
  options_.issuer = "https://id.example";
  EXPECT_EQ(check(hs256(R"({"iss":"https://evil.example"})")), VerifyError::kWrongIssuer);
  EXPECT_EQ(check(hs256(R"({"iss":"https://id.example.evil"})")), VerifyError::kWrongIssuer);
  EXPECT_EQ(check(hs256("{}")), VerifyError::kWrongIssuer);
}

TEST_F(JwtAttack, WrongAudienceString) {
  options_.audience = "switchboard";
  EXPECT_EQ(check(hs256(R"({"aud":"other"})")), VerifyError::kWrongAudience);
  EXPECT_EQ(check(hs256(R"({"aud":"switchboard2"})")), VerifyError::kWrongAudience);
  EXPECT_EQ(check(hs256("{}")), VerifyError::kWrongAudience);
}

TEST_F(JwtAttack, WrongAudienceArray) {
  options_.audience = "switchboard";
  EXPECT_EQ(check(hs256(R"({"aud":["a","b"]})")), VerifyError::kWrongAudience);
  EXPECT_EQ(check(hs256(R"({"aud":[]})")), VerifyError::kWrongAudience);
}

// --- structure ---

TEST_F(JwtAttack, GarbageAndEmpty) {
  EXPECT_EQ(check(""), VerifyError::kMalformed);
  EXPECT_EQ(check("garbage"), VerifyError::kMalformed);
  EXPECT_EQ(check(".."), VerifyError::kMalformed);
  EXPECT_EQ(check("..."), VerifyError::kMalformed);
  EXPECT_EQ(check(std::string(100, '\0')), VerifyError::kMalformed);
}

TEST_F(JwtAttack, TwoParts) {
  const Parts parts = split(hs256(payload()));
  EXPECT_EQ(check(parts.header + "." + parts.payload), VerifyError::kMalformed);
}

TEST_F(JwtAttack, FourParts) {
  EXPECT_EQ(check(hs256(payload()) + ".AAAA"), VerifyError::kMalformed);
  EXPECT_EQ(check(hs256(payload()) + "."), VerifyError::kMalformed);
}

TEST_F(JwtAttack, EmptyHeaderOrPayload) {
  const Parts parts = split(hs256(payload()));
  EXPECT_EQ(check("." + parts.payload + "." + parts.signature), VerifyError::kMalformed);
  EXPECT_EQ(check(parts.header + ".." + parts.signature), VerifyError::kMalformed);
}

TEST_F(JwtAttack, BadBase64Url) {
  const std::string token = hs256(payload());
  const Parts parts = split(token);
  EXPECT_EQ(check(parts.header + "=." + parts.payload + "." + parts.signature), VerifyError::kMalformed);
  EXPECT_EQ(check(parts.header + "." + parts.payload + "." + parts.signature + "="), VerifyError::kMalformed);
  EXPECT_EQ(check(token + " "), VerifyError::kMalformed);
  EXPECT_EQ(check(" " + token), VerifyError::kMalformed);
  EXPECT_EQ(check(token + "\n"), VerifyError::kMalformed);
  std::string standard = parts.signature;
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != parts.signature) {
    EXPECT_EQ(check(parts.header + "." + parts.payload + "." + standard), VerifyError::kMalformed);
  }
  EXPECT_EQ(check(parts.header + "." + parts.payload + ".a+b/"), VerifyError::kMalformed);
  EXPECT_EQ(check(parts.header + "." + parts.payload + ".A"), VerifyError::kMalformed);  // length 1 mod 4
}

// The same signature bytes spelled with non-zero spare bits: refused, so a
// token has exactly one accepted spelling.
TEST_F(JwtAttack, NonCanonicalSignatureEncoding) {
  Parts parts = split(hs256(payload()));
  ASSERT_EQ(parts.signature.size(), 43u);  // 32 bytes: the last character has 2 spare bits
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t value = alphabet.find(parts.signature.back());
  ASSERT_EQ(value & 3, 0u);
  parts.signature.back() = alphabet[value | 1];
  EXPECT_EQ(check(join(parts)), VerifyError::kMalformed);
}

TEST_F(JwtAttack, HeaderNotJson) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), "not json", payload())), VerifyError::kMalformed);
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"(["HS256"])", payload())), VerifyError::kMalformed);
}

TEST_F(JwtAttack, PayloadNotAJsonObject) {
  EXPECT_EQ(check(hs256("not json")), VerifyError::kMalformed);
  EXPECT_EQ(check(hs256(R"(["sub","alice"])")), VerifyError::kMalformed);
  EXPECT_EQ(check(hs256("\"alice\"")), VerifyError::kMalformed);
}

TEST_F(JwtAttack, DuplicateHeaderOrClaim) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"HS256","alg":"none"})", payload())),
            VerifyError::kMalformed);
  EXPECT_EQ(check(hs256(R"({"sub":"alice","sub":"admin"})")), VerifyError::kMalformed);
}

TEST_F(JwtAttack, OversizeToken) {
  const std::string token = hs256(payload());
  options_.max_token_size = token.size();
  EXPECT_EQ(check(token), VerifyError::kNone);
  options_.max_token_size = token.size() - 1;
  EXPECT_EQ(check(token), VerifyError::kTooLarge);
  options_.max_token_size = 8192;
  EXPECT_EQ(check(std::string(8193, 'A')), VerifyError::kTooLarge);
  EXPECT_EQ(check(hs256(R"({"pad":")" + std::string(8192, 'x') + "\"}")), VerifyError::kTooLarge);
}

TEST_F(JwtAttack, TypOtherThanJwt) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"HS256","typ":"JWE"})", payload())),
            VerifyError::kMalformed);
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"HS256","typ":"jwt"})", payload())),
            VerifyError::kNone);
}

// --- signatures ---

// OpenSSL's native ECDSA form (DER) is not the JOSE form and is refused.
TEST_F(JwtAttack, EcdsaSignatureInDerForm) {
  Parts parts = split(sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload()));
  std::string der;
  ASSERT_TRUE(ecdsa_raw_to_der(decoded(parts.signature), 64, &der));
  parts.signature = base64url_encode(der);
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
}

TEST_F(JwtAttack, EcdsaSignatureOfZeros) {
  Parts parts = split(sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload()));
  parts.signature = base64url_encode(std::string(64, '\0'));
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
}

TEST_F(JwtAttack, TruncatedSignature) {
  for (const std::string& token :
       {hs256(payload()), sign_with_private_key_pem(Algorithm::kRS256, rsa_key().private_pem, "rs256", payload()),
        sign_with_private_key_pem(Algorithm::kES256, p256_key().private_pem, "es256", payload()),
        sign_with_private_key_pem(Algorithm::kEdDSA, ed25519_key().private_pem, "ed", payload())}) {
    Parts parts = split(token);
    const std::string signature = decoded(parts.signature);
    parts.signature = base64url_encode(signature.substr(0, signature.size() - 1));
    EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature) << token;
    parts.signature = "";
    EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature) << token;
  }
}

TEST_F(JwtAttack, ExtendedSignature) {
  Parts parts = split(hs256(payload()));
  parts.signature = base64url_encode(decoded(parts.signature) + std::string(1, '\0'));
  EXPECT_EQ(check(join(parts)), VerifyError::kBadSignature);
}

// --- header extensions and keys ---

TEST_F(JwtAttack, CritHeader) {
  EXPECT_EQ(
      check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"HS256","crit":["exp"],"exp":1})", payload())),
      VerifyError::kMalformed);
}

TEST_F(JwtAttack, KidNotFound) {
  EXPECT_EQ(check(sign_hmac(Algorithm::kHS256, default_secret(), "nope", payload())), VerifyError::kUnknownKey);
  KeySet only_kid;
  ASSERT_TRUE(only_kid.add_hmac_secret("k", Algorithm::kHS256, default_secret()).ok());
  EXPECT_EQ(verify(hs256(payload()), only_kid, options_, nullptr), VerifyError::kUnknownKey);
  EXPECT_EQ(verify(hs256(payload()), KeySet(), options_, nullptr), VerifyError::kUnknownKey);
}

TEST_F(JwtAttack, KidMustBeAString) {
  EXPECT_EQ(check(hmac_token(Algorithm::kHS256, default_secret(), R"({"alg":"HS256","kid":0})", payload())),
            VerifyError::kMalformed);
}

// --- claims ---

TEST_F(JwtAttack, NonStringSubject) {
  EXPECT_EQ(check(hs256(R"({"sub":1234})")), VerifyError::kBadClaims);
  EXPECT_EQ(check(hs256(R"({"sub":{"id":"admin"}})")), VerifyError::kBadClaims);
}

TEST_F(JwtAttack, NonNumericExpiry) {
  EXPECT_EQ(check(hs256(R"({"exp":"never"})")), VerifyError::kBadClaims);
  EXPECT_EQ(check(hs256(R"({"exp":null})")), VerifyError::kBadClaims);
  EXPECT_EQ(check(hs256(R"({"exp":1e400})")), VerifyError::kMalformed);  // not a finite JSON number
}

TEST_F(JwtAttack, ClaimsUntouchedOnFailure) {
  claims_.subject = "before";
  EXPECT_EQ(check(hs256(R"({"sub":"alice","exp":1})")), VerifyError::kExpired);
  EXPECT_EQ(claims_.subject, "before");
}

TEST_F(JwtAttack, DescriptionsCarryNoTokenContent) {
  const std::string token = hs256(R"({"sub":"secret-user","exp":1})");
  const VerifyError error = check(token);
  ASSERT_EQ(error, VerifyError::kExpired);
  EXPECT_EQ(describe(error).find("secret-user"), std::string_view::npos);
  EXPECT_EQ(describe(error), "token expired");
}

}  // namespace
}  // namespace switchboard::auth::testing
