// Does a key fit the algorithm it is pinned to? Run once when a key is
// added (from PEM or JWKS) or used to sign, never per token.
#pragma once

#include <string>

#include <openssl/evp.h>

#include "auth/algorithm.h"

namespace switchboard::auth {

// "" when `key` can serve `algorithm`, else a one-line reason:
//   RS*, PS*  an RSA key ("rsaEncryption"; PSS-restricted "RSA-PSS" keys are
//             not supported) of at least 2048 bits (RFC 7518 §3.3, §3.5)
//   ES256     an EC key on P-256; ES384 on P-384 (RFC 7518 §3.4), and the
//             public point passes OpenSSL's public-key check
//   EdDSA     an Ed25519 key (RFC 8037; Ed448 is not supported)
//   HS*       never: an HMAC key is a secret, not an EVP_PKEY
std::string check_key_for_algorithm(Algorithm algorithm, EVP_PKEY* key);

}  // namespace switchboard::auth
