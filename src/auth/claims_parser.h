// Reads a verified JWT payload into Claims: JSON types only, no clock or
// issuer checks (claim_checks.h does those).
#pragma once

#include <string_view>

#include "auth/claims.h"
#include "auth/verify_error.h"

namespace switchboard::auth {

// kMalformed: not a JSON object, or a duplicate claim name (RFC 7519 §4).
// kBadClaims: "sub", "iss", "channel" not strings; "exp", "nbf", "iat" not
// NumericDates (an integer that fits int64_t, or a non-negative real below
// 2^63, truncated); "aud" neither a string nor an array of strings;
// "channels" not an array of strings; "send_to" not an array of strings.
// Unknown claims are ignored.
// *claims is written only on kNone. May throw std::bad_alloc.
VerifyError parse_claims(std::string_view json, Claims* claims);

}  // namespace switchboard::auth
