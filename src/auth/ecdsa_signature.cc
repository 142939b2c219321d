#include "auth/ecdsa_signature.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "auth/openssl_handles.h"

namespace switchboard::auth {

bool ecdsa_raw_to_der(std::string_view raw, std::size_t raw_size, std::string* der) {
  if (raw_size == 0 || raw_size % 2 != 0 || raw.size() != raw_size) return false;
  const int half = static_cast<int>(raw_size / 2);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BignumHandle r(BN_bin2bn(bytes, half, nullptr));
  BignumHandle s(BN_bin2bn(bytes + half, half, nullptr));
  EcdsaSigHandle signature(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || signature == nullptr || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  (void)r.release();
  (void)s.release();
  unsigned char* encoded = nullptr;
  const int length = i2d_ECDSA_SIG(signature.get(), &encoded);
  if (length <= 0) {
    ERR_clear_error();
    return false;
  }
  der->assign(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
  OPENSSL_free(encoded);
  return true;
}

bool ecdsa_der_to_raw(std::string_view der, std::size_t raw_size, std::string* raw) {
  if (raw_size == 0 || raw_size % 2 != 0) return false;
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = cursor + der.size();
  EcdsaSigHandle signature(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (signature == nullptr || cursor != end) {
    ERR_clear_error();
    return false;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(signature.get(), &r, &s);
  const int half = static_cast<int>(raw_size / 2);
  raw->assign(raw_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw->data());
  // BN_bn2binpad fails (-1) when the number needs more than `half` bytes.
  if (BN_bn2binpad(r, out, half) != half || BN_bn2binpad(s, out + half, half) != half) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace switchboard::auth
