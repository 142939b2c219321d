// "did you mean server.port?": the closest known name to a misspelt one,
// offered when a config key or a SWITCHBOARD_* variable is not a setting.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::cli {

// A name this many edits or fewer from a known one is offered.
inline constexpr std::size_t kMaxSuggestionDistance = 3;

// Levenshtein distance (names of a few dozen bytes: one row of memory).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to name, the first in order on a tie; "" when none
// is within kMaxSuggestionDistance.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// "did you mean server.port?", or "" when suggestion is "".
std::string did_you_mean(const std::string& suggestion);

}  // namespace switchboard::cli
