// Which channel names, user ids and rpc method names protocol v1 accepts
// (docs/PROTOCOL.md "Names"), and the namespace a channel belongs to.
#pragma once

#include <cstddef>
#include <string_view>

namespace switchboard::hub {

inline constexpr std::size_t kMaxChannelLength = 255;
inline constexpr std::size_t kMaxUserLength = 255;
inline constexpr std::size_t kMaxMethodLength = 128;

// 1..255 bytes of ASCII letters, digits and _ - : . @ / = + ; a channel is
// written into logs, metrics labels and (later) Redis keys, so nothing that
// needs quoting in any of them.
bool is_valid_channel(std::string_view channel);

// 1..255 bytes of printable ASCII without space, quote or backslash.
bool is_valid_user(std::string_view user);

// 1..128 bytes of ASCII letters, digits and _ - . /
bool is_valid_method(std::string_view method);

// The namespace of a channel: what comes before its first ':', or "" for a
// channel without one ("chat:lobby" is in "chat", "news" in "").
std::string_view channel_namespace(std::string_view channel);

}  // namespace switchboard::hub
