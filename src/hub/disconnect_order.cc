#include "hub/disconnect_order.h"

#include <charconv>

namespace switchboard::hub {

std::string format_disconnect_order(const DisconnectOrder& order) {
  std::string text = std::to_string(order.code);
  text += order.reconnect ? " 1 " : " 0 ";
  text += order.reason;
  return text;
}

bool parse_disconnect_order(std::string_view text, DisconnectOrder* order) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos || text.size() < space + 3 || text[space + 2] != ' ') return false;
  unsigned code = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + space, code);
  if (error != std::errc() || end != text.data() + space || code < 1000 || code > 4999) return false;
  const char reconnect = text[space + 1];
  if (reconnect != '0' && reconnect != '1') return false;
  order->code = static_cast<std::uint16_t>(code);
  order->reconnect = reconnect == '1';
  order->reason = text.substr(space + 3);
  return true;
}

}  // namespace switchboard::hub
