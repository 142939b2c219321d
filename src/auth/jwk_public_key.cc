#include "auth/jwk_public_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "auth/openssl_handles.h"

namespace switchboard::auth {
namespace {

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

// EVP_PKEY_fromdata with the public-key selection: OpenSSL validates the
// parameters as it imports them.
std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM* params) {
  PkeyCtxHandle context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (context == nullptr || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

}  // namespace

base::Result<std::shared_ptr<EVP_PKEY>> rsa_public_key(std::string_view n, std::string_view e) {
  // OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS); also keeps the
  // sizes within BN_bin2bn's int.
  constexpr std::size_t kMaxModulusBytes = 16384 / 8;
  if (n.size() > kMaxModulusBytes || e.size() > kMaxModulusBytes) {
    return base::Error("RSA key longer than 16384 bits");
  }
  BignumHandle modulus(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
  BignumHandle exponent(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
  ParamBuildHandle build(OSSL_PARAM_BLD_new());
  std::shared_ptr<EVP_PKEY> key;
  if (modulus != nullptr && exponent != nullptr && build != nullptr &&
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) == 1 &&
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) == 1) {
    ParamsHandle params(OSSL_PARAM_BLD_to_param(build.get()));
    if (params != nullptr) key = from_params("RSA", params.get());
  }
  ERR_clear_error();
  if (key == nullptr) return base::Error("invalid RSA parameters");
  return key;
}

base::Result<std::shared_ptr<EVP_PKEY>> ec_public_key(const char* group, std::string_view x, std::string_view y) {
  // SEC 1 §2.3.3 uncompressed point: 0x04 || x || y.
  std::string point;
  point.reserve(1 + x.size() + y.size());
  point += '\x04';
  point.append(x);
  point.append(y);
  ParamBuildHandle build(OSSL_PARAM_BLD_new());
  std::shared_ptr<EVP_PKEY> key;
  if (build != nullptr && OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1) {
    ParamsHandle params(OSSL_PARAM_BLD_to_param(build.get()));
    if (params != nullptr) key = from_params("EC", params.get());
  }
  ERR_clear_error();
  if (key == nullptr) return base::Error("invalid EC point");
  return key;
}

base::Result<std::shared_ptr<EVP_PKEY>> ed25519_public_key(std::string_view x) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bytes_of(x), x.size());
  ERR_clear_error();
  if (key == nullptr) return base::Error("invalid Ed25519 public key");
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

}  // namespace switchboard::auth
