#include "loop/shared_buffer.h"

#include <cstdlib>
#include <new>

namespace switchboard::loop {

SharedBuffer* SharedBuffer::create(std::size_t size) {
  void* memory = std::malloc(offsetof(SharedBuffer, data_) + (size == 0 ? 1 : size));
  if (memory == nullptr) throw std::bad_alloc();
  auto* buffer = new (memory) SharedBuffer();
  buffer->size_ = size;
  return buffer;
}

void SharedBuffer::destroy() {
  this->~SharedBuffer();
  std::free(this);
}

}  // namespace switchboard::loop
