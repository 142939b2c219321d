#include "loop/write_queue.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace switchboard::loop {

// One allocation holds the chunk's bookkeeping and its bytes.
struct WriteQueue::Chunk {
  Chunk* next;
  std::size_t size;
  std::size_t offset;  // bytes already sent from the front of data
  char data[1];
};

void WriteQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  void* memory = std::malloc(offsetof(Chunk, data) + bytes.size());
  if (memory == nullptr) throw std::bad_alloc();
  auto* chunk = static_cast<Chunk*>(memory);
  chunk->next = nullptr;
  chunk->size = bytes.size();
  chunk->offset = 0;
  std::memcpy(chunk->data, bytes.data(), bytes.size());
  if (tail_ != nullptr) {
    tail_->next = chunk;
  } else {
    head_ = chunk;
  }
  tail_ = chunk;
  bytes_ += bytes.size();
}

int WriteQueue::gather(iovec* iov, int max_iov) const {
  int n = 0;
  for (Chunk* chunk = head_; chunk != nullptr && n < max_iov; chunk = chunk->next, ++n) {
    iov[n].iov_base = chunk->data + chunk->offset;
    iov[n].iov_len = chunk->size - chunk->offset;
  }
  return n;
}

void WriteQueue::consume(std::size_t n) {
  bytes_ -= n;
  while (n > 0 && head_ != nullptr) {
    std::size_t left = head_->size - head_->offset;
    if (n < left) {
      head_->offset += n;
      return;
    }
    n -= left;
    Chunk* done = head_;
    head_ = head_->next;
    std::free(done);
  }
  if (head_ == nullptr) tail_ = nullptr;
}

void WriteQueue::clear() {
  while (head_ != nullptr) {
    Chunk* next = head_->next;
    std::free(head_);
    head_ = next;
  }
  tail_ = nullptr;
  bytes_ = 0;
}

}  // namespace switchboard::loop
