// Public keys built from JWK members (RFC 7518 §6, RFC 8037 §2), already
// base64url-decoded. Each returns the key, or why OpenSSL refused the
// parameters.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "base/result.h"

namespace switchboard::auth {

// RFC 7518 §6.3.1: modulus n and exponent e, unsigned big-endian.
base::Result<std::shared_ptr<EVP_PKEY>> rsa_public_key(std::string_view n, std::string_view e);

// RFC 7518 §6.2.1: the affine coordinates, each exactly the curve's size.
// `group` is OpenSSL's name ("prime256v1", "secp384r1").
base::Result<std::shared_ptr<EVP_PKEY>> ec_public_key(const char* group, std::string_view x, std::string_view y);

// RFC 8037 §2: the 32-byte Ed25519 public key.
base::Result<std::shared_ptr<EVP_PKEY>> ed25519_public_key(std::string_view x);

}  // namespace switchboard::auth
