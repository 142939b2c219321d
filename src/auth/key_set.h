// The keys a server trusts to sign tokens, by "kid".
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/algorithm.h"
#include "base/result.h"
#include "base/string_hash.h"

namespace switchboard::auth {

struct VerificationKey;

// Each key pins its algorithm: a token's "alg" header must equal it and
// never chooses it. This is what defeats algorithm confusion (an HS256
// token "signed" with an RSA public key as the HMAC secret meets a key
// pinned to RS256 and fails).
//
// Threading: built on one thread (config load), then only read. The const
// members may be called from any number of threads at once; copies share
// the immutable keys, so copying is cheap.
class KeySet {
 public:
  // Each add_* returns success or a one-line reason for a config error
  // message; on failure the set is unchanged. kid "" is the key for tokens
  // without a "kid" header. A kid already present is an error.

  // HS256/384/512 only; the secret must be at least the hash size (32, 48,
  // 64 bytes; RFC 7518 §3.2).
  base::Result<void> add_hmac_secret(std::string kid, Algorithm algorithm, std::string secret);

  // RS*/PS* (RSA >= 2048 bits), ES256 (P-256), ES384 (P-384), EdDSA
  // (Ed25519); the key type must match the algorithm. `pem` is a public key,
  // a certificate, or an unencrypted private key of which only the public
  // half is kept (see pem_key.h).
  base::Result<void> add_public_key_pem(std::string kid, Algorithm algorithm, std::string_view pem);

  // {"keys": [...]}, all or nothing; rules in jwks.h.
  base::Result<void> add_jwks(std::string_view jwks_json);

  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }

  // The key for a token's "kid" ("" for a token without one); null when
  // there is none. Valid while this set lives and is not modified.
  const VerificationKey* find(std::string_view kid) const;

 private:
  base::Result<void> add(std::string kid, std::shared_ptr<const VerificationKey> key);

  std::unordered_map<std::string, std::shared_ptr<const VerificationKey>, base::StringHash, std::equal_to<>> keys_;
};

}  // namespace switchboard::auth
