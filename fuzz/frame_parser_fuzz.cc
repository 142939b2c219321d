// libFuzzer target for the RFC 6455 frame parser (server role). The first
// input bytes choose the chunk sizes, so the fuzzer explores splits as well as
// frame contents; the sink reads every payload byte so ASan checks the views.
// Each input is also a differential test of Utf8Validator vs is_valid_utf8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "codec/frame_parser.h"
#include "codec/utf8.h"

namespace {

using switchboard::CloseCode;
using switchboard::Opcode;
using switchboard::codec::Flow;

struct TouchingSink {
  unsigned checksum = 0;
  void touch(std::string_view payload) {
    for (char ch : payload) checksum += static_cast<unsigned char>(ch);
  }
  Flow on_message(Opcode opcode, std::string_view payload) {
    if (opcode == Opcode::kText && !switchboard::codec::is_valid_utf8(payload)) std::abort();
    touch(payload);
    return Flow::kContinue;
  }
  Flow on_ping(std::string_view payload) {
    if (payload.size() > 125) std::abort();
    touch(payload);
    return Flow::kContinue;
  }
  Flow on_pong(std::string_view payload) { return on_ping(payload); }
  Flow on_close(CloseCode, std::string_view reason) {
    touch(reason);
    return Flow::kContinue;
  }
};

void check_utf8(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool expected = switchboard::codec::is_valid_utf8(text);
  switchboard::codec::Utf8Validator validator;
  // Split at a data-dependent point so carried-over code points are covered.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  const bool got = validator.feed(text.substr(0, cut)) && validator.feed(text.substr(cut)) && validator.complete();
  if (got != expected) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_utf8(data, size);
  if (size < 4) return 0;
  // Four bytes of chunk sizes (0 means "the rest"), cycled over the input.
  const std::uint8_t chunk_sizes[4] = {data[0], data[1], data[2], data[3]};
  data += 4;
  size -= 4;

  switchboard::codec::FrameParser parser(switchboard::codec::Role::kServer,
                                         switchboard::codec::ParserLimits{64 * 1024});
  TouchingSink sink;
  std::size_t at = 0;
  for (std::size_t i = 0; at < size; ++i) {
    const std::size_t want = chunk_sizes[i % 4] == 0 ? size - at : chunk_sizes[i % 4];
    const std::size_t n = want < size - at ? want : size - at;
    // Each chunk in its own allocation, so reads past it are caught.
    std::vector<char> chunk(data + at, data + at + n);
    at += n;
    const auto status = parser.consume(std::span<char>(chunk), sink);
    if (status == switchboard::codec::ParseStatus::kFailed) {
      if (parser.violation() == switchboard::codec::Violation::kNone) std::abort();
      break;
    }
    if (status == switchboard::codec::ParseStatus::kStopped) break;
  }
  return static_cast<int>(sink.checksum & 0);
}
