#include "switchboard/shared_message.h"

#include <cstring>

#include "codec/frame_writer.h"
#include "loop/shared_buffer.h"

namespace switchboard {

SharedMessage SharedMessage::make(std::string_view payload, Opcode opcode) {
  char header[codec::kMaxFrameHeaderSize];
  std::size_t header_size = codec::write_frame_header(header, opcode, Fin::kYes, payload.size(), nullptr);
  loop::SharedBuffer* buffer = loop::SharedBuffer::create(header_size + payload.size());
  std::memcpy(buffer->mutable_data(), header, header_size);
  if (!payload.empty()) std::memcpy(buffer->mutable_data() + header_size, payload.data(), payload.size());
  return SharedMessage(buffer);
}

SharedMessage::SharedMessage(const SharedMessage& other) : buffer_(other.buffer_) {
  if (buffer_ != nullptr) buffer_->retain();
}

SharedMessage::~SharedMessage() {
  if (buffer_ != nullptr) buffer_->release();
}

std::string_view SharedMessage::frame() const {
  return buffer_ == nullptr ? std::string_view() : std::string_view(buffer_->data(), buffer_->size());
}

}  // namespace switchboard
