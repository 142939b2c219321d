// A Redis reply as a plain value (RESP2), so nothing above src/redis sees a
// hiredis type. Replies made by the client itself when a connection is lost
// or never came up are errors too, told apart by is_connection_error().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::redis {

enum class ReplyType : std::uint8_t { kString, kStatus, kError, kInteger, kNil, kArray };

struct Reply {
  ReplyType type = ReplyType::kNil;
  std::string str;              // kString, kStatus, kError
  long long integer = 0;        // kInteger
  std::vector<Reply> elements;  // kArray

  bool is_error() const { return type == ReplyType::kError; }
  bool is_nil() const { return type == ReplyType::kNil; }
  // True only for errors made by this client (the connection was lost, is
  // down, or never came up), never for an error the server sent.
  bool is_connection_error() const { return type == ReplyType::kError && local_; }

  static Reply error(std::string message);
  // str is "ERR connection lost: <reason>".
  static Reply connection_error(std::string_view reason);

 private:
  bool local_ = false;
};

}  // namespace switchboard::redis
