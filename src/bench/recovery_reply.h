// Reads the replies of a channel with a stream (docs/PROTOCOL.md "Streams")
// for the recover scenario: a publish reply's position, and a subscribe
// reply's recovery, whose publications it counts and whose offsets it
// checks in one pass over the text, without allocating.
//
// The scanner is a small pull reader of JSON the server wrote: it finds
// the members it needs by name and skips every other value whole (a string
// by memchr for its closing quote, an object or array by its nesting), so a
// publication's data of any JSON shape, braces and quotes inside strings
// included, counts as one publication. It does not validate the JSON: the
// server's output is trusted to be well formed, and a reply that is not
// parses as malformed or miscounts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::bench {

enum class ReplyKind : std::uint8_t {
  kReply,      // {"type":"reply","id":N,"data":{...}}: the fields below are filled
  kOther,      // another kind of frame (an error, a message): only `type` is filled
  kMalformed,  // not a JSON object with a string "type", or a reply we cannot read
};

// A reply's fields of a stream position and a recovery; absent ones keep
// their defaults. Views (type, epoch) point into the parsed text: keep it
// alive while they are read.
struct StreamReply {
  std::string_view type;
  std::uint64_t id = 0;
  bool recoverable = false;
  bool recovered = false;
  bool has_epoch = false;
  bool has_publications = false;
  std::string_view epoch;    // as written between the quotes (escapes left as they are)
  std::uint64_t offset = 0;  // the stream's last offset
  std::uint64_t publications = 0;
  std::uint64_t first_offset = 0;  // of the first publication (0: none)
  std::uint64_t last_offset = 0;   // of the last one
  bool contiguous = true;          // each publication's offset is its predecessor's + 1
};

ReplyKind parse_stream_reply(std::string_view text, StreamReply* reply);

// What a recovery from `since` under `epoch`, with the stream at `top`, must
// answer: recovered:true, the same epoch and top, and the publications
// since + 1 .. top in order, each once. Empty when the reply is that, else
// one line that says what differs.
std::string check_recovery(const StreamReply& reply, std::string_view epoch, std::uint64_t since, std::uint64_t top);

}  // namespace switchboard::bench
