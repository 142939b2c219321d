// OpenSSL's hash and HMAC implementations, fetched once per process.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/algorithm.h"

namespace switchboard::auth {

// The algorithm's hash (SHA-256/384/512), fetched from the default provider
// once: an implicit fetch on every EVP call would look it up again each
// time. Immutable, safe from any thread. nullptr for EdDSA.
const EVP_MD* fetched_digest(Algorithm algorithm);

// HMAC(key, data) with the algorithm's hash through EVP_MAC. False when
// OpenSSL fails (the error queue is then cleared).
bool compute_hmac(Algorithm algorithm, std::string_view key, std::string_view data, std::string* mac);

}  // namespace switchboard::auth
