// Protocol v1 commands (docs/PROTOCOL.md "Commands"), written as compact
// JSON, pure. A command is made in two steps: its body (every field but
// the id) when the caller asks for it, and the whole text with its id when
// it is sent, so a queued command gets its id in sending order.
// Values named *_json are JSON already and go in as they are (check_json()
// them first); every other string is escaped here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "switchboard/client.h"

namespace switchboard::client {

// {"id":<id>,<body>}
std::string encode_command(std::uint64_t id, std::string_view body);

// token "" : no token field.
std::string connect_body(std::string_view token);
std::string refresh_body(std::string_view token);
// since: recover:true and since; latest kYes: latest:true. Neither: the
// subscribe of protocol v1 before streams, field for field.
std::string subscribe_body(std::string_view channel, std::string_view token,
                           const std::optional<StreamPosition>& since = std::nullopt, Latest latest = Latest::kNo);
std::string unsubscribe_body(std::string_view channel);
std::string publish_body(std::string_view channel, std::string_view data_json, ExcludeSelf exclude_self);
// data_json "" : no data field.
std::string rpc_body(std::string_view method, std::string_view data_json);
std::string send_body(std::string_view user, std::string_view data_json);
std::string presence_body(std::string_view channel);
std::string history_body(std::string_view channel, const HistoryOptions& options);
std::string ping_body();

// Success when text is exactly one JSON value (RFC 8259), else why not.
base::Result<void> check_json(std::string_view text);
// Success when text is a non-empty UTF-8 string, else "<what> must ...".
// The server checks the name rules (docs/PROTOCOL.md "Names") itself.
base::Result<void> check_name(std::string_view what, std::string_view text);

}  // namespace switchboard::client
