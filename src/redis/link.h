// The socket underneath Connection and Subscriber: one TCP connection to one
// Redis server on one EventLoop (a loop::OutboundStream, TLS for rediss://),
// with the AUTH and SELECT handshake, commands coalesced per loop iteration,
// RESP parsing, a connection-level reply timeout, and reconnection with
// exponential backoff and full jitter. What the replies mean is the owner's
// business.
//
// Threading: everything runs on the loop's thread, including construction
// and destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loop/event_loop.h"
#include "loop/outbound_stream.h"
#include "loop/timer_wheel.h"
#include "loop/tls.h"
#include "redis/endpoint.h"
#include "redis/protocol.h"
#include "redis/reply.h"

namespace switchboard::redis {

struct Options {
  // From the start of a connect attempt until AUTH and SELECT are answered.
  std::uint64_t connect_timeout_ms = 3000;
  // A reply outstanding longer than this means the connection is dead: it
  // is closed and reconnected (no per-command timeout).
  std::uint64_t command_timeout_ms = 5000;
  // Delay before reconnect attempt n (n = 1, 2, ...): uniform in
  // [backoff_min_ms, min(backoff_max_ms, backoff_min_ms * 2^(n-1))] ("full
  // jitter", floored at the minimum so a dead server is never spun on:
  // base/backoff.h with JitterFloor::kMinDelay). Reset after a connection
  // gets ready.
  std::uint64_t backoff_min_ms = 100;
  std::uint64_t backoff_max_ms = 5000;
  // Commands not yet written to a Redis that is slow to read (or still
  // connecting) may hold this many bytes; a command beyond it fails at
  // once ("queue full") instead of growing memory without bound.
  std::size_t max_buffered_bytes = 64u << 20;
  // For an endpoint with tls (rediss://): the context to verify the server
  // with (loop::TlsContext::create). Without it such an endpoint fails to connect.
  std::shared_ptr<const loop::TlsContext> tls;
};

enum class LinkState : std::uint8_t {
  kConnecting,  // TCP connect or the AUTH/SELECT handshake under way
  kReady,       // handshake done: commands flow
  kDown,        // waiting for the backoff timer before the next attempt
};

// What a Link tells its owner. Every call may destroy the owner (and with
// it the Link): the Link touches nothing of itself after such a call returns
// to find itself destroyed.
class LinkOwner {
 public:
  // The handshake succeeded: the owner may send (again).
  virtual void on_link_ready() = 0;
  // A reply to something the owner sent (handshake replies stay inside).
  virtual void on_link_reply(Reply&& reply) = 0;
  // The connection closed or an attempt failed: nothing sent will be
  // answered any more. reason is one line ("connect: Connection refused").
  virtual void on_link_down(const std::string& reason) = 0;
  // When (loop ms) the oldest reply the owner still waits for was asked for.
  virtual std::optional<std::uint64_t> oldest_outstanding_ms() const = 0;

 protected:
  ~LinkOwner() = default;
};

class Link final : public loop::StreamOwner {
 public:
  // Starts the first connect attempt from a task posted to loop, so no
  // owner callback runs inside the constructor. endpoint.host must be a
  // numeric address or "localhost" (see resolve.h); otherwise every attempt
  // fails with a reason saying so.
  Link(loop::EventLoop& loop, Endpoint endpoint, Options options, LinkOwner& owner);
  // Closes the socket and cancels the timers; no owner callback after it.
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  LinkState state() const { return state_; }
  // Encodes a command and queues it: in kReady it is sent at the end of
  // this loop iteration's I/O (writes are coalesced, never blocking); in
  // kConnecting it is held until the handshake is done; in kDown it is
  // dropped (owners check state() first).
  void send(std::span<const std::string_view> argv);
  // Makes sure the reply timeout watches owner.oldest_outstanding_ms():
  // call after sending something that expects a reply.
  void watch_health();
  // Down (waiting out its backoff): the next attempt at once, from a task
  // posted to the loop, instead of at the end of the backoff; otherwise
  // nothing. For when the server is known to be back: another connection
  // to it just got ready.
  void retry_now();

  loop::EventLoop& loop() { return loop_; }
  const Options& options() const { return options_; }
  // Why the last attempt failed or the last connection dropped.
  const std::string& last_error() const { return last_error_; }
  // Connect attempts started so far (for tests and metrics).
  std::uint64_t attempts() const { return attempts_; }
  // Bytes of commands not yet written to the socket.
  std::size_t buffered_bytes() const { return stream_.buffered_bytes() + held_.size(); }

  // The stream's owner (loop/outbound_stream.h): TCP (and TLS) is up,
  // bytes arrived, the connection failed.
  void on_stream_open() override;
  void on_stream_data(char* data, std::size_t size) override;
  void on_stream_failed(const loop::StreamError& error) override;

 private:
  void connect();
  // TCP (and TLS) is up: AUTH/SELECT.
  void start_session();
  void become_ready();
  // Hands every complete reply in reader_ to the handshake or the owner.
  void handle_replies();
  void flush();
  void schedule_flush();
  void close_socket();
  // Closes the socket, arms the retry timer, then tells the owner (last:
  // the owner may destroy this Link).
  void fail(std::string reason);
  std::uint64_t next_backoff_ms();

  static void on_connect_timeout(void* self);
  static void on_retry(void* self);
  static void on_health(void* self);

  loop::EventLoop& loop_;
  Endpoint endpoint_;
  Options options_;
  LinkOwner& owner_;
  // Set to false by the destructor; posted tasks and callback loops check it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  loop::OutboundStream stream_;
  LinkState state_ = LinkState::kConnecting;
  bool flush_posted_ = false;
  // Bumped whenever the socket is closed, so a loop over replies notices
  // that a callback replaced the connection under it.
  std::uint64_t generation_ = 0;

  std::string held_;                          // commands sent while kConnecting
  std::vector<const char*> handshake_steps_;  // "AUTH", "SELECT": replies due
  ReplyReader reader_;

  loop::Timer connect_timer_{&Link::on_connect_timeout, this};
  loop::Timer retry_timer_{&Link::on_retry, this};
  loop::Timer health_timer_{&Link::on_health, this};
  std::uint32_t failures_ = 0;  // consecutive failed attempts
  std::uint64_t attempts_ = 0;
  std::minstd_rand random_;
  std::string last_error_;
};

}  // namespace switchboard::redis
