#include "client/core.h"

#include <cerrno>
#include <chrono>
#include <exception>

#include "client/commands.h"
#include "client/handshake.h"
#include "protocol/error_code.h"
#include "protocol/subprotocol.h"

namespace switchboard::client {
namespace {

constexpr auto kInvalidTokenClose = static_cast<std::uint16_t>(protocol::ServerCloseCode::kInvalidToken);
constexpr auto kTokenExpiredClose = static_cast<std::uint16_t>(protocol::ServerCloseCode::kTokenExpired);

base::BackoffPolicy backoff_policy(const ClientOptions& options) {
  base::BackoffPolicy policy{options.min_delay_ms, options.max_delay_ms, options.factor, options.jitter};
  policy.refused_max_delay_ms = options.refused_max_delay_ms;
  return policy;
}

}  // namespace

Core::Core(ClientOptions options) : options_(std::move(options)), backoff_(backoff_policy(options_)) {}

Core::~Core() = default;

void Core::start_thread() {
  thread_ = std::thread([this] { loop_.run(); });
}

void Core::stop_and_join() {
  if (!thread_.joinable()) return;
  loop_.stop_soon();
  thread_.join();
}

// ---- any thread ------------------------------------------------------------

std::string Core::connect(std::string_view url_text) {
  TransportSettings settings;
  base::Result<WsUrl> url = parse_ws_url(url_text);
  if (!url) return url.error();
  settings.url = *std::move(url);
  for (const std::string& header : options_.headers) {
    if (const base::Result<void> checked = check_header_line(header); !checked) return "header " + checked.error();
  }
  if (settings.url.secure()) {
    auto tls = loop::TlsContext::create({options_.tls_ca_file, {}, {}});
    if (!tls) return "TLS: " + tls.error();
    settings.tls = *std::move(tls);
  }
  settings.headers = options_.headers;
  settings.subprotocol = std::string(protocol::kSubprotocol);
  settings.max_message_size = options_.max_message_size;
  if (state() == ClientState::kClosed) return "the client is closed";
  if (started_.exchange(true)) return "connect() was called already";
  loop_.post([this, settings = std::move(settings)]() mutable { connect_in_loop(std::move(settings)); });
  return "";
}

void Core::close() {
  loop_.post([this] { close_in_loop(); });
}

void Core::submit(Request request) {
  loop_.post([this, request = std::move(request)]() mutable { submit_in_loop(std::move(request)); });
}

void Core::add_subscription(std::shared_ptr<SubscriptionRecord> record) {
  loop_.post([this, record = std::move(record)] { add_subscription_in_loop(record); });
}

void Core::remove_subscription(std::shared_ptr<SubscriptionRecord> record) {
  loop_.post([this, record = std::move(record)] { remove_subscription_in_loop(record); });
}

bool Core::wait_connected(std::uint64_t timeout_ms) {
  std::unique_lock lock(state_mutex_);
  state_changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
    const ClientState now = state();
    return now == ClientState::kConnected || now == ClientState::kClosed;
  });
  return state() == ClientState::kConnected;
}

// ---- the loop thread: caller's requests --------------------------------------

void Core::connect_in_loop(TransportSettings settings) {
  if (closed_) return;
  settings_ = std::move(settings);
  start_attempt();
}

void Core::close_in_loop() {
  if (closed_) return;
  if (transport_ != nullptr) transport_->close(1000);
  retire_transport();
  shut_down("closed by the application", 0);
}

void Core::submit_in_loop(Request request) {
  if (closed_) {
    request.done(Result::failure(error_of(ClientErrorKind::kClosed, "the client is closed")));
  } else if (state() == ClientState::kConnected) {
    send_request(std::move(request));
  } else if (queue_.size() >= options_.max_queued) {
    request.done(Result::failure(error_of(ClientErrorKind::kQueueFull, "queue full")));
  } else {
    queue_.push_back(std::move(request));
  }
}

// ---- the loop thread: the connection ------------------------------------------

