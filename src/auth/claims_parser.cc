#include "auth/claims_parser.h"

#include <cmath>
#include <utility>

#include "auth/json_object.h"

namespace switchboard::auth {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Each reader: true when the claim is absent (output untouched) or well
// typed; false when present with a wrong type.

bool read_string(simdjson::dom::object payload, std::string_view name, std::string* out) {
  element value;
  if (payload.at_key(name).get(value) != simdjson::SUCCESS) return true;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  out->assign(text);
  return true;
}

// The same for a claim whose presence matters even when it is "".
bool read_string(simdjson::dom::object payload, std::string_view name, std::optional<std::string>* out) {
  element value;
  if (payload.at_key(name).get(value) != simdjson::SUCCESS) return true;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  out->emplace(text);
  return true;
}

bool read_string_array(element value, std::vector<std::string>* out) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return false;
  for (const element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) return false;
    out->emplace_back(text);
  }
  return true;
}

// RFC 7519 §2 NumericDate: seconds, "can be non-integer". 2^63 as a double
// is the first real that no longer fits int64_t.
bool read_numeric_date(simdjson::dom::object payload, std::string_view name, std::optional<std::int64_t>* out) {
  element value;
  if (payload.at_key(name).get(value) != simdjson::SUCCESS) return true;
  switch (value.type()) {
    case element_type::INT64: {
      std::int64_t seconds = 0;
      if (value.get_int64().get(seconds) != simdjson::SUCCESS) return false;
      *out = seconds;
      return true;
    }
    case element_type::DOUBLE: {
      double seconds = 0;
      if (value.get_double().get(seconds) != simdjson::SUCCESS) return false;
      constexpr double kTwoTo63 = 9223372036854775808.0;
      if (!std::isfinite(seconds) || seconds < 0 || seconds >= kTwoTo63) return false;
      *out = static_cast<std::int64_t>(seconds);
      return true;
    }
    default:  // UINT64 (above INT64_MAX), strings, null, ...
      return false;
  }
}

bool read_audience(simdjson::dom::object payload, std::vector<std::string>* out) {
  element value;
  if (payload.at_key("aud").get(value) != simdjson::SUCCESS) return true;
  std::string_view single;
  if (value.get_string().get(single) == simdjson::SUCCESS) {
    out->emplace_back(single);
    return true;
  }
  return read_string_array(value, out);
}

bool read_channels(simdjson::dom::object payload, std::optional<std::vector<std::string>>* out) {
  element value;
  if (payload.at_key("channels").get(value) != simdjson::SUCCESS) return true;
  std::vector<std::string> channels;
  if (!read_string_array(value, &channels)) return false;
  *out = std::move(channels);
  return true;
}

bool read_send_to(simdjson::dom::object payload, std::optional<std::vector<std::string>>* out) {
  element value;
  if (payload.at_key("send_to").get(value) != simdjson::SUCCESS) return true;
  std::vector<std::string> users;
  if (!read_string_array(value, &users)) return false;
  *out = std::move(users);
  return true;
}

bool read_info(simdjson::dom::object payload, std::string* out) {
  element value;
  if (payload.at_key("info").get(value) != simdjson::SUCCESS) return true;
  *out = simdjson::minify(value);
  return true;
}

}  // namespace

VerifyError parse_claims(std::string_view json, Claims* claims) {
  simdjson::dom::object payload;
  if (!parse_unique_object(json, &payload)) return VerifyError::kMalformed;
  Claims parsed;
  const bool well_typed = read_string(payload, "sub", &parsed.subject) &&
                          read_numeric_date(payload, "exp", &parsed.expires_at) &&
                          read_numeric_date(payload, "nbf", &parsed.not_before) &&
                          read_numeric_date(payload, "iat", &parsed.issued_at) &&
                          read_string(payload, "iss", &parsed.issuer) && read_audience(payload, &parsed.audience) &&
                          read_channels(payload, &parsed.channels) &&
                          read_string(payload, "channel", &parsed.channel) && read_info(payload, &parsed.info_json);
  if (!well_typed) return VerifyError::kBadClaims;
  if (!read_send_to(payload, &parsed.send_to)) return VerifyError::kBadClaims;
  *claims = std::move(parsed);
  return VerifyError::kNone;
}

}  // namespace switchboard::auth
