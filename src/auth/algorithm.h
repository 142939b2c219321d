// The JWS algorithms Switchboard verifies (RFC 7518 §3.1, RFC 8037 §3.1)
// and what each one needs from OpenSSL. "none" is deliberately absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard::auth {

enum class Algorithm : std::uint8_t {
  kHS256,
  kHS384,
  kHS512,
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kEdDSA,
};

// The "alg" header value, case-sensitive as RFC 7515 §4.1.1 requires:
// "HS256" ... "EdDSA". "none" and anything else give nullopt.
std::optional<Algorithm> algorithm_from_name(std::string_view name);
std::string_view algorithm_name(Algorithm algorithm);

// How a signature is made; decides the key type and the EVP calls.
enum class SignatureScheme : std::uint8_t {
  kHmac,      // HS*: RFC 7518 §3.2
  kRsaPkcs1,  // RS*: RSASSA-PKCS1-v1_5, §3.3
  kRsaPss,    // PS*: RSASSA-PSS, MGF1 with the same hash, salt = hash size, §3.5
  kEcdsa,     // ES*: raw r||s, §3.4
  kEdDsa,     // EdDSA over Ed25519, RFC 8037 (hashing is part of the scheme)
};

SignatureScheme signature_scheme(Algorithm algorithm);

// The OpenSSL digest name ("SHA256", "SHA384", "SHA512"); nullptr for
// EdDSA, which takes no separate digest.
const char* digest_name(Algorithm algorithm);

// The hash output size in bytes: 32, 48 or 64; 0 for EdDSA. For HS* it is
// also the shortest secret accepted (RFC 7518 §3.2).
std::size_t digest_size(Algorithm algorithm);

// ES256: 64, ES384: 96 (two big-endian integers of the curve's size,
// RFC 7518 §3.4); 0 for every other algorithm.
std::size_t ecdsa_signature_size(Algorithm algorithm);

}  // namespace switchboard::auth
