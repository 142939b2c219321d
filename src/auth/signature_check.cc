#include "auth/signature_check.h"

#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "auth/digest.h"
#include "auth/ecdsa_signature.h"
#include "auth/openssl_handles.h"

namespace switchboard::auth {
namespace {

bool verify_hmac(const VerificationKey& key, std::string_view signing_input, std::string_view signature) {
  std::string expected;
  if (!compute_hmac(key.algorithm, key.hmac_secret, signing_input, &expected)) return false;
  // Length is public (it follows from the algorithm); the bytes are compared
  // in constant time so timing does not reveal a correct prefix.
  return signature.size() == expected.size() && CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

// RS*, PS*, ES* (after DER conversion) and EdDSA: one EVP_DigestVerify.
bool verify_public_key(const VerificationKey& key, std::string_view signing_input, std::string_view signature) {
  if (key.public_key == nullptr) return false;
  MdCtxHandle context(EVP_MD_CTX_new());
  if (context == nullptr) return false;
  EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
  // EdDSA hashes inside the scheme: OpenSSL takes a null digest for it.
  const EVP_MD* digest = fetched_digest(key.algorithm);
  if (key.algorithm != Algorithm::kEdDSA && digest == nullptr) return false;
  if (EVP_DigestVerifyInit(context.get(), &key_context, digest, nullptr, key.public_key.get()) != 1) return false;
  if (signature_scheme(key.algorithm) == SignatureScheme::kRsaPss) {
    // RFC 7518 §3.5: MGF1 with the same hash (OpenSSL's default) and a salt
    // as long as the hash; SALTLEN_DIGEST requires exactly that length.
    if (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

bool verify_any(const VerificationKey& key, std::string_view signing_input, std::string_view signature) {
  switch (signature_scheme(key.algorithm)) {
    case SignatureScheme::kHmac:
      return verify_hmac(key, signing_input, signature);
    case SignatureScheme::kEcdsa: {
      std::string der;
      if (!ecdsa_raw_to_der(signature, ecdsa_signature_size(key.algorithm), &der)) return false;
      return verify_public_key(key, signing_input, der);
    }
    case SignatureScheme::kRsaPkcs1:
    case SignatureScheme::kRsaPss:
    case SignatureScheme::kEdDsa:
      return verify_public_key(key, signing_input, signature);
  }
  return false;
}

}  // namespace

bool verify_signature(const VerificationKey& key, std::string_view signing_input, std::string_view signature) {
  const bool valid = verify_any(key, signing_input, signature);
  // A failed verification leaves errors on this thread's queue, where a TLS
  // connection served by the same thread would read them as its own.
  if (!valid) ERR_clear_error();
  return valid;
}

}  // namespace switchboard::auth
