// JWS carries an ECDSA signature as raw r||s, each big-endian and padded to
// the curve size (RFC 7518 §3.4); OpenSSL signs and verifies the DER
// ECDSA-Sig-Value. These convert between the two through OpenSSL's
// ECDSA_SIG, without touching the math.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::auth {

// False unless raw is exactly raw_size bytes (64 for ES256, 96 for ES384):
// a DER signature or a truncated one is refused here, before any EVP call.
bool ecdsa_raw_to_der(std::string_view raw, std::size_t raw_size, std::string* der);

// False when der does not parse or r or s does not fit raw_size / 2 bytes.
bool ecdsa_der_to_raw(std::string_view der, std::size_t raw_size, std::string* raw);

}  // namespace switchboard::auth
