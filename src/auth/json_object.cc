#include "auth/json_object.h"

#include <algorithm>
#include <vector>

namespace switchboard::auth {
namespace {

// One parser per thread: verify() runs on every worker at once, and a
// parser keeps its buffers, so steady-state parsing does not allocate.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

bool has_unique_keys(simdjson::dom::object object) {
  std::vector<std::string_view> keys;
  keys.reserve(object.size());
  for (const simdjson::dom::key_value_pair field : object) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

}  // namespace

bool parse_unique_object(std::string_view json, simdjson::dom::object* object) {
  simdjson::dom::element root;
  // realloc_if_needed: `json` is a decoded token part without simdjson's
  // padding, so the parser copies it into its own padded buffer.
  if (thread_parser().parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS) return false;
  if (root.get_object().get(*object) != simdjson::SUCCESS) return false;
  return has_unique_keys(*object);
}

}  // namespace switchboard::auth
