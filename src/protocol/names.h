// Which channel names, user ids and rpc method names protocol v1 accepts
// (docs/PROTOCOL.md "Names"), and the namespace a channel belongs to.
#pragma once

#include <cstddef>
#include <string_view>

namespace switchboard::protocol {

inline constexpr std::size_t kMaxChannelLength = 255;
inline constexpr std::size_t kMaxUserLength = 255;
inline constexpr std::size_t kMaxMethodLength = 128;

// 1..255 bytes of ASCII letters, digits and _ - : . @ / = + # and a leading
// $; a channel is written into logs, metrics labels and (later) Redis keys,
// so nothing that needs quoting in any of them. `$` first marks a private
// channel and `#user` at the end a personal one (see the functions below).
bool is_valid_channel(std::string_view channel);

// "$secret:room" is private: subscribing needs a subscription token that
// names the channel and the subscriber (docs/PROTOCOL.md "Permissions").
bool is_private_channel(std::string_view channel);

// "notifications#alice" belongs to user "alice": only her connections may
// subscribe or publish to it. A channel with a '#' is personal even when
// nothing follows it (then nobody may use it); "" for that and for a channel
// without a '#', so check is_personal_channel first.
bool is_personal_channel(std::string_view channel);
std::string_view personal_channel_owner(std::string_view channel);

// 1..255 bytes of printable ASCII without space, quote or backslash.
bool is_valid_user(std::string_view user);

// 1..128 bytes of ASCII letters, digits and _ - . /
bool is_valid_method(std::string_view method);

// Does channel match pattern? "*" matches every channel, "chat:*" every
// channel in namespace chat (not "chat" itself), anything else only itself.
// Used by namespace options and by the `channels` claim of tokens.
bool channel_matches(std::string_view pattern, std::string_view channel);

// The namespace of a channel: what comes before its first ':', or "" for a
// channel without one ("chat:lobby" is in "chat", "news" in "").
std::string_view channel_namespace(std::string_view channel);

}  // namespace switchboard::protocol
