// A Redis client connection on our own event loop.
//
// Library decision: Debian 12 ships hiredis 0.14.1 (libhiredis-dev). Its
// async API knows neither sharded pub/sub (SSUBSCRIBE and its 'smessage'
// pushes would be matched to the wrong callbacks) nor TLS. So hiredis is
// used for the Redis protocol only -- its redisReader parses RESP and
// redisFormatCommandArgv encodes commands (src/redis/protocol.cc, the one
// file that includes hiredis) -- and we drive the socket ourselves on our
// EventLoop (src/redis/link.h). No hiredis type appears in a header:
// replies are redis::Reply values.
//
// One Connection is one TCP connection on one EventLoop: requests and
// replies, pipelined, answered in order. Pub/sub needs a connection of its
// own: see subscriber.h.
//
// Threading: single-threaded. Construct, call and destroy it on the loop's
// thread only; every callback runs there too, never inside command().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "loop/event_loop.h"
#include "redis/availability.h"
#include "redis/endpoint.h"
#include "redis/link.h"
#include "redis/reply.h"

namespace switchboard::redis {

class Connection final : private LinkOwner {
 public:
  using Callback = std::function<void(const Reply& reply)>;
  using StateCallback = std::function<void(Availability availability)>;

  // Starts connecting at once (from a task posted to loop): commands may be
  // issued right away. endpoint.host: a numeric address or "localhost"; run
  // resolve() (resolve.h) on anything else before the loop starts. Sends
  // AUTH (if endpoint.password is set; AUTH user password with a username)
  // and SELECT (if endpoint.db != 0) before any command.
  Connection(loop::EventLoop& loop, Endpoint endpoint, Options options = {});
  // Closes the connection; commands issued but not yet written get one
  // non-blocking attempt to leave first (their replies are not awaited).
  // No callback runs after this, pending ones never.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends argv as one command; done (may be empty) gets its reply. Replies
  // come in the order the commands were issued (pipelining: no waiting for
  // a reply before sending the next command).
  //  - ready: sent at the end of this loop iteration's I/O;
  //  - connecting: held, sent once AUTH/SELECT succeeded;
  //  - down: done gets a connection error from a task posted to the loop
  //    (never from inside this call);
  //  - more than Options::max_buffered_bytes waiting to be written: done
  //    gets an error ("ERR queue full ...") the same way, and the command
  //    is not sent.
  // When the connection drops or an attempt fails, every command not yet
  // answered gets a connection error (Reply::is_connection_error()).
  void command(std::span<const std::string_view> argv, Callback done);
  void command(std::initializer_list<std::string_view> argv, Callback done) {
    command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(done));
  }

  // Called with kUp each time the connection gets ready, with kDown when
  // it goes down from ready and when the first attempt fails; never twice
  // in a row with the same value.
  void on_state(StateCallback callback) { on_state_ = std::move(callback); }

  LinkState state() const { return link_.state(); }
  bool is_up() const { return link_.state() == LinkState::kReady; }
  const std::string& last_error() const { return link_.last_error(); }
  std::uint64_t connect_attempts() const { return link_.attempts(); }
  // Down: reconnect at once rather than after the backoff (Link::retry_now).
  void retry_now() { link_.retry_now(); }
  // Commands sent and not answered yet.
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    Callback done;
    std::uint64_t issued_ms;
  };

  void on_link_ready() override;
  void on_link_reply(Reply&& reply) override;
  void on_link_down(const std::string& reason) override;
  std::optional<std::uint64_t> oldest_outstanding_ms() const override;
  void report(Availability availability);

  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::deque<Pending> pending_;
  StateCallback on_state_;
  std::optional<Availability> reported_;
  Link link_;  // last: destroyed first, so it never calls into a dead owner
};

}  // namespace switchboard::redis
