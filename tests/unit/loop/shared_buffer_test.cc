#include "loop/shared_buffer.h"

#include <cstring>

#include <gtest/gtest.h>

#include "loop/write_queue.h"

namespace switchboard::loop {
namespace {

TEST(SharedBuffer, HoldsBytesAndLivesWhileReferenced) {
  SharedBuffer* buffer = SharedBuffer::create(5);
  std::memcpy(buffer->mutable_data(), "hello", 5);
  EXPECT_EQ(std::string_view(buffer->data(), buffer->size()), "hello");
  buffer->retain();
  buffer->release();  // still one reference: must stay readable (ASan checks)
  EXPECT_EQ(buffer->data()[0], 'h');
  buffer->release();
}

TEST(SharedBuffer, EmptyBufferIsValid) {
  SharedBuffer* buffer = SharedBuffer::create(0);
  EXPECT_EQ(buffer->size(), 0u);
  buffer->release();
}

TEST(WriteQueueShared, QueuesByReferenceAndReleasesWhenSent) {
  SharedBuffer* buffer = SharedBuffer::create(6);
  std::memcpy(buffer->mutable_data(), "abcdef", 6);
  {
    WriteQueue queue;
    queue.append("12");
    queue.append_shared(*buffer, 2);  // "cdef", no copy
    queue.append_shared(*buffer, 6);  // nothing left at that offset: ignored
    EXPECT_EQ(queue.size(), 6u);
    iovec iov[8];
    ASSERT_EQ(queue.gather(iov, 8), 2);
    EXPECT_EQ(iov[1].iov_base, buffer->data() + 2);  // the same bytes, not a copy
    buffer->release();                               // the queue's reference keeps it alive
    queue.consume(3);
    ASSERT_EQ(queue.gather(iov, 8), 1);
    EXPECT_EQ(std::string_view(static_cast<char*>(iov[0].iov_base), iov[0].iov_len), "def");
  }  // the queue releases the last reference (ASan/LSan report a leak otherwise)
}

}  // namespace
}  // namespace switchboard::loop
