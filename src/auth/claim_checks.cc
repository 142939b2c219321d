#include "auth/claim_checks.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace switchboard::auth {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? kMax : kMin;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b > 0 ? kMin : kMax;
}

}  // namespace

VerifyError check_claims(const Claims& claims, const VerifyOptions& options) {
  const auto leeway = static_cast<std::int64_t>(std::min<std::uint64_t>(options.leeway_s, kMax));
  if (claims.expires_at && options.now >= saturating_add(*claims.expires_at, leeway)) return VerifyError::kExpired;
  if (claims.not_before && options.now < saturating_sub(*claims.not_before, leeway)) {
    return VerifyError::kNotYetValid;
  }
  if (claims.issued_at && options.now < saturating_sub(*claims.issued_at, leeway)) {
    return VerifyError::kIssuedInFuture;
  }
  if (!options.issuer.empty() && claims.issuer != options.issuer) return VerifyError::kWrongIssuer;
  if (!options.audience.empty() &&
      std::find(claims.audience.begin(), claims.audience.end(), options.audience) == claims.audience.end()) {
    return VerifyError::kWrongAudience;
  }
  if (options.require_exp && !claims.expires_at) return VerifyError::kMissingExpiry;
  const bool subscription = claims.channel.has_value();
  if (options.use == TokenUse::kConnection && subscription) return VerifyError::kNotConnectionToken;
  if (options.use == TokenUse::kSubscription && !subscription) return VerifyError::kNotSubscriptionToken;
  return VerifyError::kNone;
}

}  // namespace switchboard::auth
