#include "redis/reply.h"

namespace switchboard::redis {

Reply Reply::error(std::string message) {
  Reply reply;
  reply.type = ReplyType::kError;
  reply.str = std::move(message);
  return reply;
}

Reply Reply::connection_error(std::string_view reason) {
  Reply reply = error("ERR connection lost: " + std::string(reason));
  reply.local_ = true;
  return reply;
}

}  // namespace switchboard::redis
