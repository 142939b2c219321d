// The numeric codes of protocol v1 `error` replies (docs/PROTOCOL.md). They
// are part of the wire contract: a code never changes meaning, new failures
// get new codes. The connection stays open after every one of them, except
// where a code says it closes (docs/PROTOCOL.md "Close codes").
#pragma once

#include <cstdint>

namespace switchboard::protocol {

enum class ErrorCode : std::uint16_t {
  kInternal = 100,          // a server fault; the command may be retried
  kMalformed = 101,         // not a JSON object in a text frame
  kBadId = 102,             // id missing, not an integer, or outside 1..2^53-1
  kUnknownType = 103,       // type is not a v1 command
  kMissingField = 104,      // a required field is absent
  kWrongFieldType = 105,    // a field has the wrong JSON type
  kBadChannel = 106,        // channel name empty, too long or bad characters
  kBadUser = 107,           // user id empty, too long or bad characters
  kBadMethod = 108,         // rpc method name empty, too long or bad characters
  kPermissionDenied = 109,  // the channel's namespace does not allow this
  kAlreadySubscribed = 110,
  kNotSubscribed = 111,
  kTooManySubscriptions = 112,   // the per-connection cap
  kUnknownMethod = 113,          // no rpc handler for this method
  kRpcTimeout = 114,             // the handler did not answer in time
  kRpcFailed = 115,              // the handler answered with an error
  kPresenceDisabled = 116,       // the channel's namespace has no presence
  kUnavailable = 117,            // the server is draining or the broker is down
  kAlreadyAuthenticated = 118,   // connect with a token on an authenticated connection (use refresh)
  kUnauthenticated = 119,        // auth is required: send connect with a token first
  kInvalidToken = 120,           // the token failed verification; on connect the server then closes (4001)
  kRateLimited = 121,            // over the connection's message or byte rate; the command was not run
  kTooManyRpcs = 122,            // too many rpcs waiting for their answer, on this connection or this server
  kHistoryDisabled = 123,        // the channel's namespace keeps no history
  kUnrecoverablePosition = 124,  // history: since names another epoch or a place it cannot read on from
};

// Close codes a protocol v1 server sends, from the application range (RFC 6455 §7.4.2);
// also part of the wire contract. 1008 closes a client that keeps breaking
// the rate limits, 1001 comes with a drain.
enum class ServerCloseCode : std::uint16_t {
  kInvalidToken = 4001,  // connect with a bad token: do not retry with it
  kTokenExpired = 4002,  // no refresh within the grace period: get a new token, then reconnect
  kAuthTimeout = 4003,   // auth.required and no connect in time
  kDisconnected = 4004,  // the application disconnected this user (HTTP API), unless it chose a code
};

// A short, stable English description, used when no better message exists.
const char* default_message(ErrorCode code);

}  // namespace switchboard::protocol
