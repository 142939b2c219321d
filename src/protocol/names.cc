#include "protocol/names.h"

namespace switchboard::protocol {
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

bool is_private_channel(std::string_view channel) { return !channel.empty() && channel.front() == '$'; }

bool is_valid_channel(std::string_view channel) {
  if (channel.size() > kMaxChannelLength) return false;
  if (is_private_channel(channel)) channel.remove_prefix(1);
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
      case '#':
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

bool is_personal_channel(std::string_view channel) { return channel.find('#') != std::string_view::npos; }

std::string_view personal_channel_owner(std::string_view channel) {
  const std::size_t hash = channel.rfind('#');
  return hash == std::string_view::npos ? std::string_view() : channel.substr(hash + 1);
}

bool channel_matches(std::string_view pattern, std::string_view channel) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.ends_with(":*")) {
    return channel.size() > pattern.size() - 1 && channel.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return pattern == channel;
}

std::string_view channel_namespace(std::string_view channel) {
  const std::size_t colon = channel.find(':');
  return colon == std::string_view::npos ? std::string_view() : channel.substr(0, colon);
}

}  // namespace switchboard::protocol
