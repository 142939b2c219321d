#include "auth/verify_error.h"

namespace switchboard::auth {

std::string_view describe(VerifyError error) {
  switch (error) {
    case VerifyError::kNone:
      return "ok";
    case VerifyError::kTooLarge:
      return "token too large";
    case VerifyError::kMalformed:
      return "malformed token";
    case VerifyError::kUnsupportedAlgorithm:
      return "unsupported algorithm";
    case VerifyError::kUnknownKey:
      return "unknown signing key";
    case VerifyError::kAlgorithmMismatch:
      return "algorithm not allowed for this key";
    case VerifyError::kBadSignature:
      return "bad signature";
    case VerifyError::kBadClaims:
      return "invalid claims";
    case VerifyError::kExpired:
      return "token expired";
    case VerifyError::kNotYetValid:
      return "token not yet valid";
    case VerifyError::kIssuedInFuture:
      return "token issued in the future";
    case VerifyError::kWrongIssuer:
      return "wrong issuer";
    case VerifyError::kWrongAudience:
      return "wrong audience";
    case VerifyError::kMissingExpiry:
      return "token has no exp";
    case VerifyError::kNotConnectionToken:
      return "a subscription token is not a connection token";
    case VerifyError::kNotSubscriptionToken:
      return "not a subscription token (no channel claim)";
  }
  return "unknown error";
}

}  // namespace switchboard::auth
