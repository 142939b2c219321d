#include "redis/connection.h"

namespace switchboard::redis {

Connection::Connection(loop::EventLoop& loop, Endpoint endpoint, Options options)
    : link_(loop, std::move(endpoint), options, *this) {}

Connection::~Connection() { *alive_ = false; }

void Connection::command(std::span<const std::string_view> argv, Callback done) {
  if (link_.state() == LinkState::kDown) {
    link_.loop().post([alive = alive_, done = std::move(done), reason = link_.last_error()] {
      if (*alive && done) done(Reply::connection_error(reason));
    });
    return;
  }
  if (link_.buffered_bytes() >= link_.options().max_buffered_bytes) {
    link_.loop().post([alive = alive_, done = std::move(done)] {
      if (*alive && done) done(Reply::error("ERR queue full: Redis is not reading the commands fast enough"));
    });
    return;
  }
  link_.send(argv);
  pending_.push_back({std::move(done), link_.loop().now_ms()});
  link_.watch_health();
}

void Connection::on_link_ready() { report(Availability::kUp); }

void Connection::on_link_reply(Reply&& reply) {
  if (pending_.empty()) return;  // cannot happen: Redis answers each command once
  Callback done = std::move(pending_.front().done);
  pending_.pop_front();
  if (done) done(reply);
}

void Connection::on_link_down(const std::string& reason) {
  std::deque<Pending> failed;
  failed.swap(pending_);
  auto alive = alive_;
  for (auto& entry : failed) {
    if (entry.done) entry.done(Reply::connection_error(reason));
    if (!*alive) return;  // a callback destroyed this Connection
  }
  report(Availability::kDown);
}

std::optional<std::uint64_t> Connection::oldest_outstanding_ms() const {
  if (pending_.empty()) return std::nullopt;
  return pending_.front().issued_ms;
}

void Connection::report(Availability availability) {
  if (reported_ == availability) return;
  reported_ = availability;
  if (on_state_) on_state_(availability);
}

}  // namespace switchboard::redis
