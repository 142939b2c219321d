#include "auth/digest.h"

#include <array>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "auth/openssl_handles.h"

namespace switchboard::auth {
namespace {

const EVP_MD* fetch_or_null(const char* name) { return name == nullptr ? nullptr : EVP_MD_fetch(nullptr, name, nullptr); }

EVP_MAC* fetched_hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

const EVP_MD* fetched_digest(Algorithm algorithm) {
  static const EVP_MD* const sha256 = fetch_or_null("SHA256");
  static const EVP_MD* const sha384 = fetch_or_null("SHA384");
  static const EVP_MD* const sha512 = fetch_or_null("SHA512");
  switch (digest_size(algorithm)) {
    case 32:
      return sha256;
    case 48:
      return sha384;
    case 64:
      return sha512;
    default:
      return nullptr;
  }
}

bool compute_hmac(Algorithm algorithm, std::string_view key, std::string_view data, std::string* mac) {
  const char* digest = digest_name(algorithm);
  if (fetched_hmac() == nullptr || digest == nullptr || signature_scheme(algorithm) != SignatureScheme::kHmac) {
    return false;
  }
  MacCtxHandle context(EVP_MAC_CTX_new(fetched_hmac()));
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key means "keep the previous key" to EVP_MAC_init, so an empty
  // key still gets a valid pointer.
  static const unsigned char kEmpty = 0;
  const auto* key_bytes = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t out_size = 0;
  const bool ok = context != nullptr && EVP_MAC_init(context.get(), key_bytes, key.size(), params) == 1 &&
                  EVP_MAC_update(context.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
                  EVP_MAC_final(context.get(), out.data(), &out_size, out.size()) == 1;
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  mac->assign(reinterpret_cast<const char*>(out.data()), out_size);
  return true;
}

}  // namespace switchboard::auth
