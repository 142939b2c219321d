// base64url without padding (RFC 4648 §5, as JWS uses it: RFC 7515 §2).
#pragma once

#include <string>
#include <string_view>

namespace switchboard::auth {

std::string base64url_encode(std::string_view bytes);

// Strict: only the 64 URL-safe characters, no '=' padding, no whitespace,
// a length that is not 1 mod 4, and the unused low bits of the last
// character zero (RFC 4648 §3.5), so every byte string has exactly one
// spelling. On failure *bytes is unspecified.
bool base64url_decode(std::string_view text, std::string* bytes);

// The same checks without decoding.
bool is_base64url(std::string_view text);

}  // namespace switchboard::auth
