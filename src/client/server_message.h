// Protocol v1 server messages (docs/PROTOCOL.md "Server messages"),
// decoded with simdjson's DOM parser, pure. JSON values the client hands
// on as they are (data, info) come out as compact JSON text.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "client/stream_tracker.h"

namespace switchboard::client {

enum class ServerMessageType : std::uint8_t {
  kReply,
  kError,
  kPong,
  kMessage,
  kJoin,
  kLeave,
  kDirect,
  kRefresh,
  kDisconnect,
  kReset,    // a stream's past is lost for a subscription: its position is now (epoch, offset)
  kUnknown,  // a type this client does not know: ignored (newer servers may add some)
};

struct ServerMessage {
  ServerMessageType type = ServerMessageType::kUnknown;
  std::uint64_t id = 0;             // reply, error, pong; 0 for an error with a null id
  std::string data;                 // reply, message, direct: JSON text ("null" when absent)
  int code = 0;                     // error, disconnect
  std::string text;                 // error: message; disconnect: reason
  std::string channel;              // message, join, leave, reset
  std::uint64_t offset = 0;         // message (0: unnumbered), reset
  std::string epoch;                // reset
  std::optional<std::string> user;  // join, leave: user; direct: from (nullopt: null)
  std::string client;               // join, leave
  std::string info;                 // join: JSON text ("null" when absent)
  std::uint64_t grace_ms = 0;       // refresh
  bool reconnect = true;            // disconnect
  bool answered = false;            // disconnect: a drain answered every command it ran before it
};

class MessageDecoder {
 public:
  // One text message; an error when it is not a JSON object with a string
  // `type`, or a known type lacks a field it needs.
  base::Result<ServerMessage> decode(std::string_view text);
  // The data of the `connect` reply: {"client": "<id>", "user": "<user>" or
  // null}; false when it is not that shape.
  bool decode_connect_reply(std::string_view data_json, std::string* client, std::optional<std::string>* user);
  // The data of a `subscribe` reply: {} (no stream, nothing asked), or
  // recoverable, epoch, offset, recovered, publications, latest. An error
  // when it is not an object or a field present has the wrong type.
  base::Result<SubscribeReply> decode_subscribe_reply(std::string_view data_json);
  // The data of a `publish` reply says "local_only":true.
  bool is_local_only(std::string_view data_json);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace switchboard::client
