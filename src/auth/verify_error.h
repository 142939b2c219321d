// Why a token was refused: one enumerator per failure, so the server maps
// them to an HTTP status or an error reply in one place.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchboard::auth {

enum class VerifyError : std::uint8_t {
  kNone,
  kTooLarge,              // longer than VerifyOptions::max_token_size; nothing decoded
  kMalformed,             // not three strict base64url parts, bad header or payload JSON, "crit", bad "typ"
  kUnsupportedAlgorithm,  // "alg" is "none" (any case) or not one Switchboard knows
  kUnknownKey,            // no key for the header's "kid" (or for no kid)
  kAlgorithmMismatch,     // the key is pinned to another algorithm than the header's "alg"
  kBadSignature,          // the signature does not verify with the key
  kBadClaims,             // a registered or Switchboard claim has the wrong JSON type
  kExpired,               // now >= exp + leeway
  kNotYetValid,           // now < nbf - leeway
  kIssuedInFuture,        // now < iat - leeway
  kWrongIssuer,           // "iss" is not VerifyOptions::issuer
  kWrongAudience,         // "aud" does not contain VerifyOptions::audience
  kMissingExpiry,         // no "exp" and VerifyOptions::require_exp
  kNotConnectionToken,    // a "channel" claim (a subscription token) where a connection token is due
  kNotSubscriptionToken,  // no "channel" claim (a connection token) where a subscription token is due
};

// A short lower-case phrase, e.g. "token expired". Never contains anything
// from the token, so it is safe to log and to send to the client.
std::string_view describe(VerifyError error);

}  // namespace switchboard::auth
