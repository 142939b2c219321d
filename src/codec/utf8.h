// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
// U+10FFFF), whole-buffer and incremental across fragments. RFC 6455 §8.1
// requires text messages to be valid UTF-8 and §5.6 lets an endpoint fail a
// message as soon as it sees an invalid sequence, which the incremental
// validator makes possible for fragmented and partially received frames.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchboard::codec {

// Whole buffer; ASCII-heavy input runs at several GB/s (simdjson's validator).
bool is_valid_utf8(std::string_view bytes);

// Incremental: feed() the chunks of one message in order. Fails as soon as
// the bytes seen so far cannot begin any valid UTF-8 string, so a bad byte in
// the first fragment fails the connection without waiting for the rest.
//
// One byte of state (a DFA state that also encodes the carried-over partial
// code point), so it can live in every connection's parser.
class Utf8Validator {
 public:
  // False once the input so far can no longer be valid (sticky).
  bool feed(std::string_view chunk);
  // True when everything fed so far is valid and ends on a code point boundary.
  bool complete() const;
  void reset();

 private:
  std::uint8_t state_ = 0;  // a Utf8State (utf8.cc); 0 is "at a boundary"
};

static_assert(sizeof(Utf8Validator) == 1);

}  // namespace switchboard::codec