void Core::start_attempt() {
  set_state({ClientState::kConnecting});
  try {
    token_ = options_.token_provider ? options_.token_provider() : options_.token;
  } catch (const std::exception& failure) {
    connection_lost({EndKind::kConnectFailed, std::string("token provider failed: ") + failure.what()},
                    Finality::kRetry);
    return;
  }
  base::Result<Endpoint> endpoint = resolve(settings_.url);
  if (!endpoint) {
    connection_lost({EndKind::kConnectFailed, endpoint.error()}, Finality::kRetry);
    return;
  }
  settings_.endpoint = *std::move(endpoint);
  server_said_final_ = false;
  server_moved_us_ = false;
  server_answered_ = false;
  disconnect_reason_.clear();
  transport_ = std::make_unique<Transport>(loop_, *this, settings_);
  loop_.arm(connect_timer_, options_.connect_timeout_ms);
  transport_->start();
}

void Core::on_transport_open() { send_command(connect_body(token_), {PendingKind::kConnect, {}, {}}); }

void Core::on_transport_activity() { pong_timer_.cancel(); }

void Core::on_transport_text(std::string_view text) {
  base::Result<ServerMessage> decoded = decoder_.decode(text);
  if (!decoded) {
    report(error_of(ClientErrorKind::kConnection, "unreadable server message: " + decoded.error()));
    return;
  }
  ServerMessage& message = *decoded;
  switch (message.type) {
    case ServerMessageType::kReply:
    case ServerMessageType::kError:
    case ServerMessageType::kPong:
      if (message.type == ServerMessageType::kError && message.id == 0) {
        report(error_of(ClientErrorKind::kServer, message.text, message.code));
        return;
      }
      on_answer(message);
      return;
    case ServerMessageType::kMessage:
    case ServerMessageType::kJoin:
    case ServerMessageType::kLeave:
    case ServerMessageType::kReset:
      dispatch_channel_event(message);
      return;
    case ServerMessageType::kDirect:
      if (options_.on_direct) options_.on_direct(message.user, message.data);
      return;
    case ServerMessageType::kRefresh:
      on_refresh_request();
      return;
    case ServerMessageType::kDisconnect:
      // The close frame follows; this says whether to come back after it.
      server_said_final_ = !message.reconnect;
      server_moved_us_ = message.reconnect;
      server_answered_ = message.answered;
      disconnect_reason_ = message.text;
      return;
    case ServerMessageType::kUnknown:
      return;
  }
}

void Core::on_answer(const ServerMessage& message) {
  auto entry = in_flight_.find(message.id);
  if (entry == in_flight_.end()) return;  // timed out already, or not ours
  Pending pending = std::move(entry->second);
  in_flight_.erase(entry);
  const bool ok = message.type != ServerMessageType::kError;
  switch (pending.kind) {
    case PendingKind::kRequest: {
      deadlines_.erase({pending.deadline_ms, message.id});
      if (!ok) {
        pending.done(Result::failure(error_of(ClientErrorKind::kServer, message.text, message.code)));
        return;
      }
      const std::string data = message.type == ServerMessageType::kPong ? "{}" : message.data;
      const Reach reach =
          pending.reply == ReplyKind::kPublish && decoder_.is_local_only(data) ? Reach::kLocalOnly : Reach::kEverywhere;
      pending.done(Result::success(data, reach));
      return;
    }
    case PendingKind::kConnect:
      if (ok) {
        on_connected(message.data);
        return;
      }
      // An invalid token is followed by close 4001, which is final;
      // anything else ends this attempt now (the next one may do better).
      report(error_of(ClientErrorKind::kServer, message.text, message.code));
      if (message.code != static_cast<int>(protocol::ErrorCode::kInvalidToken))
        abandon_connection("connect refused: " + message.text);
      return;
    case PendingKind::kSubscribe:
      on_subscribe_answer(pending, message);
      return;
    case PendingKind::kRefresh:
      if (!ok) report(error_of(ClientErrorKind::kServer, "refresh: " + message.text, message.code));
      return;
    case PendingKind::kUnsubscribe:
    case PendingKind::kHeartbeat:
      return;
  }
}

void Core::on_connected(std::string_view data_json) {
  connect_timer_.cancel();
  StateChange change{ClientState::kConnected};
  decoder_.decode_connect_reply(data_json, &change.client_id, &change.user);
  set_state(std::move(change));
  loop_.arm(stable_timer_, options_.stable_after_ms);
  if (options_.ping_interval_ms > 0) loop_.arm(ping_timer_, options_.ping_interval_ms);
  // Subscriptions first, then what waited: a queued publish to a channel
  // this client reads comes back to it.
  for (auto& [channel, record] : subscriptions_) send_subscribe(record);
  while (!queue_.empty() && state() == ClientState::kConnected) {
    Request request = std::move(queue_.front());
    queue_.pop_front();
    send_request(std::move(request));
  }
}

