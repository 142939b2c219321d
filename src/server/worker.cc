#include "server/worker.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/log.h"
#include "server/forwarded.h"
#include "server/handshake.h"
#include "server/server_connection.h"
#include "server/tls_state.h"

namespace switchboard::server {

Worker::Worker(unsigned index, const ServerConfig& config, WebSocketHandler& handler, const Router& router,
               std::shared_ptr<PostGate> post_gate, Admission& admission, std::uint16_t port, TlsState* tls,
               std::uint16_t tls_port)
    : index_(index),
      config_(config),
      handler_(handler),
      router_(router),
      post_gate_(std::move(post_gate)),
      admission_(admission),
      drain_deadline_(&on_drain_deadline, this),
      drain_tick_(&on_drain_tick, this) {
  tls_ = tls;
  // The first worker claims the port; the others join it.
  const loop::PortClaim claim = index == 0 ? loop::PortClaim::kFirst : loop::PortClaim::kJoin;
  // The context is read at each accept: a reload swaps it for new handshakes.
  const auto accept_tls = [this](int fd, const std::string& peer) {
    const std::shared_ptr<const loop::TlsServerContext> context = tls_->context.load();
    accept(fd, peer, context->get());
  };
  const auto accept_plain = [this](int fd, const std::string& peer) { accept(fd, peer); };
  const bool main_is_tls = tls != nullptr && !config.tls_port;
  if (main_is_tls) {
    listener_ = std::make_unique<loop::Listener>(loop_, loop::ListenAddress{config.host, port}, accept_tls, claim);
  } else {
    listener_ = std::make_unique<loop::Listener>(loop_, loop::ListenAddress{config.host, port}, accept_plain, claim);
  }
  if (tls != nullptr && config.tls_port) {
    tls_listener_ =
        std::make_unique<loop::Listener>(loop_, loop::ListenAddress{config.host, tls_port}, accept_tls, claim);
  }
  // Order matters: the batch is written before closed connections are freed.
  loop_.add_end_of_iteration_hook([this] { flush_batch(); });
  loop_.add_end_of_iteration_hook([this] { delete_retired(); });
}

struct Worker::DelayedTask {
  DelayedTask(Worker& owner, std::function<void()> work)
      : worker(owner), task(std::move(work)), timer(&Worker::on_delayed_task, this) {}
  Worker& worker;
  std::function<void()> task;
  loop::Timer timer;
  DelayedTask* prev = nullptr;
  DelayedTask* next = nullptr;
};

void Worker::run_after(std::uint64_t delay_ms, std::function<void()> task) {
  auto* delayed = new DelayedTask(*this, std::move(task));
  delayed->next = delayed_;
  if (delayed_ != nullptr) delayed_->prev = delayed;
  delayed_ = delayed;
  loop_.arm(delayed->timer, delay_ms);
}

void Worker::on_delayed_task(void* context) {
  auto* delayed = static_cast<DelayedTask*>(context);
  Worker& worker = delayed->worker;
  if (delayed->prev != nullptr) {
    delayed->prev->next = delayed->next;
  } else {
    worker.delayed_ = delayed->next;
  }
  if (delayed->next != nullptr) delayed->next->prev = delayed->prev;
  // The wheel no longer touches a timer once its callback runs.
  std::function<void()> task = std::move(delayed->task);
  delete delayed;
  task();
}

Worker::~Worker() {
  while (delayed_ != nullptr) {
    DelayedTask* delayed = delayed_;
    delayed_ = delayed->next;
    delete delayed;
  }
  for (loop::SharedBuffer* frame : pinned_) frame->release();
  // Anything still here when the loop is gone (drain deadline) is dropped.
  while (live_ != nullptr) {
    ServerConnection* connection = live_;
    live_ = connection->next;
    delete connection;
  }
  delete_retired();
}

void Worker::run() { loop_.run(); }

std::uint16_t Worker::tls_port() const {
  if (tls_listener_) return tls_listener_->port();
  return tls_ != nullptr ? listener_->port() : 0;
}

void Worker::count_tls_failure(loop::TlsFailure failure) {
  if (tls_ != nullptr) tls_->count(failure);
}

void Worker::accept(int fd, const std::string& peer, ssl_ctx_st* tls_context) {
  // Ids are unique per process: the worker index in the low byte.
  std::uint64_t id = (++next_id_ << 8) | index_;
  bool counted = false;
  const Admission::Verdict verdict = admission_.admit(index_, peer, loop_.now_ms(), &counted);
  auto* connection = new ServerConnection(*this, fd, peer, id);
  if (admission_.trusted_proxies().contains(peer)) connection->trust_forwarded_for();
  if (verdict == Admission::Verdict::kTooManyFromAddress) connection->refuse(429);
  if (verdict == Admission::Verdict::kTooManyNew) connection->refuse(503);
  if (counted) counted_.emplace(connection, peer);
  connection->next = live_;
  if (live_ != nullptr) live_->prev = connection;
  live_ = connection;
  ++live_count_;
  if (tls_context != nullptr && !connection->start_tls(tls_context)) connection->abort();
}

void Worker::admit_request(ServerConnection& connection, Handshake& handshake) {
  if (handshake.via_trusted_proxy) {
    std::vector<std::string_view> forwarded_for;
    for (const auto& header : handshake.request.headers) {
      if (base::ascii_iequals(header.name, "X-Forwarded-For")) forwarded_for.push_back(header.value);
    }
    handshake.peer = client_address(handshake.peer, forwarded_for, admission_.trusted_proxies());
  }
  if (is_health_check(handshake, router_)) {
    // A connection flood must not fail the load balancer's checks; the
    // answer closes the connection, so nothing else can follow on it.
    handshake.refuse_status = 0;
    release_slot(connection);
    return;
  }
  if (handshake.via_trusted_proxy && handshake.refuse_status == 0) {
    bool counted = false;
    if (admission_.admit_address(handshake.peer, &counted) != Admission::Verdict::kAdmit) {
      handshake.refuse_status = 429;
    }
    if (counted) counted_.emplace(&connection, handshake.peer);
  }
  if (handshake.refuse_status != 0) {
    admission_.count_refusal(handshake.refuse_status == 429 ? Admission::Verdict::kTooManyFromAddress
                                                            : Admission::Verdict::kTooManyNew);
  }
}

void Worker::release_slot(const ServerConnection& connection) {
  if (counted_.empty()) return;
  if (auto it = counted_.find(&connection); it != counted_.end()) {
    admission_.release(it->second);
    counted_.erase(it);
  }
}

void Worker::retire(ServerConnection& connection) {
  if (connection.prev != nullptr) {
    connection.prev->next = connection.next;
  } else {
    live_ = connection.next;
  }
  if (connection.next != nullptr) connection.next->prev = connection.prev;
  connection.prev = connection.next = nullptr;
  --live_count_;
  release_slot(connection);
  retired_.push_back(&connection);
  finish_drain_if_done();
}

void Worker::batch(ServerConnection& connection, const SharedMessage& frame) {
  loop::SharedBuffer* buffer = frame.buffer();
  // A fan-out sends one frame to many connections in a row: pin it once.
  if (pinned_.empty() || pinned_.back() != buffer) {
    buffer->retain();
    pinned_.push_back(buffer);
  }
  batch_.push_back({&connection, buffer});
  ++connection.batched;
}

void Worker::flush_batch() {
  // write_batch never calls the handler, so nothing is batched while we
  // flush; the swap keeps the vectors' capacity from one iteration to the next.
  if (batch_.empty()) return;
  flushing_.swap(batch_);
  unpinning_.swap(pinned_);
  // Group the frames per connection, keeping their order (a counting sort:
  // `batched` is each connection's count, `batch_cursor` its slot).
  std::uint32_t next = 0;
  for (const BatchEntry& entry : flushing_) {
    ServerConnection& connection = *entry.connection;
    if (connection.batch_cursor == ServerConnection::kNoBatchCursor) {
      connection.batch_cursor = next;
      next += connection.batched;
    }
  }
  batch_frames_.resize(flushing_.size());
  for (const BatchEntry& entry : flushing_) batch_frames_[entry.connection->batch_cursor++] = entry.frame;
  for (const BatchEntry& entry : flushing_) {
    ServerConnection& connection = *entry.connection;
    if (connection.batched == 0) continue;  // written already
    std::uint32_t end = connection.batch_cursor;
    std::uint32_t count = connection.batched;
    connection.batched = 0;
    connection.batch_cursor = ServerConnection::kNoBatchCursor;
    connection.write_batch(&batch_frames_[end - count], count);
  }
  flushing_.clear();
  for (loop::SharedBuffer* frame : unpinning_) frame->release();
  unpinning_.clear();
}

void Worker::delete_retired() {
  for (ServerConnection* connection : retired_) delete connection;
  retired_.clear();
}

namespace {
constexpr std::uint64_t kDrainTickMs = 50;
}  // namespace

void Worker::start_drain() {
  loop_.post([this] {
    if (config_.drain_notice_ms == 0) {
      begin_drain();
    } else {
      run_after(config_.drain_notice_ms, [this] { begin_drain(); });
    }
  });
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  drain_began_ms_ = loop_.now_ms();
  listener_->close();
  if (tls_listener_) tls_listener_->close();
  // Collect first: closing a connection that is still in its handshake
  // unlinks it from live_ at once. Those go now; open WebSockets go in
  // batches (close_drain_batch).
  std::vector<ServerConnection*> connections;
  std::size_t open = 0;
  for (ServerConnection* c = live_; c != nullptr; c = c->next) {
    if (c->state() == ServerConnection::State::kOpen) {
      ++open;
    } else {
      connections.push_back(c);
    }
  }
  for (ServerConnection* connection : connections)
    connection->start_close(CloseCode::kGoingAway, "server shutting down");
  // The spread leaves at least half the drain timeout for the closing
  // handshakes themselves.
  const std::uint64_t spread = std::min(config_.drain_spread_ms, config_.drain_timeout_ms / 2);
  const std::uint64_t ticks = std::max<std::uint64_t>(1, spread / kDrainTickMs);
  drain_per_tick_ = std::max<std::size_t>(1, (open + ticks - 1) / ticks);
  loop_.arm(drain_deadline_, config_.drain_timeout_ms);
  close_drain_batch();
  finish_drain_if_done();
}

void Worker::close_drain_batch() {
  std::vector<ServerConnection*> batch;
  batch.reserve(drain_per_tick_);
  for (ServerConnection* c = live_; c != nullptr && batch.size() < drain_per_tick_; c = c->next) {
    if (c->state() == ServerConnection::State::kOpen && !c->going_away()) batch.push_back(c);
  }
  const std::uint64_t within = answer_bound();
  for (ServerConnection* connection : batch) {
    connection->set_going_away();
    if (handler_.on_going_away(*connection, within) == GoingAway::kHandlerCloses && within > 0) continue;
    connection->start_close(CloseCode::kGoingAway, "server shutting down");
  }
  if (batch.size() == drain_per_tick_) loop_.arm(drain_tick_, kDrainTickMs);
}

std::uint64_t Worker::answer_bound() const {
  const std::uint64_t elapsed = loop_.now_ms() - drain_began_ms_;
  const std::uint64_t left = config_.drain_timeout_ms > elapsed ? config_.drain_timeout_ms - elapsed : 0;
  return std::min(config_.drain_answer_ms, left / 2);
}

void Worker::on_drain_tick(void* self) { static_cast<Worker*>(self)->close_drain_batch(); }

void Worker::finish_drain_if_done() {
  if (draining_ && live_count_ == 0) loop_.quit();
}

void Worker::on_drain_deadline(void* self) {
  auto* worker = static_cast<Worker*>(self);
  base::log(base::LogLevel::kWarn, "worker %u: drain deadline passed with %zu connections; dropping them",
            worker->index_, worker->live_count_.load());
  std::vector<ServerConnection*> connections;
  for (ServerConnection* c = worker->live_; c != nullptr; c = c->next) connections.push_back(c);
  for (ServerConnection* connection : connections) connection->abort();
  worker->drain_tick_.cancel();
  worker->loop_.quit();
}

}  // namespace switchboard::server
