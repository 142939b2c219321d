// Public keys built from JWK members (RFC 7518 §6, RFC 8037 §2), already
// base64url-decoded. Each returns null with *error set when OpenSSL refuses
// the parameters.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace switchboard::auth {

// RFC 7518 §6.3.1: modulus n and exponent e, unsigned big-endian.
std::shared_ptr<EVP_PKEY> rsa_public_key(std::string_view n, std::string_view e, std::string* error);

// RFC 7518 §6.2.1: the affine coordinates, each exactly the curve's size.
// `group` is OpenSSL's name ("prime256v1", "secp384r1").
std::shared_ptr<EVP_PKEY> ec_public_key(const char* group, std::string_view x, std::string_view y,
                                        std::string* error);

// RFC 8037 §2: the 32-byte Ed25519 public key.
std::shared_ptr<EVP_PKEY> ed25519_public_key(std::string_view x, std::string* error);

}  // namespace switchboard::auth
