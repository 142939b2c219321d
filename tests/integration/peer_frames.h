// The frames a test that plays a WebSocket server by hand writes and reads:
// unmasked server frames, masked client frames, and a command's id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::testing {

// One unmasked server frame of this opcode (text 0x1, close 0x8).
inline std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame{static_cast<char>(0x80 | opcode)};
  if (payload.size() < 126) {
    frame += static_cast<char>(payload.size());
  } else {
    frame += static_cast<char>(126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xFF);
  }
  return frame + std::string(payload);
}

// Takes one whole client frame (masked, unfragmented, under 64 KiB) off
// the front of buffer; false when it is not all there yet.
inline bool take_client_frame(std::string* buffer, std::uint8_t* opcode, std::string* payload) {
  if (buffer->size() < 2) return false;
  const auto byte = [&](std::size_t at) { return static_cast<std::uint8_t>((*buffer)[at]); };
  std::size_t size = byte(1) & 0x7F;
  std::size_t at = 2;
  if (size == 126) {
    if (buffer->size() < 4) return false;
    size = (std::size_t{byte(2)} << 8) | byte(3);
    at = 4;
  }
  if (buffer->size() < at + 4 + size) return false;
  *opcode = byte(0) & 0x0F;
  payload->resize(size);
  for (std::size_t i = 0; i < size; ++i) (*payload)[i] = static_cast<char>(byte(at + 4 + i) ^ byte(at + i % 4));
  buffer->erase(0, at + 4 + size);
  return true;
}

// The number after "id": in a command the client sent.
inline std::uint64_t command_id(const std::string& command) {
  const std::size_t at = command.find("\"id\":");
  return at == std::string::npos ? 0 : std::stoull(command.substr(at + 5));
}

}  // namespace switchboard::testing
