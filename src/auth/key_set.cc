#include "auth/key_set.h"

#include <unordered_set>
#include <utility>
#include <vector>

#include "auth/jwks.h"
#include "auth/key_check.h"
#include "auth/pem_key.h"
#include "auth/verification_key.h"

namespace switchboard::auth {
namespace {

base::Error duplicate_kid(std::string_view kid) {
  if (kid.empty()) return base::Error("a key for tokens without \"kid\" is already set");
  return base::Error("duplicate kid \"" + std::string(kid) + "\"");
}

}  // namespace

base::Result<void> KeySet::add_hmac_secret(std::string kid, Algorithm algorithm, std::string secret) {
  if (const base::Result<void> checked = check_hmac_secret(algorithm, secret); !checked) return checked;
  return add(std::move(kid), std::make_shared<const VerificationKey>(algorithm, std::move(secret), nullptr));
}

base::Result<void> KeySet::add_public_key_pem(std::string kid, Algorithm algorithm, std::string_view pem) {
  if (signature_scheme(algorithm) == SignatureScheme::kHmac) {
    return base::Error(std::string(algorithm_name(algorithm)) + " takes a secret, not a public key");
  }
  base::Result<std::shared_ptr<EVP_PKEY>> parsed = public_key_from_pem(pem);
  if (!parsed) return base::Error(parsed.error());
  std::shared_ptr<EVP_PKEY> public_key = *std::move(parsed);
  if (const base::Result<void> checked = check_key_for_algorithm(algorithm, public_key.get()); !checked) {
    return checked;
  }
  return add(std::move(kid), std::make_shared<const VerificationKey>(algorithm, std::string(), std::move(public_key)));
}

base::Result<void> KeySet::add_jwks(std::string_view jwks_json) {
  base::Result<std::vector<JwksKey>> parsed = parse_jwks(jwks_json);
  if (!parsed) return base::Error(parsed.error());
  std::vector<JwksKey> loaded = *std::move(parsed);
  // All or nothing: check every kid before inserting any.
  std::unordered_set<std::string_view> seen;
  for (const JwksKey& entry : loaded) {
    if (keys_.contains(entry.key_id) || !seen.insert(entry.key_id).second) return duplicate_kid(entry.key_id);
  }
  for (JwksKey& entry : loaded) keys_.emplace(std::move(entry.key_id), std::move(entry.key));
  return {};
}

const VerificationKey* KeySet::find(std::string_view kid) const {
  const auto found = keys_.find(kid);
  return found == keys_.end() ? nullptr : found->second.get();
}

base::Result<void> KeySet::add(std::string kid, std::shared_ptr<const VerificationKey> key) {
  if (keys_.contains(kid)) return duplicate_kid(kid);
  keys_.emplace(std::move(kid), std::move(key));
  return {};
}

}  // namespace switchboard::auth
