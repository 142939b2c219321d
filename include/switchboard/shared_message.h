// A message serialised once into a complete WebSocket frame and shared by
// reference among any number of connections on any workers: the fan-out
// path (broadcast, pub/sub) never encodes or copies a message per recipient.
#pragma once

#include <string_view>
#include <utility>

#include "switchboard/frame.h"

namespace switchboard {

namespace loop {
class SharedBuffer;
}
namespace server {
class Worker;
}

class SharedMessage {
 public:
  // Builds the server frame (header + payload) in one allocation.
  static SharedMessage make(std::string_view payload, Opcode opcode);

  SharedMessage() = default;
  SharedMessage(const SharedMessage& other);
  SharedMessage(SharedMessage&& other) noexcept : buffer_(std::exchange(other.buffer_, nullptr)) {}
  SharedMessage& operator=(SharedMessage other) noexcept {
    std::swap(buffer_, other.buffer_);
    return *this;
  }
  ~SharedMessage();

  explicit operator bool() const { return buffer_ != nullptr; }
  // The whole frame as it goes on the wire.
  std::string_view frame() const;

 private:
  // The fan-out batch pins the shared buffer once per run of sends (Worker::batch).
  friend class server::Worker;
  loop::SharedBuffer* buffer() const { return buffer_; }
  explicit SharedMessage(loop::SharedBuffer* buffer) : buffer_(buffer) {}
  loop::SharedBuffer* buffer_ = nullptr;
};

}  // namespace switchboard
