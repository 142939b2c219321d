// Checks a JWS signature (RFC 7515 §5.2 step 8) with one trusted key.
#pragma once

#include <string_view>

#include "auth/verification_key.h"

namespace switchboard::auth {

// True only when `signature` (decoded bytes) is a valid signature of
// `signing_input` (the token's "header.payload" text) under `key`, with the
// key's pinned algorithm. HMAC tags are compared in constant time; ES*
// signatures must be raw r||s of the exact size. Leaves OpenSSL's error
// queue clear. Safe to call from many threads with the same key.
bool verify_signature(const VerificationKey& key, std::string_view signing_input, std::string_view signature);

}  // namespace switchboard::auth
