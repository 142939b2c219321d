// "Close every connection of this user" as it travels between nodes, on
// the user's broker channel: "<close code> <0|1 reconnect> <reason>". The
// receiving node sends `disconnect` and closes with exactly these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::hub {

struct DisconnectOrder {
  std::uint16_t code = 0;
  bool reconnect = false;
  std::string reason;
};

std::string format_disconnect_order(const DisconnectOrder& order);
// False for anything format_disconnect_order cannot have written.
bool parse_disconnect_order(std::string_view text, DisconnectOrder* order);

}  // namespace switchboard::hub
