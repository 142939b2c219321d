// A series' label pairs, name then value, as callers write them at
// registration. The registry keeps them sorted by name, so the order callers
// use does not make two series out of one.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace switchboard::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

}  // namespace switchboard::metrics