void Core::on_refresh_request() {
  // Without a provider there is no new token: the server closes 4002,
  // which is final for a static token.
  if (!options_.token_provider) return;
  try {
    token_ = options_.token_provider();
  } catch (const std::exception& failure) {
    report(error_of(ClientErrorKind::kConnection, std::string("token provider failed: ") + failure.what()));
    return;
  }
  send_command(refresh_body(token_), {PendingKind::kRefresh, {}, {}});
}

std::uint64_t Core::send_command(std::string_view body, Pending pending) {
  const std::uint64_t id = ++next_id_;
  in_flight_.emplace(id, std::move(pending));
  transport_->send_text(encode_command(id, body));
  return id;
}

void Core::send_request(Request request) {
  const std::uint64_t timeout = request.timeout_ms > 0 ? request.timeout_ms : options_.request_timeout_ms;
  const std::uint64_t deadline = loop_.now_ms() + timeout;
  Pending pending{PendingKind::kRequest, std::move(request.done), {}, deadline, request.reply};
  pending.timeout_ms = request.timeout_ms;
  const std::uint64_t id = send_command(request.body, std::move(pending));
  in_flight_.at(id).body = std::move(request.body);
  deadlines_.emplace(deadline, id);
  arm_request_timer();
}

void Core::on_transport_end(const TransportEnd& end) {
  Finality finality = Finality::kRetry;
  // An upgrade refused with 400, 401, 403 or 404 would be refused again:
  // the URL or the credentials are wrong, not the moment.
  const bool refused_for_good =
      end.kind == EndKind::kUpgradeRefused &&
      (end.http_status == 400 || end.http_status == 401 || end.http_status == 403 || end.http_status == 404);
  // Close codes after which coming back is pointless (docs/PROTOCOL.md).
  if (!options_.reconnect || server_said_final_ || end.close_code == kInvalidTokenClose ||
      (end.close_code == kTokenExpiredClose && !options_.token_provider) || refused_for_good) {
    finality = Finality::kFinal;
  }
  TransportEnd told = end;
  if (!disconnect_reason_.empty() && end.kind == EndKind::kClosedByServer) {
    told.reason += " (" + disconnect_reason_ + ")";
  }
  retire_transport();
  connection_lost(told, finality);
}

void Core::abandon_connection(std::string reason) {
  if (transport_ != nullptr) transport_->close(1001);
  retire_transport();
  connection_lost({EndKind::kLost, std::move(reason), 0}, options_.reconnect ? Finality::kRetry : Finality::kFinal);
}

void Core::connection_lost(const TransportEnd& end, Finality finality) {
  connect_timer_.cancel();
  ping_timer_.cancel();
  pong_timer_.cancel();
  stable_timer_.cancel();
  if (server_answered_) put_back_in_flight();
  fail_in_flight(ClientErrorKind::kDisconnected, "disconnected: " + end.reason);
  for (auto& [channel, record] : subscriptions_) {
    record->sent = false;
    transition(*record, SubscriptionState::kSubscribed, SubscriptionState::kSubscribing);
  }
  report(error_of(ClientErrorKind::kConnection, end.reason, end.close_code));
  if (finality == Finality::kFinal) {
    shut_down(end.reason, end.close_code);
    return;
  }
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  // Refused: nothing listens on the port yet, the node is (re)starting and
  // will be back in moments.
  const base::FailureKind failure = end.kind == EndKind::kConnectFailed && end.system_error == ECONNREFUSED
                                        ? base::FailureKind::kRefused
                                        : base::FailureKind::kOther;
  // A server moving its clients (a drain) is no failure: the attempts do
  // not grow, and the delay is the first step's, jittered.
  const std::uint32_t step = server_moved_us_ ? 0 : attempt_++;
  const std::uint64_t delay =
      base::honour_retry_after(base::backoff_delay_ms(backoff_, step, draw, failure), end.retry_after_s);
  StateChange change{ClientState::kDisconnected, end.reason, end.close_code, delay, attempt_};
  loop_.arm(reconnect_timer_, delay);
  set_state(std::move(change));
}

