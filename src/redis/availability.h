// What a Redis Connection or Subscriber tells its owner about itself:
// usable, or not (down, or not yet up). Reported once per change.
#pragma once

#include <cstdint>

namespace switchboard::redis {

enum class Availability : std::uint8_t {
  kDown,  // the first attempt failed, or a ready connection went down
  kUp,    // ready: commands (or subscriptions) go out
};

}  // namespace switchboard::redis
