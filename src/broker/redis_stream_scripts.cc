#include "broker/redis_stream_scripts.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <openssl/evp.h>

#include "broker/envelope.h"

namespace switchboard::broker {
namespace {

// Lua numbers are doubles: limits and sizes stay far below 2^53, and
// COUNT takes them as integers.
constexpr std::uint64_t kMaxCount = 1'000'000'000;

std::string count_text(std::uint64_t count) { return std::to_string(std::min<std::uint64_t>(count, kMaxCount)); }

// KEYS[1] meta, KEYS[2] stream. ARGV[1] Redis channel, ARGV[2] envelope
// header, ARGV[3] data, ARGV[4] new epoch, ARGV[5] size, ARGV[6] stream TTL
// ms, ARGV[7] meta TTL ms. A missing meta means the stream's past is lost:
// a stream left over (meta evicted first) goes with it.
constexpr std::string_view kPublishHead = R"(local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
local text = string.format('%d', offset)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], text .. '-0', 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call(')";

constexpr std::string_view kPublishTail = R"(', ARGV[1], text .. ':' .. epoch .. ' ' .. ARGV[2] .. ARGV[3])
return {offset, epoch}
)";

// KEYS[1] meta, KEYS[2] stream. ARGV[1] new epoch, ARGV[2] meta TTL ms,
// ARGV[3] mode (p position, r recover, g page), ARGV[4] since offset or "",
// ARGV[5] since epoch, ARGV[6] limit, ARGV[7] reverse, ARGV[8] latest.
// Entries are contiguous from the oldest kept to the top (MAXLEN trims the
// oldest only), so "the entry after since is kept" is "all after it are".
constexpr std::string_view kReadScript = R"(local meta = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
local epoch, top = meta[1], tonumber(meta[2]) or 0
if not epoch then
  epoch = ARGV[1]
  top = 0
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local function id(offset) return string.format('%d', offset) .. '-0' end
local function offset_of(entry_id) return tonumber(string.match(entry_id, '^%d+')) end
local function flat(entries, count)
  local out = {}
  for i = 1, math.min(#entries, count) do
    out[#out + 1] = entries[i][1]
    out[#out + 1] = entries[i][2][2]
  end
  return out
end
local mode, has_since = ARGV[3], ARGV[4] ~= ''
local since = tonumber(ARGV[4]) or 0
local same_epoch = has_since and ARGV[5] == epoch
local limit = tonumber(ARGV[6])
local complete, list, latest = 1, {}, {}
if mode == 'r' then
  complete = 0
  if same_epoch and since <= top and top - since <= limit then
    local needed = top - since
    if needed == 0 then
      complete = 1
    else
      local got = redis.call('XRANGE', KEYS[2], id(since + 1), '+', 'COUNT', needed)
      if #got == needed and offset_of(got[1][1]) == since + 1 then
        complete = 1
        list = flat(got, needed)
      end
    end
  end
elseif mode == 'g' then
  if has_since and not same_epoch then
    complete = 0
  elseif ARGV[7] == '1' then
    if not has_since then
      if limit > 0 then list = flat(redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit), limit) end
    elseif since > top + 1 then
      complete = 0
    elseif since > 1 and limit > 0 then
      list = flat(redis.call('XREVRANGE', KEYS[2], id(since - 1), '-', 'COUNT', limit), limit)
    end
  else
    if not has_since then
      if limit > 0 then list = flat(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', limit), limit) end
    elseif since > top then
      complete = 0
    elseif since < top then
      local got = redis.call('XRANGE', KEYS[2], id(since + 1), '+', 'COUNT', math.max(limit, 1))
      if #got == 0 or offset_of(got[1][1]) ~= since + 1 then
        complete = 0
      else
        list = flat(got, limit)
      end
    end
  end
end
if ARGV[8] == '1' then latest = flat(redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1), 1) end
return {epoch, top, complete, list, latest}
)";

bool parse_offset(std::string_view text, std::uint64_t* offset) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *offset);
  return error == std::errc() && end == text.data() + text.size();
}

// "<offset>-0", as the scripts make stream ids.
bool parse_entry_id(std::string_view id, std::uint64_t* offset) {
  if (!id.ends_with("-0")) return false;
  id.remove_suffix(2);
  return parse_offset(id, offset) && *offset > 0;
}

bool parse_entries(const redis::Reply& reply, std::vector<StoredPublication>* out) {
  if (reply.type != redis::ReplyType::kArray || reply.elements.size() % 2 != 0) return false;
  out->reserve(reply.elements.size() / 2);
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    const redis::Reply& id = reply.elements[i];
    const redis::Reply& data = reply.elements[i + 1];
    std::uint64_t offset = 0;
    if (id.type != redis::ReplyType::kString || data.type != redis::ReplyType::kString) return false;
    if (!parse_entry_id(id.str, &offset)) return false;
    out->push_back({offset, data.str});
  }
  return true;
}

}  // namespace