void Core::put_back_in_flight() {
  std::map<std::uint64_t, Request> unanswered;  // by id: the order they were sent in
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.kind != PendingKind::kRequest) {
      ++it;
      continue;
    }
    Pending& pending = it->second;
    unanswered.emplace(it->first,
                       Request{std::move(pending.body), std::move(pending.done), pending.timeout_ms, pending.reply});
    it = in_flight_.erase(it);
  }
  for (auto it = unanswered.rbegin(); it != unanswered.rend(); ++it) queue_.push_front(std::move(it->second));
}

void Core::fail_in_flight(ClientErrorKind kind, std::string_view message) {
  std::unordered_map<std::uint64_t, Pending> in_flight;
  in_flight.swap(in_flight_);
  deadlines_.clear();
  request_timer_.cancel();
  for (auto& [id, pending] : in_flight) {
    if (pending.kind == PendingKind::kRequest) pending.done(Result::failure(error_of(kind, std::string(message))));
  }
}

void Core::shut_down(std::string reason, std::uint16_t close_code) {
  closed_ = true;
  for (loop::Timer* timer : {&reconnect_timer_, &connect_timer_, &ping_timer_, &pong_timer_, &stable_timer_}) {
    timer->cancel();
  }
  fail_in_flight(ClientErrorKind::kClosed, "closed");
  std::deque<Request> queue;
  queue.swap(queue_);
  for (Request& request : queue) request.done(Result::failure(error_of(ClientErrorKind::kClosed, "closed")));
  std::map<std::string, std::shared_ptr<SubscriptionRecord>> subscriptions;
  subscriptions.swap(subscriptions_);
  for (auto& [channel, record] : subscriptions) {
    record->sent = false;
    record->state.store(SubscriptionState::kUnsubscribed);
  }
  StateChange change{ClientState::kClosed, std::move(reason), close_code};
  set_state(std::move(change));
}

void Core::retire_transport() {
  if (transport_ == nullptr) return;
  retired_.push_back(std::move(transport_));
  if (retired_.size() == 1) loop_.post([this] { retired_.clear(); });
}

void Core::set_state(StateChange change) {
  {
    std::lock_guard lock(state_mutex_);
    state_.store(change.state, std::memory_order_release);
  }
  state_changed_.notify_all();
  if (options_.on_state) options_.on_state(change);
}

void Core::report(ClientError error) {
  if (options_.on_error) options_.on_error(error);
}

void Core::arm_request_timer() {
  if (deadlines_.empty()) {
    request_timer_.cancel();
    return;
  }
  const std::uint64_t first = deadlines_.begin()->first;
  const std::uint64_t now = loop_.now_ms();
  loop_.arm(request_timer_, first > now ? first - now : 0);
}

// ---- timers ---------------------------------------------------------------------

void Core::on_reconnect_timer(void* self) {
  auto* core = static_cast<Core*>(self);
  if (!core->closed_) core->start_attempt();
}

void Core::on_connect_timer(void* self) { static_cast<Core*>(self)->abandon_connection("connect timeout"); }

void Core::on_ping_timer(void* self) {
  auto* core = static_cast<Core*>(self);
  if (core->state() != ClientState::kConnected || core->transport_ == nullptr) return;
  core->send_command(ping_body(), {PendingKind::kHeartbeat, {}, {}});
  if (!core->pong_timer_.armed()) core->loop_.arm(core->pong_timer_, core->options_.pong_timeout_ms);
  core->loop_.arm(core->ping_timer_, core->options_.ping_interval_ms);
}

void Core::on_pong_timer(void* self) {
  static_cast<Core*>(self)->abandon_connection("heartbeat timeout: nothing from the server");
}

void Core::on_stable_timer(void* self) { static_cast<Core*>(self)->attempt_ = 0; }

void Core::on_request_timer(void* self) {
  auto* core = static_cast<Core*>(self);
  const std::uint64_t now = core->loop_.now_ms();
  while (!core->deadlines_.empty() && core->deadlines_.begin()->first <= now) {
    const std::uint64_t id = core->deadlines_.begin()->second;
    core->deadlines_.erase(core->deadlines_.begin());
    auto entry = core->in_flight_.find(id);
    if (entry == core->in_flight_.end()) continue;
    ResultCallback done = std::move(entry->second.done);
    core->in_flight_.erase(entry);
    done(Result::failure(error_of(ClientErrorKind::kTimeout, "no answer in time")));
  }
  core->arm_request_timer();
}

}  // namespace switchboard::client
