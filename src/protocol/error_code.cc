#include "protocol/error_code.h"

namespace switchboard::protocol {

const char* default_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal:
      return "internal server error";
    case ErrorCode::kMalformed:
      return "a command is one JSON object in a text frame";
    case ErrorCode::kBadId:
      return "id must be an integer from 1 to 9007199254740991";
    case ErrorCode::kUnknownType:
      return "unknown command type";
    case ErrorCode::kMissingField:
      return "a required field is missing";
    case ErrorCode::kWrongFieldType:
      return "a field has the wrong type";
    case ErrorCode::kBadChannel:
      return "invalid channel name";
    case ErrorCode::kBadUser:
      return "invalid user id";
    case ErrorCode::kBadMethod:
      return "invalid method name";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kAlreadySubscribed:
      return "already subscribed to this channel";
    case ErrorCode::kNotSubscribed:
      return "not subscribed to this channel";
    case ErrorCode::kTooManySubscriptions:
      return "too many subscriptions on this connection";
    case ErrorCode::kUnknownMethod:
      return "unknown rpc method";
    case ErrorCode::kRpcTimeout:
      return "the rpc handler did not answer in time";
    case ErrorCode::kRpcFailed:
      return "the rpc handler failed";
    case ErrorCode::kPresenceDisabled:
      return "presence is not enabled for this channel";
    case ErrorCode::kUnavailable:
      return "the server cannot take this command now";
    case ErrorCode::kAlreadyAuthenticated:
      return "this connection is authenticated already";
    case ErrorCode::kUnauthenticated:
      return "authenticate first: send connect with a token";
    case ErrorCode::kInvalidToken:
      return "invalid token";
    case ErrorCode::kRateLimited:
      return "rate limit exceeded";
    case ErrorCode::kTooManyRpcs:
      return "too many rpcs waiting for their answer";
    case ErrorCode::kHistoryDisabled:
      return "history is not enabled for this channel";
    case ErrorCode::kUnrecoverablePosition:
      return "that position in the channel's stream is no longer kept";
  }
  return "error";
}

}  // namespace switchboard::protocol
