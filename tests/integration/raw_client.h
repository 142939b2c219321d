// A blocking WebSocket client over a raw socket, for tests that need to do
// what a well-behaved client library would not (skip pongs, never read,
// never answer a close). Masked frames from the codec's writer; server
// frames parsed with the codec in the client role.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/frame.h"

namespace switchboard::testing {

struct Frame {
  Opcode opcode;
  std::string payload;           // for kClose: the reason
  std::uint16_t close_code = 0;  // for kClose (0: no code)
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port (blocking, with a receive timeout).
  explicit RawClient(std::uint16_t port, int timeout_ms = 10000);  // sized for a loaded 2-core machine
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends a GET upgrade for path with the extra header lines ("Name: value")
  // and returns the whole response head (status line and headers).
  std::string upgrade(std::string_view path = "/", const std::vector<std::string>& extra_headers = {});
  // Sends raw bytes, returns everything the server sends until it closes.
  std::string request(std::string_view raw);

  // fin kNo: a fragment of a message (RFC 6455 §5.4) that more frames continue.
  void send_frame(Opcode opcode, std::string_view payload, Fin fin = Fin::kYes);
  void send_close(std::uint16_t code, std::string_view reason);
  void send_raw(std::string_view bytes);

  // The next whole frame (control frames included); nullopt on EOF/timeout.
  std::optional<Frame> read_frame();
  // True when the server closed TCP (recv returns 0) within the timeout.
  bool wait_for_eof();

 private:
  bool fill();  // reads more bytes into pending_

  struct Parser;
  int fd_ = -1;
  std::string pending_;  // bytes not yet given to the frame parser
  std::unique_ptr<Parser> parser_;
  std::deque<Frame> frames_;
};

}  // namespace switchboard::testing
