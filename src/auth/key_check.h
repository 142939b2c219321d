// Does a key fit the algorithm it is pinned to? Run once when a key is
// added (from PEM or JWKS) or used to sign, never per token.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/algorithm.h"
#include "base/result.h"

namespace switchboard::auth {

// Success when `key` can serve `algorithm`, else a one-line reason:
//   RS*, PS*  an RSA key ("rsaEncryption"; PSS-restricted "RSA-PSS" keys are
//             not supported) of at least 2048 bits (RFC 7518 §3.3, §3.5)
//   ES256     an EC key on P-256; ES384 on P-384 (RFC 7518 §3.4), and the
//             public point passes OpenSSL's public-key check
//   EdDSA     an Ed25519 key (RFC 8037; Ed448 is not supported)
//   HS*       never: an HMAC key is a secret, not an EVP_PKEY
base::Result<void> check_key_for_algorithm(Algorithm algorithm, EVP_PKEY* key);

// Success when `secret` can serve `algorithm` as an HMAC key: the algorithm is
// HS256/384/512 and the secret at least as long as its hash (32, 48, 64
// bytes; RFC 7518 §3.2). The one check for every place a secret is taken:
// the server's key set and JWKS oct keys, --print-config, `switchboard token`.
base::Result<void> check_hmac_secret(Algorithm algorithm, std::string_view secret);

}  // namespace switchboard::auth
