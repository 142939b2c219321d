// libFuzzer target for token verification (src/auth): whatever a client puts
// in ?token=, Authorization or `connect` reaches auth::verify, and whatever
// an operator's JWKS file holds reaches KeySet::add_jwks. Neither may crash,
// leak or read out of bounds, whatever the bytes.
//
// Input layout: byte 0 even: the rest is a token, verified against an HS256
// secret (no kid) and an ES256 key (kid "ec"); odd: the rest is a JWKS
// document. Seeds in fuzz/corpus/jwt/ follow this layout.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jwt_verify.h"
#include "auth/key_set.h"

namespace {

using switchboard::auth::Algorithm;
using switchboard::auth::Claims;
using switchboard::auth::KeySet;
using switchboard::auth::VerifyError;
using switchboard::auth::VerifyOptions;

// The secret the seed tokens were signed with.
constexpr std::string_view kSecret = "fuzzing-secret-that-is-32-bytes!";

std::string ec_public_pem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

const KeySet& keys() {
  static const KeySet set = [] {
    KeySet built;
    if (!built.add_hmac_secret("", Algorithm::kHS256, std::string(kSecret)).ok()) std::abort();
    if (!built.add_public_key_pem("ec", Algorithm::kES256, ec_public_pem()).ok()) std::abort();
    return built;
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    VerifyOptions options;
    options.now = 1'700'000'000;
    options.leeway_s = 5;
    Claims claims;
    const VerifyError error = switchboard::auth::verify(rest, keys(), options, &claims);
    // A verified token has three parts: anything else passing is a bug.
    if (error == VerifyError::kNone && std::count(rest.begin(), rest.end(), '.') != 2) std::abort();
  } else {
    KeySet set;
    (void)set.add_jwks(rest);
  }
  return 0;
}
