#include "auth/claim_checks.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

VerifyOptions at(std::int64_t now, std::uint64_t leeway = 0) {
  VerifyOptions options;
  options.now = now;
  options.leeway_s = leeway;
  return options;
}

Claims expiring(std::int64_t exp) {
  Claims claims;
  claims.expires_at = exp;
  return claims;
}

TEST(ClaimChecks, NoClaimsPass) { EXPECT_EQ(check_claims(Claims{}, at(kNow)), VerifyError::kNone); }

// RFC 7519 §4.1.4: valid only before exp, so exp itself is too late.
TEST(ClaimChecks, ExpIsExclusive) {
  EXPECT_EQ(check_claims(expiring(kNow + 1), at(kNow)), VerifyError::kNone);
  EXPECT_EQ(check_claims(expiring(kNow), at(kNow)), VerifyError::kExpired);
  EXPECT_EQ(check_claims(expiring(kNow - 1), at(kNow)), VerifyError::kExpired);
}

TEST(ClaimChecks, LeewayExtendsExp) {
  EXPECT_EQ(check_claims(expiring(kNow - 30), at(kNow, 31)), VerifyError::kNone);
  EXPECT_EQ(check_claims(expiring(kNow - 30), at(kNow, 30)), VerifyError::kExpired);
}

TEST(ClaimChecks, NotBefore) {
  Claims claims;
  claims.not_before = kNow + 10;
  EXPECT_EQ(check_claims(claims, at(kNow)), VerifyError::kNotYetValid);
  EXPECT_EQ(check_claims(claims, at(kNow, 10)), VerifyError::kNone);
  EXPECT_EQ(check_claims(claims, at(kNow + 10)), VerifyError::kNone);
}

TEST(ClaimChecks, IssuedInTheFuture) {
  Claims claims;
  claims.issued_at = kNow + 60;
  EXPECT_EQ(check_claims(claims, at(kNow)), VerifyError::kIssuedInFuture);
  EXPECT_EQ(check_claims(claims, at(kNow, 60)), VerifyError::kNone);
  claims.issued_at = kNow;
  EXPECT_EQ(check_claims(claims, at(kNow)), VerifyError::kNone);
}

TEST(ClaimChecks, ExtremesSaturate) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::uint64_t kHugeLeeway = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(check_claims(expiring(kMax), at(kNow, kHugeLeeway)), VerifyError::kNone);
  EXPECT_EQ(check_claims(expiring(kMin), at(kNow)), VerifyError::kExpired);
  EXPECT_EQ(check_claims(expiring(kMin), at(kMax)), VerifyError::kExpired);
  Claims claims;
  claims.not_before = kMin + 5;  // nbf - leeway saturates at kMin instead of wrapping to the future
  EXPECT_EQ(check_claims(claims, at(kMin, 10)), VerifyError::kNone);
  claims.not_before = kMax;
  EXPECT_EQ(check_claims(claims, at(kMin, kHugeLeeway)), VerifyError::kNotYetValid);
}

TEST(ClaimChecks, Issuer) {
  Claims claims;
  VerifyOptions options = at(kNow);
  options.issuer = "https://id.example";
  EXPECT_EQ(check_claims(claims, options), VerifyError::kWrongIssuer);
  claims.issuer = "https://evil.example";
  EXPECT_EQ(check_claims(claims, options), VerifyError::kWrongIssuer);
  claims.issuer = "https://id.example";
  EXPECT_EQ(check_claims(claims, options), VerifyError::kNone);
}

TEST(ClaimChecks, Audience) {
  Claims claims;
  VerifyOptions options = at(kNow);
  options.audience = "switchboard";
  EXPECT_EQ(check_claims(claims, options), VerifyError::kWrongAudience);
  claims.audience = {"other", "more"};
  EXPECT_EQ(check_claims(claims, options), VerifyError::kWrongAudience);
  claims.audience = {"other", "switchboard"};
  EXPECT_EQ(check_claims(claims, options), VerifyError::kNone);
}

TEST(ClaimChecks, ExpiryIsReportedFirst) {
  Claims claims = expiring(kNow - 1);
  claims.not_before = kNow + 10;
  VerifyOptions options = at(kNow);
  options.issuer = "x";
  EXPECT_EQ(check_claims(claims, options), VerifyError::kExpired);
}

TEST(ClaimChecks, RequireExp) {
  VerifyOptions options = at(kNow);
  options.require_exp = true;
  EXPECT_EQ(check_claims(Claims{}, options), VerifyError::kMissingExpiry);
  EXPECT_EQ(check_claims(expiring(kNow + 1), options), VerifyError::kNone);
  EXPECT_EQ(check_claims(expiring(kNow - 1), options), VerifyError::kExpired);
  options.require_exp = false;
  EXPECT_EQ(check_claims(Claims{}, options), VerifyError::kNone);
}

// A "channel" claim, whatever its value, makes a subscription token; neither
// kind passes for the other.
TEST(ClaimChecks, ConnectionAndSubscriptionTokensAreNotInterchangeable) {
  Claims connection = expiring(kNow + 60);
  connection.channels = std::vector<std::string>{"news"};
  Claims subscription = expiring(kNow + 60);
  subscription.channel = "$room";
  Claims empty_channel = expiring(kNow + 60);
  empty_channel.channel = "";
  VerifyOptions options = at(kNow);
  options.use = TokenUse::kConnection;
  EXPECT_EQ(check_claims(connection, options), VerifyError::kNone);
  EXPECT_EQ(check_claims(subscription, options), VerifyError::kNotConnectionToken);
  EXPECT_EQ(check_claims(empty_channel, options), VerifyError::kNotConnectionToken);
  options.use = TokenUse::kSubscription;
  EXPECT_EQ(check_claims(subscription, options), VerifyError::kNone);
  EXPECT_EQ(check_claims(connection, options), VerifyError::kNotSubscriptionToken);
  EXPECT_EQ(check_claims(Claims{}, options), VerifyError::kNotSubscriptionToken);
}

TEST(ClaimChecks, ConnectionIsTheDefaultUse) {
  Claims subscription;
  subscription.channel = "$room";
  EXPECT_EQ(check_claims(subscription, at(kNow)), VerifyError::kNotConnectionToken);
}

}  // namespace
}  // namespace switchboard::auth
