// The public Connection API forwards to the one implementation.
#include "server/server_connection.h"
#include "server/worker.h"

namespace switchboard {
namespace {

server::ServerConnection& impl(Connection& connection) { return static_cast<server::ServerConnection&>(connection); }
const server::ServerConnection& impl(const Connection& connection) {
  return static_cast<const server::ServerConnection&>(connection);
}

}  // namespace

SendStatus Connection::send(std::string_view payload, Opcode opcode) {
  return impl(*this).send_message(payload, opcode);
}

SendStatus Connection::send(const SharedMessage& message) { return impl(*this).send_shared(message); }

SendStatus Connection::send_answer(std::string_view payload, Opcode opcode) {
  return impl(*this).send_late_answer(payload, opcode);
}

void Connection::close(CloseCode code, std::string_view reason) { impl(*this).start_close(code, reason); }

void Connection::terminate() { impl(*this).abort(); }

bool Connection::is_open() const { return impl(*this).state() == server::ServerConnection::State::kOpen; }

std::size_t Connection::buffered_amount() const { return impl(*this).buffered_amount(); }

std::uint64_t Connection::id() const { return impl(*this).id(); }

unsigned Connection::worker() const { return impl(*this).worker().index(); }

}  // namespace switchboard
