// Owning handles for the OpenSSL objects src/auth creates, so every early
// return frees what it allocated. Private to src/auth.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace switchboard::auth {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* object) const { Free(object); }
};

// BIO_free returns int; wrap it so it fits the deleter shape.
inline void free_bio(BIO* bio) { BIO_free(bio); }

using BioHandle = std::unique_ptr<BIO, OpenSslDeleter<BIO, free_bio>>;
using BignumHandle = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using EcdsaSigHandle = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG, ECDSA_SIG_free>>;
using MacCtxHandle = std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using MdCtxHandle = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ParamBuildHandle = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsHandle = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxHandle = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using PkeyHandle = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Handle = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;

// A read-only memory BIO over `bytes` (which must outlive it).
// Null when the size does not fit BIO's int length.
inline BioHandle memory_bio(const void* bytes, std::size_t size) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioHandle(BIO_new_mem_buf(bytes, static_cast<int>(size)));
}

}  // namespace switchboard::auth
