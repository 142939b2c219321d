// The bytes a socket could not write yet, in order. Empty (a null pointer
// and a zero) for the common case of a socket whose writes all went
// through: Redis's "write first, buffer only the rest". The chunks form a
// ring reached through the last one (its next is the first), so that one
// pointer does for both ends: every connection carries this object.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string_view>

namespace switchboard::loop {

class SharedBuffer;

class WriteQueue {
 public:
  WriteQueue() = default;
  ~WriteQueue() { clear(); }
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  bool empty() const { return tail_ == nullptr; }
  std::size_t size() const { return bytes_; }

  // Copies bytes to the back of the queue (one allocation per call).
  void append(std::string_view bytes);
  // Queues buffer's bytes from offset on by reference (a retain, no copy).
  void append_shared(SharedBuffer& buffer, std::size_t offset);

  // Fills up to max_iov entries with the queued bytes, front first, for
  // writev/sendmsg. Returns how many were filled.
  int gather(iovec* iov, int max_iov) const;

  // Drops n bytes from the front (after a write that sent them).
  void consume(std::size_t n);

  void clear();

 private:
  struct Chunk;
  static Chunk* new_chunk(std::size_t inline_size);
  static void free_chunk(Chunk* chunk);
  void push(Chunk* chunk);

  Chunk* tail_ = nullptr;  // the last chunk; tail_->next is the first
  std::size_t bytes_ = 0;
};

}  // namespace switchboard::loop
