// The query string of a request target (RFC 3986 §3.4), as HTML forms and
// browsers write it: name=value pairs split by '&', percent-encoded, '+'
// for space.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::http {

// The decoded value of the first parameter called `name` in target's query
// ("/ws?user=al%20ice" -> "al ice"); nullopt when absent or when its
// percent-encoding is malformed. A parameter without '=' has value "".
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

// Percent-decoding with '+' as space; nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace switchboard::http
