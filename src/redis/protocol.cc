#include "redis/protocol.h"

#include <new>
#include <vector>

#include <hiredis/hiredis.h>

namespace switchboard::redis {
namespace {

Reply convert(const redisReply& in) {
  Reply out;
  switch (in.type) {
    case REDIS_REPLY_STRING:
      out.type = ReplyType::kString;
      out.str.assign(in.str, in.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = ReplyType::kStatus;
      out.str.assign(in.str, in.len);
      break;
    case REDIS_REPLY_ERROR:
      out = Reply::error(std::string(in.str, in.len));
      break;
    case REDIS_REPLY_INTEGER:
      out.type = ReplyType::kInteger;
      out.integer = in.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = ReplyType::kArray;
      out.elements.reserve(in.elements);
      for (std::size_t i = 0; i < in.elements; ++i) out.elements.push_back(convert(*in.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = ReplyType::kNil;
      break;
  }
  return out;
}

}  // namespace

void encode_command(std::span<const std::string_view> argv, std::string& out) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (auto arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  int length = redisFormatCommandArgv(&command, static_cast<int>(argv.size()), pointers.data(), lengths.data());
  if (length < 0) throw std::bad_alloc();
  out.append(command, static_cast<std::size_t>(length));
  redisFreeCommand(command);
}

void ReplyReader::Free::operator()(redisReader* reader) const { redisReaderFree(reader); }

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() = default;

bool ReplyReader::feed(const char* data, std::size_t size) {
  return redisReaderFeed(reader_.get(), data, size) == REDIS_OK;
}

ReadOutcome ReplyReader::next(Reply& out) {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) return ReadOutcome::kProtocolError;
  if (raw == nullptr) return ReadOutcome::kNeedMore;
  auto* reply = static_cast<redisReply*>(raw);
  out = convert(*reply);
  freeReplyObject(reply);
  return ReadOutcome::kReply;
}

std::string ReplyReader::error() const { return reader_->errstr; }

void ReplyReader::reset() {
  redisReader* fresh = redisReaderCreate();
  if (fresh == nullptr) throw std::bad_alloc();
  reader_.reset(fresh);
}

}  // namespace switchboard::redis
