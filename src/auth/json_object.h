// Parses a JOSE header or JWT payload: a JSON object whose member names are
// unique. RFC 7515 §5.2 and RFC 7519 §4 let a parser either refuse
// duplicates or take the last one; simdjson's lookup returns the first, so
// duplicates are refused (otherwise two parsers could read one token two
// ways).
#pragma once

#include <string_view>

#include <simdjson.h>

namespace switchboard::auth {

// True when `json` is valid UTF-8 JSON whose root is an object without
// duplicate member names (compared after unescaping). *object then points
// into this thread's parser: valid until the next parse_unique_object()
// call on the same thread. May throw std::bad_alloc.
bool parse_unique_object(std::string_view json, simdjson::dom::object* object);

}  // namespace switchboard::auth
