#include "loop/write_queue.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "loop/shared_buffer.h"

namespace switchboard::loop {

// A queued run of bytes: copied into the same allocation (inline), or a
// reference into a SharedBuffer.
struct WriteQueue::Chunk {
  Chunk* next;
  const char* data;
  std::size_t size;
  std::size_t offset;    // bytes already sent from the front of data
  SharedBuffer* shared;  // null for inline bytes
  char inline_data[1];
};

WriteQueue::Chunk* WriteQueue::new_chunk(std::size_t inline_size) {
  void* memory = std::malloc(offsetof(WriteQueue::Chunk, inline_data) + inline_size);
  if (memory == nullptr) throw std::bad_alloc();
  return static_cast<WriteQueue::Chunk*>(memory);
}

void WriteQueue::free_chunk(Chunk* chunk) {
  if (chunk->shared != nullptr) chunk->shared->release();
  std::free(chunk);
}

void WriteQueue::push(Chunk* chunk) {
  if (tail_ != nullptr) {
    chunk->next = tail_->next;
    tail_->next = chunk;
  } else {
    chunk->next = chunk;
  }
  tail_ = chunk;
  bytes_ += chunk->size;
}

void WriteQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  Chunk* chunk = new_chunk(bytes.size());
  std::memcpy(chunk->inline_data, bytes.data(), bytes.size());
  chunk->data = chunk->inline_data;
  chunk->size = bytes.size();
  chunk->offset = 0;
  chunk->shared = nullptr;
  push(chunk);
}

void WriteQueue::append_shared(SharedBuffer& buffer, std::size_t offset) {
  if (offset >= buffer.size()) return;
  Chunk* chunk = new_chunk(0);
  buffer.retain();
  chunk->data = buffer.data() + offset;
  chunk->size = buffer.size() - offset;
  chunk->offset = 0;
  chunk->shared = &buffer;
  push(chunk);
}

int WriteQueue::gather(iovec* iov, int max_iov) const {
  int n = 0;
  if (tail_ == nullptr) return 0;
  Chunk* chunk = tail_->next;
  while (n < max_iov) {
    iov[n].iov_base = const_cast<char*>(chunk->data + chunk->offset);
    iov[n].iov_len = chunk->size - chunk->offset;
    ++n;
    if (chunk == tail_) break;
    chunk = chunk->next;
  }
  return n;
}

void WriteQueue::consume(std::size_t n) {
  bytes_ -= n;
  while (n > 0 && tail_ != nullptr) {
    Chunk* first = tail_->next;
    std::size_t left = first->size - first->offset;
    if (n < left) {
      first->offset += n;
      return;
    }
    n -= left;
    if (first == tail_) {
      tail_ = nullptr;
    } else {
      tail_->next = first->next;
    }
    free_chunk(first);
  }
}

void WriteQueue::clear() {
  while (tail_ != nullptr) {
    Chunk* first = tail_->next;
    if (first == tail_) {
      tail_ = nullptr;
    } else {
      tail_->next = first->next;
    }
    free_chunk(first);
  }
  bytes_ = 0;
}

}  // namespace switchboard::loop
