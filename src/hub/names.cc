#include "hub/names.h"

namespace switchboard::hub {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

template <typename Allowed>
bool all_of(std::string_view text, std::size_t max_length, Allowed allowed) {
  if (text.empty() || text.size() > max_length) return false;
  for (char c : text) {
    if (!allowed(c)) return false;
  }
  return true;
}

}  // namespace

bool is_valid_channel(std::string_view channel) {
  return all_of(channel, kMaxChannelLength, [](char c) {
    switch (c) {
      case '_':
      case '-':
      case ':':
      case '.':
      case '@':
      case '/':
      case '=':
      case '+':
        return true;
      default:
        return is_alnum(c);
    }
  });
}

bool is_valid_user(std::string_view user) {
  return all_of(user, kMaxUserLength, [](char c) { return c > ' ' && c < 0x7F && c != '"' && c != '\\'; });
}

bool is_valid_method(std::string_view method) {
  return all_of(method, kMaxMethodLength,
                [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/'; });
}

std::string_view channel_namespace(std::string_view channel) {
  const std::size_t colon = channel.find(':');
  return colon == std::string_view::npos ? std::string_view() : channel.substr(0, colon);
}

}  // namespace switchboard::hub
