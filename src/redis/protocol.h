// The Redis protocol (RESP2) without I/O: commands are encoded with
// hiredis's redisFormatCommandArgv and replies parsed with its redisReader,
// hidden behind our own types (see connection.h for why hiredis is used
// this way). Pure: unit-tested by feeding input split at every byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "redis/reply.h"

struct redisReader;  // hiredis/read.h, seen only by protocol.cc

namespace switchboard::redis {

// Appends argv encoded as one RESP command (a multi-bulk of bulk strings)
// to out. Arguments may hold any bytes.
void encode_command(std::span<const std::string_view> argv, std::string& out);

enum class ReadOutcome : std::uint8_t {
  kReply,          // out holds the next complete reply
  kNeedMore,       // feed more bytes
  kProtocolError,  // the stream is broken (error() says how): drop the connection
};

// An incremental RESP parser: accepts any split of its input.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Copies bytes into the reader. Returns false on a protocol error.
  bool feed(const char* data, std::size_t size);
  ReadOutcome next(Reply& out);
  std::string error() const;
  // Drops buffered bytes and any partial reply (a new connection).
  void reset();

 private:
  struct Free {
    void operator()(redisReader* reader) const;
  };
  std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace switchboard::redis
