// Keys generated once per test process (RSA generation is slow), their PEM
// forms, and JWK JSON built from their parameters; plus a helper to
// assemble hand-made tokens.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/algorithm.h"

namespace switchboard::auth::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string private_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_pem;   // SubjectPublicKeyInfo "PUBLIC KEY"
};

const TestKey& rsa_key();         // 2048 bits
const TestKey& other_rsa_key();   // 2048 bits, a different key
const TestKey& rsa_1024_key();    // too short for a KeySet
const TestKey& p256_key();
const TestKey& other_p256_key();
const TestKey& p384_key();
const TestKey& ed25519_key();
const TestKey& ed448_key();       // a type Switchboard does not support

// JWK objects (one key, as JSON text) for the public half of a test key.
// `extra` is spliced in as further members, e.g. R"("use":"enc")".
std::string rsa_jwk(const TestKey& key, std::string_view kid, std::string_view alg, std::string_view extra = "");
std::string ec_jwk(const TestKey& key, std::string_view crv, std::string_view kid, std::string_view extra = "");
std::string okp_jwk(const TestKey& key, std::string_view kid, std::string_view extra = "");
std::string oct_jwk(std::string_view secret, std::string_view kid, std::string_view alg, std::string_view extra = "");

// {"keys":[a,b,...]} from JWK objects joined with commas.
std::string jwks(std::string_view joined_keys);

// base64url(header_json) "." base64url(payload_json) "." base64url(signature).
std::string assemble(std::string_view header_json, std::string_view payload_json, std::string_view signature);

// A token with any header, HMAC-signed over exactly that header and payload.
std::string hmac_token(Algorithm algorithm, std::string_view secret, std::string_view header_json,
                       std::string_view payload_json);

// A token with any header, signed with a test key's private half (RS*, ES*
// in raw r||s form, EdDSA).
std::string key_token(Algorithm algorithm, const TestKey& key, std::string_view header_json,
                      std::string_view payload_json);

// The three parts of a compact token.
struct Parts {
  std::string header;
  std::string payload;
  std::string signature;
};
Parts split(std::string_view token);

// A secret of exactly `size` bytes.
std::string secret_of_size(std::size_t size);

}  // namespace switchboard::auth::testing
