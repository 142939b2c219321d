// An immutable, reference-counted byte buffer: one serialised frame queued
// on many sockets without a copy per socket (DESIGN "Threading model":
// serialise once, fan out references). The count is atomic because a frame
// published on one worker is posted to the others.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace switchboard::loop {

class SharedBuffer {
 public:
  // A buffer of `size` bytes, with one reference held by the caller; fill it
  // through mutable_data() before sharing it.
  static SharedBuffer* create(std::size_t size);

  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  const char* data() const { return data_; }
  char* mutable_data() { return data_; }
  std::size_t size() const { return size_; }

  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;

 private:
  SharedBuffer() = default;
  void destroy();

  std::atomic<std::uint32_t> refs_{1};
  std::uint32_t padding_ = 0;
  std::size_t size_ = 0;
  char data_[1];  // the bytes follow the header in the same allocation
};

}  // namespace switchboard::loop
