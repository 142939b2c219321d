#include "redis/link.h"

#include <algorithm>

#include "base/backoff.h"
#include "redis/resolve.h"

namespace switchboard::redis {
namespace {

// One line for a failed stream: what failed, then why.
std::string describe(const char* what, const loop::StreamError& error) {
  return std::string(what) + ": " + error.message();
}

}  // namespace

Link::Link(loop::EventLoop& loop, Endpoint endpoint, Options options, LinkOwner& owner)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      options_(options),
      owner_(owner),
      stream_(loop, *this),
      random_(std::random_device{}()) {
  options_.backoff_min_ms = std::max<std::uint64_t>(options_.backoff_min_ms, 1);
  options_.backoff_max_ms = std::max(options_.backoff_max_ms, options_.backoff_min_ms);
  loop_.post([this, alive = alive_] {
    if (*alive) connect();
  });
}

Link::~Link() {
  *alive_ = false;
  // Commands issued last (a node's presence removals as it shuts down)
  // still leave: one non-blocking attempt, no callbacks. What the kernel
  // takes is sent after close() too.
  if (state_ == LinkState::kReady) stream_.flush();
  close_socket();
}

void Link::send(std::span<const std::string_view> argv) {
  switch (state_) {
    case LinkState::kReady:
      encode_command(argv, stream_.write_buffer());
      schedule_flush();
      break;
    case LinkState::kConnecting:
      encode_command(argv, held_);
      break;
    case LinkState::kDown:
      break;
  }
}

void Link::watch_health() {
  if (state_ != LinkState::kReady || health_timer_.armed()) return;
  auto oldest = owner_.oldest_outstanding_ms();
  if (!oldest) return;
  std::uint64_t due = *oldest + options_.command_timeout_ms;
  loop_.arm(health_timer_, due > loop_.now_ms() ? due - loop_.now_ms() : 0);
}

void Link::retry_now() {
  if (state_ != LinkState::kDown) return;
  loop_.post([this, alive = alive_] {
    if (!*alive || state_ != LinkState::kDown) return;
    retry_timer_.cancel();
    connect();
  });
}

void Link::on_health(void* self) {
  auto& link = *static_cast<Link*>(self);
  auto oldest = link.owner_.oldest_outstanding_ms();
  if (!oldest || link.state_ != LinkState::kReady) return;
  std::uint64_t now = link.loop_.now_ms();
  if (now - std::min(now, *oldest) >= link.options_.command_timeout_ms) {
    link.fail("no reply within " + std::to_string(link.options_.command_timeout_ms) + " ms");
    return;
  }
  link.watch_health();
}

void Link::connect() {
  state_ = LinkState::kConnecting;
  ++attempts_;
  auto address = numeric_address(endpoint_.host, endpoint_.port);
  if (!address) {
    fail("host '" + endpoint_.host + "' is not a numeric address: resolve() it before the loop starts");
    return;
  }
  loop::StreamTarget target;
  target.address = reinterpret_cast<const sockaddr*>(&address->storage);
  target.address_size = address->size;
  // Without a context a rediss:// endpoint fails once TCP is up (on_stream_open).
  if (endpoint_.tls && options_.tls) {
    target.tls = options_.tls.get();
    target.tls_host = endpoint_.tls_name();
  }
  loop_.arm(connect_timer_, options_.connect_timeout_ms);
  if (!stream_.connect(target)) on_stream_failed(stream_.error());
}

void Link::on_stream_open() {
  if (endpoint_.tls && !options_.tls) {
    fail("rediss:// needs a TLS context (Options::tls)");
    return;
  }
  start_session();
}

void Link::on_stream_failed(const loop::StreamError& error) {
  using loop::StreamFailure;
  const auto or_closed = [&] { return error.tls_error.empty() ? std::string("connection closed") : error.tls_error; };
  switch (error.failure) {
    case StreamFailure::kSocket:
      fail(describe("socket", error));
      return;
    case StreamFailure::kConnect:
      fail(describe("connect", error));
      return;
    case StreamFailure::kTlsHandshake:
      fail("TLS handshake: " + or_closed());
      return;
    case StreamFailure::kPeerClosed:
      fail("connection closed by the server");
      return;
    case StreamFailure::kRead:
      fail(error.system_error == 0 ? "TLS read: " + error.tls_error : describe("read", error));
      return;
    case StreamFailure::kWrite:
      fail(error.system_error == 0 ? "TLS write: " + or_closed() : describe("write", error));
      return;
  }
}

void Link::start_session() {
  std::string db = std::to_string(endpoint_.db);
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      std::string_view argv[] = {"AUTH", endpoint_.password};
      encode_command(argv, stream_.write_buffer());
    } else {
      std::string_view argv[] = {"AUTH", endpoint_.username, endpoint_.password};
      encode_command(argv, stream_.write_buffer());
    }
    handshake_steps_.push_back("AUTH");
  }
  if (endpoint_.db != 0) {
    std::string_view argv[] = {"SELECT", db};
    encode_command(argv, stream_.write_buffer());
    handshake_steps_.push_back("SELECT");
  }
  if (handshake_steps_.empty()) {
    become_ready();
    return;
  }
  flush();  // write first; EPOLLOUT is watched only if bytes are left
}

