// Verifies a compact JWS JWT (RFC 7515 §7.1, RFC 7519 §7.2) against the
// trusted keys and reads its claims.
#pragma once

#include <string_view>

#include "auth/claims.h"
#include "auth/key_set.h"
#include "auth/verify_error.h"
#include "auth/verify_options.h"

namespace switchboard::auth {

// Steps, each failing with its own VerifyError:
//   1. size above options.max_token_size: kTooLarge, before any decoding;
//   2. exactly three strict base64url parts (base64url.h): kMalformed;
//   3. the header (jose_header.h): kMalformed / kUnsupportedAlgorithm;
//   4. the key for its "kid": kUnknownKey; the key's pinned algorithm must
//      equal "alg": kAlgorithmMismatch;
//   5. the signature over "header.payload" as sent: kBadSignature;
//   6. only then is the payload read (claims_parser.h): kMalformed /
//      kBadClaims, and checked (claim_checks.h): kExpired ... kWrongAudience,
//      kMissingExpiry, and the token's kind against options.use.
// *claims (may be null) is written only on kNone. Never throws: an
// allocation failure is reported as kMalformed. Safe to call from many
// threads at once with the same KeySet.
VerifyError verify(std::string_view token, const KeySet& keys, const VerifyOptions& options, Claims* claims);

}  // namespace switchboard::auth
