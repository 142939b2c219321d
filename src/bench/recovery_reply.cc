#include "bench/recovery_reply.h"

#include <charconv>
#include <cstring>

namespace switchboard::bench {
namespace {

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

  // Consumes `c` after any whitespace; false (nothing consumed) if not there.
  bool consume(char c) {
    skip_space();
    if (pos_ == text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  // A string's raw contents: a quote is closing unless an odd number of
  // backslashes precede it.
  bool read_string(std::string_view* raw) {
    if (!consume('"')) return false;
    const std::size_t begin = pos_;
    for (;;) {
      const void* found = std::memchr(text_.data() + pos_, '"', text_.size() - pos_);
      if (found == nullptr) return false;
      const std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(found) - text_.data());
      std::size_t backslashes = 0;
      while (quote - backslashes > begin && text_[quote - backslashes - 1] == '\\') ++backslashes;
      pos_ = quote + 1;
      if (backslashes % 2 == 0) {
        *raw = text_.substr(begin, quote - begin);
        return true;
      }
    }
  }

  bool read_unsigned(std::uint64_t* value) {
    skip_space();
    const char* begin = text_.data() + pos_;
    const auto result = std::from_chars(begin, text_.data() + text_.size(), *value);
    if (result.ec != std::errc() || result.ptr == begin) return false;
    pos_ += static_cast<std::size_t>(result.ptr - begin);
    return true;
  }

  bool read_bool(bool* value) {
    skip_space();
    const std::string_view rest = text_.substr(pos_);
    if (rest.starts_with("true")) {
      *value = true;
      pos_ += 4;
      return true;
    }
    if (rest.starts_with("false")) {
      *value = false;
      pos_ += 5;
      return true;
    }
    return false;
  }

  // Any one value, whole.
  bool skip_value() {
    skip_space();
    if (pos_ == text_.size()) return false;
    const char first = text_[pos_];
    if (first == '"') {
      std::string_view ignored;
      return read_string(&ignored);
    }
    if (first != '{' && first != '[') {
      const std::size_t begin = pos_;
      while (pos_ < text_.size() && std::strchr(",}] \t\r\n", text_[pos_]) == nullptr) ++pos_;
      return pos_ > begin;
    }
    std::size_t depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        std::string_view ignored;
        if (!read_string(&ignored)) return false;
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return true;
      }
    }
    return false;
  }

  // Calls member(key) for each member of an object; member reads or skips
  // the value and returns false to stop with an error.
  template <typename Member>
  bool for_each_member(Member&& member) {
    if (!consume('{')) return false;
    if (consume('}')) return true;
    do {
      std::string_view key;
      if (!read_string(&key) || !consume(':') || !member(key)) return false;
    } while (consume(','));
    return consume('}');
  }

  // Calls element() for each element of an array; element reads the value.
  template <typename Element>
  bool for_each_element(Element&& element) {
    if (!consume('[')) return false;
    if (consume(']')) return true;
    do {
      if (!element()) return false;
    } while (consume(','));
    return consume(']');
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool read_publication(JsonScanner& json, StreamReply* reply) {
  bool has_offset = false;
  const bool read = json.for_each_member([&](std::string_view key) {
    if (key != "offset") return json.skip_value();
    std::uint64_t offset = 0;
    if (!json.read_unsigned(&offset)) return false;
    has_offset = true;
    if (reply->publications == 0) {
      reply->first_offset = offset;
    } else if (offset != reply->last_offset + 1) {
      reply->contiguous = false;
    }
    reply->last_offset = offset;
    return true;
  });
  if (!read || !has_offset) return false;
  ++reply->publications;
  return true;
}

bool read_data(JsonScanner& json, StreamReply* reply) {
  return json.for_each_member([&](std::string_view key) {
    if (key == "recoverable") return json.read_bool(&reply->recoverable);
    if (key == "recovered") return json.read_bool(&reply->recovered);
    if (key == "offset") return json.read_unsigned(&reply->offset);
    if (key == "epoch") {
      reply->has_epoch = true;
      return json.read_string(&reply->epoch);
    }
    if (key == "publications") {
      reply->has_publications = true;
      return json.for_each_element([&] { return read_publication(json, reply); });
    }
    return json.skip_value();
  });
}

}  // namespace

ReplyKind parse_stream_reply(std::string_view text, StreamReply* reply) {
  *reply = StreamReply{};
  JsonScanner json(text);
  // The type comes first in everything the server writes; read it alone
  // so that another kind of frame is told apart without reading it all.
  if (!json.consume('{')) return ReplyKind::kMalformed;
  std::string_view key;
  if (!json.read_string(&key) || key != "type" || !json.consume(':') || !json.read_string(&reply->type)) {
    return ReplyKind::kMalformed;
  }
  if (reply->type != "reply") return ReplyKind::kOther;
  bool has_id = false;
  bool has_data = false;
  while (json.consume(',')) {
    if (!json.read_string(&key) || !json.consume(':')) return ReplyKind::kMalformed;
    bool read = false;
    if (key == "id") {
      read = has_id = json.read_unsigned(&reply->id);
    } else if (key == "data" && json.peek('{')) {
      read = has_data = read_data(json, reply);
    } else {
      read = json.skip_value();
    }
    if (!read) return ReplyKind::kMalformed;
  }
  if (!json.consume('}') || !json.at_end() || !has_id || !has_data) return ReplyKind::kMalformed;
  return ReplyKind::kReply;
}

std::string check_recovery(const StreamReply& reply, std::string_view epoch, std::uint64_t since, std::uint64_t top) {
  if (!reply.recoverable) return "recoverable:false (the channel keeps no stream)";
  if (!reply.recovered) {
    return "recovered:false (the namespace must keep at least " + std::to_string(top - since) +
           " publications: history_size and recover_limit)";
  }
  if (reply.epoch != epoch) return "epoch " + std::string(reply.epoch) + ", not " + std::string(epoch);
  if (reply.offset != top) return "offset " + std::to_string(reply.offset) + ", not " + std::to_string(top);
  if (!reply.has_publications) return "recovered:true without publications";
  const std::uint64_t due = top - since;
  if (reply.publications != due) {
    return std::to_string(reply.publications) + " publications recovered, not " + std::to_string(due);
  }
  if (due > 0 && (reply.first_offset != since + 1 || reply.last_offset != top || !reply.contiguous)) {
    return "publications " + std::to_string(reply.first_offset) + ".." + std::to_string(reply.last_offset) +
           (reply.contiguous ? "" : " with gaps") + ", not " + std::to_string(since + 1) + ".." + std::to_string(top);
  }
  return {};
}

}  // namespace switchboard::bench