LuaScript make_lua_script(std::string text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr);
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return {std::move(text), std::move(hex)};
}

LuaScript stream_publish_script(std::string_view publish_verb) {
  std::string text(kPublishHead);
  text += publish_verb;
  text += kPublishTail;
  return make_lua_script(std::move(text));
}

LuaScript stream_read_script() { return make_lua_script(std::string(kReadScript)); }

std::vector<std::string> stream_publish_arguments(std::string_view redis_channel, std::string_view node,
                                                  const Publication& publication, std::string_view new_epoch,
                                                  std::uint64_t meta_ttl_ms) {
  constexpr std::uint64_t kMaxSeconds = std::uint64_t{1} << 40;  // no overflow in ms
  return {std::string(redis_channel),           format_publication(node, publication.exclude_client, {}),
          std::string(publication.data_json),   std::string(new_epoch),
          count_text(publication.history.size), std::to_string(std::min(publication.history.ttl_s, kMaxSeconds) * 1000),
          std::to_string(meta_ttl_ms)};
}

std::vector<std::string> stream_read_arguments(const StreamQuery& query, std::string_view new_epoch,
                                               std::uint64_t meta_ttl_ms) {
  std::string mode;
  switch (query.mode) {
    case StreamQuery::Mode::kPosition:
      mode = "p";
      break;
    case StreamQuery::Mode::kRecover:
      mode = "r";
      break;
    case StreamQuery::Mode::kPage:
      mode = "g";
      break;
  }
  // A recovery always names a position; a page may not.
  const bool has_since = query.has_since || query.mode == StreamQuery::Mode::kRecover;
  return {std::string(new_epoch),
          std::to_string(meta_ttl_ms),
          std::move(mode),
          has_since ? std::to_string(query.since.offset) : std::string(),
          has_since ? query.since.epoch : std::string(),
          count_text(query.limit),
          query.reverse ? "1" : "0",
          query.latest ? "1" : "0"};
}

std::uint64_t stream_meta_ttl_ms(std::uint64_t offset_ttl_ms, const HistoryLimits& history) {
  constexpr std::uint64_t kMaxSeconds = std::uint64_t{1} << 40;
  return std::max(offset_ttl_ms, std::min(history.ttl_s, kMaxSeconds) * 1000);
}

std::optional<StreamPublishReply> parse_stream_publish_reply(const redis::Reply& reply) {
  if (reply.type != redis::ReplyType::kArray || reply.elements.size() != 2) return std::nullopt;
  const redis::Reply& offset = reply.elements[0];
  const redis::Reply& epoch = reply.elements[1];
  if (offset.type != redis::ReplyType::kInteger || offset.integer <= 0) return std::nullopt;
  if (epoch.type != redis::ReplyType::kString || epoch.str.empty()) return std::nullopt;
  return StreamPublishReply{static_cast<std::uint64_t>(offset.integer), epoch.str};
}

std::optional<StreamAnswer> parse_stream_read_reply(const redis::Reply& reply) {
  if (reply.type != redis::ReplyType::kArray || reply.elements.size() != 5) return std::nullopt;
  const redis::Reply& epoch = reply.elements[0];
  const redis::Reply& top = reply.elements[1];
  const redis::Reply& complete = reply.elements[2];
  if (epoch.type != redis::ReplyType::kString || epoch.str.empty()) return std::nullopt;
  if (top.type != redis::ReplyType::kInteger || top.integer < 0) return std::nullopt;
  if (complete.type != redis::ReplyType::kInteger || (complete.integer != 0 && complete.integer != 1))
    return std::nullopt;
  StreamAnswer answer;
  answer.status = StreamStatus::kRead;
  answer.top = {static_cast<std::uint64_t>(top.integer), epoch.str};
  answer.complete = complete.integer == 1;
  if (!parse_entries(reply.elements[3], &answer.publications)) return std::nullopt;
  std::vector<StoredPublication> latest;
  if (!parse_entries(reply.elements[4], &latest) || latest.size() > 1) return std::nullopt;
  if (!latest.empty()) {
    answer.has_latest = true;
    answer.latest = std::move(latest.front());
  }
  // Whatever Redis holds, never more than the top, and never a partial
  // recovery presented as whole.
  for (const StoredPublication& publication : answer.publications) {
    if (publication.offset > answer.top.offset) return std::nullopt;
  }
  if (!answer.complete && !answer.publications.empty()) return std::nullopt;
  return answer;
}

bool is_noscript(const redis::Reply& reply) { return reply.is_error() && reply.str.starts_with("NOSCRIPT"); }

}  // namespace switchboard::broker
