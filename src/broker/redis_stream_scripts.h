// The Lua scripts RedisBroker runs for channels with a stream, the
// arguments it passes them and the parsing of what they answer. Pure (no
// I/O), so every piece but the scripts' own Lua is unit-tested; the Lua is
// tested against a real redis-server (tests/integration).
//
// A channel C with a stream has two keys, both with C as hash tag so that
// they, and C's Redis channel, live on one master of a Redis Cluster:
//  - meta "sb:meta:{C}", a hash: epoch (the stream's epoch) and offset (the
//    last offset given). It is made with a new epoch, passed in by the node,
//    only when it does not exist: a Redis that lost it (restarted empty,
//    evicted it, or it expired) starts a new epoch, so that an offset never
//    comes back with another meaning. It lives longer than the stream
//    (RedisBrokerOptions::offset_ttl_ms, at least the history TTL) and every
//    read and publish refreshes it, so a subscribed channel nobody publishes
//    to keeps its epoch and its numbering.
//  - stream "sb:stream:{C}", a Redis Stream: one entry per publication, id
//    "<offset>-0", field d = the data (JSON text). XADD MAXLEN (exact) keeps
//    at most history_size entries; the whole stream expires history_ttl
//    after the last publish (Redis expires keys, not entries: a publication
//    stays while publishes keep coming within the TTL, bounded by the size).
//
// Publish (one script, atomic): the offset from meta (HINCRBY), XADD,
// PEXPIRE of both keys, PUBLISH (SPUBLISH in a cluster) of the envelope
// "<offset> <node> <exclude>\n<data>" (envelope.h) — so numbering, history
// and pub/sub never disagree. Answers [offset, epoch].
//
// Read (one script, atomic): epoch and top offset from meta (made, empty,
// if missing), then what StreamQuery asks: a recovery's publications whole
// or none, a page in either direction, the latest entry. Answers [epoch,
// top, complete (0|1), [id, data, id, data, ...], [id, data] or []].
//
// The scripts are sent with EVALSHA once a connection has run them with
// EVAL (which caches them in Redis), and again with EVAL on NOSCRIPT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/broker.h"
#include "redis/reply.h"

namespace switchboard::broker {

// A script's text and its SHA-1 (40 lowercase hex digits, as EVALSHA wants).
struct LuaScript {
  std::string text;
  std::string sha1;
};

LuaScript make_lua_script(std::string text);

// KEYS: meta, stream. ARGV: see stream_publish_arguments.
LuaScript stream_publish_script(std::string_view publish_verb);
// KEYS: meta, stream. ARGV: see stream_read_arguments.
LuaScript stream_read_script();

// The publish script's ARGV: the Redis channel, the envelope's header
// "<node> <exclude>\n" (format_publication with no data), the data, an
// epoch for a stream that has none, the history size, the stream's TTL in
// ms and meta's TTL in ms.
std::vector<std::string> stream_publish_arguments(std::string_view redis_channel, std::string_view node,
                                                  const Publication& publication, std::string_view new_epoch,
                                                  std::uint64_t meta_ttl_ms);

// The read script's ARGV: an epoch for a stream that has none, meta's TTL in
// ms, the mode (p, r or g), since's offset ("" without since), since's epoch,
// the limit, reverse (0|1), latest (0|1).
std::vector<std::string> stream_read_arguments(const StreamQuery& query, std::string_view new_epoch,
                                               std::uint64_t meta_ttl_ms);

// How long meta lives: the broker's offset TTL, and never less than the
// stream's.
std::uint64_t stream_meta_ttl_ms(std::uint64_t offset_ttl_ms, const HistoryLimits& history);

struct StreamPublishReply {
  std::uint64_t offset;
  std::string epoch;
};

// nullopt: not the publish script's answer (an error, or something else).
std::optional<StreamPublishReply> parse_stream_publish_reply(const redis::Reply& reply);
// nullopt: not the read script's answer. Otherwise an answer with status kRead.
std::optional<StreamAnswer> parse_stream_read_reply(const redis::Reply& reply);

// Whether reply is Redis's NOSCRIPT error (the script is not cached there).
bool is_noscript(const redis::Reply& reply);

}  // namespace switchboard::broker
