#include "auth/jose_header.h"

#include <optional>

#include "auth/json_object.h"
#include "base/ascii.h"

namespace switchboard::auth {
namespace {

// Reads an optional string member: true when absent (value untouched) or a
// string; false when present with another type.
bool optional_string(simdjson::dom::object object, std::string_view name, std::string_view* value) {
  simdjson::dom::element element;
  if (object.at_key(name).get(element) != simdjson::SUCCESS) return true;
  return element.get_string().get(*value) == simdjson::SUCCESS;
}

}  // namespace

VerifyError parse_jose_header(std::string_view json, JoseHeader* header) {
  simdjson::dom::object object;
  if (!parse_unique_object(json, &object)) return VerifyError::kMalformed;

  std::string_view alg;
  simdjson::dom::element alg_element;
  if (object.at_key("alg").get(alg_element) != simdjson::SUCCESS) return VerifyError::kMalformed;
  if (alg_element.get_string().get(alg) != simdjson::SUCCESS) return VerifyError::kMalformed;

  std::string_view typ = "JWT";
  if (!optional_string(object, "typ", &typ) || !base::ascii_iequals(typ, "JWT")) return VerifyError::kMalformed;

  simdjson::dom::element crit;
  if (object.at_key("crit").get(crit) == simdjson::SUCCESS) return VerifyError::kMalformed;

  std::string_view kid;
  if (!optional_string(object, "kid", &kid)) return VerifyError::kMalformed;

  // Unsecured JWS ("none", RFC 7518 §3.6) in any spelling is refused here
  // explicitly; the lookup below, which is case-sensitive, refuses it too.
  if (base::ascii_iequals(alg, "none")) return VerifyError::kUnsupportedAlgorithm;
  const std::optional<Algorithm> algorithm = algorithm_from_name(alg);
  if (!algorithm) return VerifyError::kUnsupportedAlgorithm;

  header->algorithm = *algorithm;
  header->key_id.assign(kid);
  return VerifyError::kNone;
}

}  // namespace switchboard::auth
