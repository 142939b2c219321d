#include "auth/pem_key.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/openssl_handles.h"

namespace switchboard::auth {
namespace {

// pem_password_cb that supplies no passphrase: an encrypted key fails to
// load instead of blocking on a terminal prompt.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return -1; }

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) { return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free); }

// Each attempt reads from a fresh BIO: a failed PEM read consumes input.
BioHandle bio_over(std::string_view pem) { return memory_bio(pem.data(), pem.size()); }

// Re-encodes the public half as SubjectPublicKeyInfo and decodes it, which
// leaves no private material in the result.
PkeyHandle public_half(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return nullptr;
  const unsigned char* cursor = der;
  PkeyHandle result(d2i_PUBKEY(nullptr, &cursor, length));
  OPENSSL_free(der);
  return result;
}

PkeyHandle read_public(std::string_view pem) {
  BioHandle bio = bio_over(pem);
  if (bio == nullptr) return nullptr;
  return PkeyHandle(PEM_read_bio_PUBKEY(bio.get(), nullptr, refuse_passphrase, nullptr));
}

PkeyHandle read_private(std::string_view pem) {
  BioHandle bio = bio_over(pem);
  if (bio == nullptr) return nullptr;
  return PkeyHandle(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
}

PkeyHandle read_certificate_key(std::string_view pem) {
  BioHandle bio = bio_over(pem);
  if (bio == nullptr) return nullptr;
  X509Handle certificate(PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (certificate == nullptr) return nullptr;
  return PkeyHandle(X509_get_pubkey(certificate.get()));
}

}  // namespace

base::Result<std::shared_ptr<EVP_PKEY>> public_key_from_pem(std::string_view pem) {
  PkeyHandle key = read_public(pem);
  if (key == nullptr) {
    if (PkeyHandle private_key = read_private(pem)) key = public_half(private_key.get());
  }
  if (key == nullptr) key = read_certificate_key(pem);
  // Failed attempts leave errors on this thread's queue; a TLS connection
  // on the same thread would otherwise read them as its own.
  ERR_clear_error();
  if (key == nullptr) return base::Error("not a PEM public key, unencrypted private key or certificate");
  return share(key.release());
}

base::Result<std::shared_ptr<EVP_PKEY>> private_key_from_pem(std::string_view pem) {
  PkeyHandle key = read_private(pem);
  ERR_clear_error();
  if (key == nullptr) return base::Error("not an unencrypted PEM private key");
  return share(key.release());
}

}  // namespace switchboard::auth
