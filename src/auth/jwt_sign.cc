#include "auth/jwt_sign.h"

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "auth/base64url.h"
#include "auth/digest.h"
#include "auth/ecdsa_signature.h"
#include "auth/key_check.h"
#include "auth/openssl_handles.h"
#include "auth/pem_key.h"

namespace switchboard::auth {
namespace {

// A JSON string literal (RFC 8259 §7) for the kid.
std::string json_string(std::string_view text) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// base64url(header) "." base64url(payload): what gets signed.
std::string signing_input(Algorithm algorithm, std::string_view kid, std::string_view payload_json) {
  std::string header = "{\"alg\":\"" + std::string(algorithm_name(algorithm)) + "\",\"typ\":\"JWT\"";
  if (!kid.empty()) header += ",\"kid\":" + json_string(kid);
  header += '}';
  return base64url_encode(header) + "." + base64url_encode(payload_json);
}

[[noreturn]] void fail(const std::string& reason) {
  ERR_clear_error();
  throw std::runtime_error(reason);
}

std::string sign_with_key(Algorithm algorithm, EVP_PKEY* key, std::string_view input) {
  MdCtxHandle context(EVP_MD_CTX_new());
  if (context == nullptr) fail("out of memory");
  EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
  if (EVP_DigestSignInit(context.get(), &key_context, fetched_digest(algorithm), nullptr, key) != 1) {
    fail("cannot initialise signing");
  }
  if (signature_scheme(algorithm) == SignatureScheme::kRsaPss &&
      (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    fail("cannot set PSS padding");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t size = 0;
  if (EVP_DigestSign(context.get(), nullptr, &size, data, input.size()) != 1) fail("signing failed");
  std::vector<unsigned char> signature(size);
  if (EVP_DigestSign(context.get(), signature.data(), &size, data, input.size()) != 1) fail("signing failed");
  return std::string(reinterpret_cast<const char*>(signature.data()), size);
}

}  // namespace

std::string sign_hmac(Algorithm algorithm, std::string_view secret, std::string_view kid,
                      std::string_view payload_json) {
  if (signature_scheme(algorithm) != SignatureScheme::kHmac) {
    throw std::runtime_error(std::string(algorithm_name(algorithm)) + " is not an HMAC algorithm");
  }
  const std::string input = signing_input(algorithm, kid, payload_json);
  std::string mac;
  if (!compute_hmac(algorithm, secret, input, &mac)) fail("HMAC failed");
  return input + "." + base64url_encode(mac);
}

std::string sign_with_private_key_pem(Algorithm algorithm, std::string_view private_pem, std::string_view kid,
                                      std::string_view payload_json) {
  const base::Result<std::shared_ptr<EVP_PKEY>> parsed = private_key_from_pem(private_pem);
  if (!parsed) fail(parsed.error());
  const std::shared_ptr<EVP_PKEY>& key = *parsed;
  if (const base::Result<void> checked = check_key_for_algorithm(algorithm, key.get()); !checked) fail(checked.error());
  const std::string input = signing_input(algorithm, kid, payload_json);
  std::string signature = sign_with_key(algorithm, key.get(), input);
  if (signature_scheme(algorithm) == SignatureScheme::kEcdsa) {
    std::string raw;
    if (!ecdsa_der_to_raw(signature, ecdsa_signature_size(algorithm), &raw)) fail("bad ECDSA signature");
    signature = std::move(raw);
  }
  return input + "." + base64url_encode(signature);
}

}  // namespace switchboard::auth
