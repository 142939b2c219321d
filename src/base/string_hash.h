// Transparent hashing for std::unordered_map<std::string, T, StringHash,
// std::equal_to<>>: find() with a std::string_view does not build a string.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace switchboard::base {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  std::size_t operator()(const std::string& text) const { return std::hash<std::string_view>{}(text); }
};

}  // namespace switchboard::base
