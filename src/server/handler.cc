// Defaults of the public handler interface and request view.
#include "base/ascii.h"
#include "switchboard/server.h"

namespace switchboard {

std::string_view HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& entry : headers) {
    if (base::ascii_iequals(entry.name, name)) return entry.value;
  }
  return {};
}

UpgradeDecision WebSocketHandler::on_upgrade(const HttpRequest&, std::span<const std::string_view>) { return {}; }
void WebSocketHandler::on_open(Connection&, const HttpRequest&) {}
void WebSocketHandler::on_close(Connection&, CloseCode, std::string_view) {}
PingReply WebSocketHandler::on_ping(Connection&, std::string_view) { return PingReply::kPong; }
void WebSocketHandler::on_drain(Connection&) {}

void WebSocketHandler::on_start(Server&) {}

void WebSocketHandler::on_draining(Server&) {}

GoingAway WebSocketHandler::on_going_away(Connection&, std::uint64_t) { return GoingAway::kCloseNow; }

void WebSocketHandler::on_stop(Server&) {}

}  // namespace switchboard