void Link::become_ready() {
  state_ = LinkState::kReady;
  connect_timer_.cancel();
  failures_ = 0;
  if (!held_.empty()) {
    stream_.write_buffer().append(held_);
    held_.clear();
    held_.shrink_to_fit();
    schedule_flush();
  }
  watch_health();
  owner_.on_link_ready();  // may destroy this: nothing after it
}

void Link::on_stream_data(char* data, std::size_t size) {
  if (!reader_.feed(data, size)) {
    fail("protocol error: " + reader_.error());
    return;
  }
  handle_replies();
}

void Link::handle_replies() {
  std::uint64_t generation = generation_;
  auto alive = alive_;
  Reply reply;
  for (;;) {
    ReadOutcome outcome = reader_.next(reply);
    if (outcome == ReadOutcome::kNeedMore) return;
    if (outcome == ReadOutcome::kProtocolError) {
      fail("protocol error: " + reader_.error());
      return;
    }
    if (!handshake_steps_.empty()) {
      const char* step = handshake_steps_.front();
      handshake_steps_.erase(handshake_steps_.begin());
      if (reply.is_error()) {
        fail(std::string(step) + " failed: " + reply.str);
        return;
      }
      if (handshake_steps_.empty()) become_ready();
    } else {
      owner_.on_link_reply(std::move(reply));
    }
    // A callback may have destroyed this Link or dropped the connection.
    if (!*alive || generation != generation_) return;
  }
}

void Link::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Runs after this iteration's I/O handlers: every command issued while
  // handling one batch of events leaves in one send.
  loop_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flush();
  });
}

void Link::flush() {
  // Not open (connecting, or closed): the bytes wait, or went with the socket.
  if (!stream_.is_open()) return;
  if (stream_.flush() == loop::WriteStatus::kFailed) on_stream_failed(stream_.error());
}

void Link::close_socket() {
  stream_.close();
  ++generation_;
  held_.clear();
  handshake_steps_.clear();
  reader_.reset();
  connect_timer_.cancel();
  health_timer_.cancel();
}

void Link::fail(std::string reason) {
  close_socket();
  state_ = LinkState::kDown;
  last_error_ = std::move(reason);
  ++failures_;
  loop_.arm(retry_timer_, next_backoff_ms());
  std::string copy = last_error_;  // the owner may destroy this Link
  owner_.on_link_down(copy);       // so nothing after it
}

std::uint64_t Link::next_backoff_ms() {
  const base::BackoffPolicy policy{options_.backoff_min_ms, options_.backoff_max_ms, 2.0, 1.0,
                                   base::JitterFloor::kMinDelay};
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  return base::backoff_delay_ms(policy, failures_ - 1, draw);
}

void Link::on_connect_timeout(void* self) {
  auto& link = *static_cast<Link*>(self);
  link.fail("connect timed out after " + std::to_string(link.options_.connect_timeout_ms) + " ms");
}

void Link::on_retry(void* self) { static_cast<Link*>(self)->connect(); }

}  // namespace switchboard::redis
