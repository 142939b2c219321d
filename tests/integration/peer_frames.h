// What a test that plays a WebSocket server by hand writes and reads: the
// upgrade (protocol v1), unmasked server frames, masked client frames, and
// a command's id. For a blocking socket a LoopbackServer handed it.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/upgrade.h"

namespace switchboard::testing {

inline void send_bytes(int connection, const std::string& bytes) {
  ::send(connection, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

// Appends what the socket has (waiting at most its receive timeout) to
// buffer; false once the client closed or the socket failed.
inline bool receive_some(int connection, std::string* buffer) {
  char chunk[4096];
  const ssize_t size = ::recv(connection, chunk, sizeof chunk, 0);
  if (size == 0 || (size < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return false;
  if (size > 0) buffer->append(chunk, static_cast<std::size_t>(size));
  return true;
}

// Gives the socket a 100 ms receive timeout (so a peer's loop can check
// `stopping`), reads the client's upgrade request and answers it 101 with
// switchboard.v1.json; what followed the request stays in buffer. False
// when the client went (or the test stopped) first.
inline bool accept_upgrade(int connection, std::string* buffer, const std::atomic<bool>& stopping) {
  timeval timeout{0, 100'000};
  ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  while (buffer->find("\r\n\r\n") == std::string::npos) {
    if (stopping || !receive_some(connection, buffer)) return false;
  }
  const std::size_t key_at = buffer->find("Sec-WebSocket-Key: ");
  const std::string key = key_at == std::string::npos ? "" : buffer->substr(key_at + 19, 24);
  buffer->erase(0, buffer->find("\r\n\r\n") + 4);
  send_bytes(connection,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: " +
                 http::accept_key(key) + "\r\nSec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n");
  return true;
}

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
