#include "auth/jwt_verify.h"

#include <string>
#include <utility>

#include "auth/base64url.h"
#include "auth/claim_checks.h"
#include "auth/claims_parser.h"
#include "auth/jose_header.h"
#include "auth/signature_check.h"
#include "auth/verification_key.h"

namespace switchboard::auth {
namespace {

// The three dot-separated parts of a compact JWS (RFC 7515 §7.1).
struct CompactParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload", exactly as sent
};

bool split_compact(std::string_view token, CompactParts* parts) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return false;
  parts->header = token.substr(0, first);
  parts->payload = token.substr(first + 1, second - first - 1);
  parts->signature = token.substr(second + 1);
  parts->signing_input = token.substr(0, second);
  return !parts->header.empty() && !parts->payload.empty() && is_base64url(parts->header) &&
         is_base64url(parts->payload) && is_base64url(parts->signature);
}

VerifyError verify_token(std::string_view token, const KeySet& keys, const VerifyOptions& options, Claims* claims) {
  if (token.size() > options.max_token_size) return VerifyError::kTooLarge;
  CompactParts parts;
  if (!split_compact(token, &parts)) return VerifyError::kMalformed;

  std::string decoded;
  if (!base64url_decode(parts.header, &decoded)) return VerifyError::kMalformed;
  JoseHeader header;
  if (const VerifyError error = parse_jose_header(decoded, &header); error != VerifyError::kNone) return error;

  const VerificationKey* key = keys.find(header.key_id);
  if (key == nullptr) return VerifyError::kUnknownKey;
  if (key->algorithm != header.algorithm) return VerifyError::kAlgorithmMismatch;

  if (!base64url_decode(parts.signature, &decoded)) return VerifyError::kMalformed;
  if (!verify_signature(*key, parts.signing_input, decoded)) return VerifyError::kBadSignature;

  // The payload is read only now that its signature is known to be good.
  if (!base64url_decode(parts.payload, &decoded)) return VerifyError::kMalformed;
  Claims parsed;
  if (const VerifyError error = parse_claims(decoded, &parsed); error != VerifyError::kNone) return error;
  if (const VerifyError error = check_claims(parsed, options); error != VerifyError::kNone) return error;
  if (claims != nullptr) *claims = std::move(parsed);
  return VerifyError::kNone;
}

}  // namespace

VerifyError verify(std::string_view token, const KeySet& keys, const VerifyOptions& options, Claims* claims) {
  // Everything below reports failures as values; only an allocation can
  // throw, and it must not unwind through the server's event loop.
  try {
    return verify_token(token, keys, options, claims);
  } catch (...) {
    return VerifyError::kMalformed;
  }
}

}  // namespace switchboard::auth
