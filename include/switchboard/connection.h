// A WebSocket connection as handlers see it.
//
// Threading: a connection lives on one worker thread for its whole life, and
// every method must be called on that thread (inside a handler callback, or
// in a task posted to that worker). References stay valid until on_close
// returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchboard/frame.h"
#include "switchboard/shared_message.h"

namespace switchboard {

enum class SendStatus : std::uint8_t {
  kSent,      // handed to the kernel (or to this loop iteration's batch)
  kBuffered,  // accepted and queued; on_drain fires when the queue empties
  kDropped,   // not accepted: the connection is not open, or its outgoing
              // buffer already holds ServerConfig::max_buffered_bytes and
              // this send does not answer the connection's own input
};

// Backpressure: a send made while handling this connection's own message
// (inside its on_message) is always accepted; instead, the server stops
// reading from a connection whose outgoing buffer is over
// max_buffered_bytes until it drains, so a peer that does not read what it
// asked for is slowed down by TCP. Any other send (to another connection, or
// from a timer or task) is dropped past the cap: the caller decides what a
// slow consumer deserves (close it, skip it, keep only the latest).

class Connection {
 public:
  SendStatus send(std::string_view payload, Opcode opcode);
  // The fan-out send: queues a reference to an already serialised frame.
  // Frames sent this way during one loop iteration go out together, one
  // write per connection at the end of the iteration (kSent means queued
  // for that write). Order with send() is kept.
  SendStatus send(const SharedMessage& message);
  // An answer to this connection's own input that is sent later than its
  // on_message (a reply computed on another worker or thread): like an
  // answer sent inside on_message it is never dropped for the buffer cap;
  // past the cap, the server stops reading from this connection instead, so
  // a client that sends without reading is slowed down, not answered short.
  SendStatus send_answer(std::string_view payload, Opcode opcode);
  SendStatus send_text(std::string_view text) { return send(text, Opcode::kText); }
  SendStatus send_binary(std::string_view bytes) { return send(bytes, Opcode::kBinary); }

  // Starts the closing handshake (RFC 6455 §7.1.2): sends a close frame with
  // code and reason (cut to fit 123 bytes) after what is already queued, and
  // from then on refuses every send (kDropped); waits for the peer's close
  // for ServerConfig::close_timeout_ms, then closes TCP. on_close follows,
  // with the peer's code, or ours if it never answered.
  void close(CloseCode code = CloseCode::kNormal, std::string_view reason = {});
  // Drops the TCP connection at once, without a close frame (on_close gets 1006).
  void terminate();

  bool is_open() const;
  // Outgoing bytes queued in user space (not yet taken by the kernel).
  std::size_t buffered_amount() const;
  // Unique within the process for its lifetime.
  std::uint64_t id() const;
  // Which worker thread owns this connection (0-based).
  unsigned worker() const;

  // One pointer for the embedder; Switchboard never touches what it points to.
  void* user_data() const { return user_data_; }
  void set_user_data(void* data) { user_data_ = data; }

 protected:
  Connection() = default;
  ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

 private:
  void* user_data_ = nullptr;
};

}  // namespace switchboard
