// Makes compact JWS tokens: development tokens (`switchboard token`) and
// tests. The server itself only verifies.
#pragma once

#include <string>
#include <string_view>

#include "auth/algorithm.h"

namespace switchboard::auth {

// header.payload.signature with header {"alg":...,"typ":"JWT"} plus "kid"
// when kid is not "". payload_json is used verbatim: the caller makes it a
// JSON object. The secret length is not checked here; KeySet refuses to
// verify with one shorter than the hash. Throws std::runtime_error when the
// algorithm is not HS* or OpenSSL fails.
std::string sign_hmac(Algorithm algorithm, std::string_view secret, std::string_view kid,
                      std::string_view payload_json);

// The same with an unencrypted PEM private key for RS*, PS*, ES* or EdDSA.
// ES* signatures come out as raw r||s (RFC 7518 §3.4), not DER. Throws
// std::runtime_error when the key does not parse, does not fit the
// algorithm (key_check.h), or signing fails.
std::string sign_with_private_key_pem(Algorithm algorithm, std::string_view private_pem, std::string_view kid,
                                      std::string_view payload_json);

}  // namespace switchboard::auth
