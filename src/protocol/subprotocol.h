// The WebSocket subprotocol (RFC 6455 §1.9) that names protocol v1: a client
// asks for it in Sec-WebSocket-Protocol, the hub answers with it
// (docs/PROTOCOL.md "Connection"). One spelling for the hub, the C++
// client, the load generator and the CLI.
#pragma once

#include <string_view>

namespace switchboard::protocol {

inline constexpr std::string_view kSubprotocol = "switchboard.v1.json";

}  // namespace switchboard::protocol
