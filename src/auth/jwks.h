// A JSON Web Key Set (RFC 7517 §5) read into verification keys.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/verification_key.h"
#include "base/result.h"

namespace switchboard::auth {

struct JwksKey {
  std::string key_id;
  std::shared_ptr<const VerificationKey> key;
};

// Reads {"keys": [...]}. Each key needs a non-empty "kid" and is pinned to
// one algorithm:
//   kty "RSA" (n, e)        "alg" required: RS256/384/512 or PS256/384/512
//   kty "EC" (crv, x, y)    crv P-256 -> ES256, P-384 -> ES384
//   kty "OKP" (crv, x)      crv Ed25519 -> EdDSA
//   kty "oct" (k)           "alg" required: HS256/384/512, k >= the hash size
// An "alg" on an EC or OKP key must agree with its curve. A key whose "use"
// is not "sig" is skipped. Private members ("d", ...) are ignored. Anything
// else wrong with a key is an error naming it (by kid or index), and the
// whole set is refused: a half-loaded set would fail later, per token, with
// a less clear reason.
base::Result<std::vector<JwksKey>> parse_jwks(std::string_view json);

}  // namespace switchboard::auth
