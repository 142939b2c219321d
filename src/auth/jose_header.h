// The JOSE header of a JWS (RFC 7515 §4): which algorithm and which key.
#pragma once

#include <string>
#include <string_view>

#include "auth/algorithm.h"
#include "auth/verify_error.h"

namespace switchboard::auth {

struct JoseHeader {
  Algorithm algorithm = Algorithm::kHS256;
  std::string key_id;  // "kid"; "" when absent
};

// Reads the decoded header JSON. kMalformed: not a JSON object, a duplicate
// member, "alg" missing or not a string, "typ" present but not "JWT"
// (ASCII case-insensitive, RFC 7519 §5.1), "kid" not a string, or any
// "crit" (RFC 7515 §4.1.11: we understand no extensions, so must refuse).
// kUnsupportedAlgorithm: "alg" is "none" in any case, or unknown.
// Other members ("jwk", "jku", "x5u", "x5c", ...) are ignored: keys come only
// from the KeySet, never from the token. *header is written only on kNone.
VerifyError parse_jose_header(std::string_view json, JoseHeader* header);

}  // namespace switchboard::auth
