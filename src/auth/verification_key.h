// One trusted key as KeySet stores it. Immutable once built; KeySet shares
// it between copies through shared_ptr<const VerificationKey>, and verify()
// reads it from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/algorithm.h"

namespace switchboard::auth {

struct VerificationKey {
  VerificationKey(Algorithm pinned, std::string secret, std::shared_ptr<EVP_PKEY> key)
      : algorithm(pinned), hmac_secret(std::move(secret)), public_key(std::move(key)) {}
  VerificationKey(const VerificationKey&) = delete;
  VerificationKey& operator=(const VerificationKey&) = delete;
  // The secret could sign tokens: wipe it rather than leave it in freed memory.
  ~VerificationKey() { OPENSSL_cleanse(hmac_secret.data(), hmac_secret.size()); }

  // The only algorithm this key verifies: the token's "alg" must equal it.
  const Algorithm algorithm;
  // HS*: the shared secret; "" otherwise.
  std::string hmac_secret;
  // Every other algorithm: the public key (never a private one); null for HS*.
  const std::shared_ptr<EVP_PKEY> public_key;
};

}  // namespace switchboard::auth
