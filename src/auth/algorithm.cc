#include "auth/algorithm.h"

#include <array>

namespace switchboard::auth {
namespace {

struct AlgorithmInfo {
  Algorithm algorithm;
  std::string_view name;
  SignatureScheme scheme;
  const char* digest;
  std::size_t digest_size;
};

// Indexed by the enumerator's value.
constexpr std::array<AlgorithmInfo, 12> kAlgorithms = {{
    {Algorithm::kHS256, "HS256", SignatureScheme::kHmac, "SHA256", 32},
    {Algorithm::kHS384, "HS384", SignatureScheme::kHmac, "SHA384", 48},
    {Algorithm::kHS512, "HS512", SignatureScheme::kHmac, "SHA512", 64},
    {Algorithm::kRS256, "RS256", SignatureScheme::kRsaPkcs1, "SHA256", 32},
    {Algorithm::kRS384, "RS384", SignatureScheme::kRsaPkcs1, "SHA384", 48},
    {Algorithm::kRS512, "RS512", SignatureScheme::kRsaPkcs1, "SHA512", 64},
    {Algorithm::kPS256, "PS256", SignatureScheme::kRsaPss, "SHA256", 32},
    {Algorithm::kPS384, "PS384", SignatureScheme::kRsaPss, "SHA384", 48},
    {Algorithm::kPS512, "PS512", SignatureScheme::kRsaPss, "SHA512", 64},
    {Algorithm::kES256, "ES256", SignatureScheme::kEcdsa, "SHA256", 32},
    {Algorithm::kES384, "ES384", SignatureScheme::kEcdsa, "SHA384", 48},
    {Algorithm::kEdDSA, "EdDSA", SignatureScheme::kEdDsa, nullptr, 0},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kAlgorithms.size(); ++i) {
    if (static_cast<std::size_t>(kAlgorithms[i].algorithm) != i) return false;
  }
  return true;
}
static_assert(in_enum_order(), "kAlgorithms is indexed by Algorithm");

const AlgorithmInfo& info(Algorithm algorithm) { return kAlgorithms[static_cast<std::size_t>(algorithm)]; }

}  // namespace

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (const AlgorithmInfo& entry : kAlgorithms) {
    if (entry.name == name) return entry.algorithm;
  }
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm algorithm) { return info(algorithm).name; }

SignatureScheme signature_scheme(Algorithm algorithm) { return info(algorithm).scheme; }

const char* digest_name(Algorithm algorithm) { return info(algorithm).digest; }

std::size_t digest_size(Algorithm algorithm) { return info(algorithm).digest_size; }

std::size_t ecdsa_signature_size(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kES256:
      return 64;
    case Algorithm::kES384:
      return 96;
    default:
      return 0;
  }
}

}  // namespace switchboard::auth
