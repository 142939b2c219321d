// switchboard::Client and Subscription: checks in the caller's thread,
// then a hop into the Core's loop.
#include "switchboard/client.h"

#include "client/commands.h"
#include "client/core.h"

namespace switchboard {
namespace {

ResultCallback or_nothing(ResultCallback done) {
  if (done) return done;
  return [](const Result&) {};
}

// The future form of a callback request.
template <class Start>
std::future<Result> as_future(Start start) {
  auto promise = std::make_shared<std::promise<Result>>();
  std::future<Result> future = promise->get_future();
  start([promise](const Result& result) { promise->set_value(result); });
  return future;
}

}  // namespace

const char* to_string(ClientState state) {
  switch (state) {
    case ClientState::kConnecting:
      return "connecting";
    case ClientState::kConnected:
      return "connected";
    case ClientState::kDisconnected:
      return "disconnected";
    case ClientState::kClosed:
      return "closed";
  }
  return "?";
}

const char* to_string(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::kServer:
      return "server";
    case ClientErrorKind::kTimeout:
      return "timeout";
    case ClientErrorKind::kDisconnected:
      return "disconnected";
    case ClientErrorKind::kQueueFull:
      return "queue full";
    case ClientErrorKind::kClosed:
      return "closed";
    case ClientErrorKind::kInvalidArgument:
      return "invalid argument";
    case ClientErrorKind::kConnection:
      return "connection";
  }
  return "?";
}

const char* to_string(SubscriptionState state) {
  switch (state) {
    case SubscriptionState::kSubscribing:
      return "subscribing";
    case SubscriptionState::kSubscribed:
      return "subscribed";
    case SubscriptionState::kUnsubscribed:
      return "unsubscribed";
    case SubscriptionState::kFailed:
      return "failed";
  }
  return "?";
}

// ---- Subscription -----------------------------------------------------------

const std::string& Subscription::channel() const {
  static const std::string kNone;
  return record_ ? record_->channel : kNone;
}

SubscriptionState Subscription::state() const {
  return record_ ? record_->state.load(std::memory_order_acquire) : SubscriptionState::kUnsubscribed;
}

void Subscription::unsubscribe() {
  if (!record_) return;
  SubscriptionState current = record_->state.load();
  do {
    if (current == SubscriptionState::kUnsubscribed || current == SubscriptionState::kFailed) return;
  } while (!record_->state.compare_exchange_weak(current, SubscriptionState::kUnsubscribed));
  if (std::shared_ptr<client::Core> core = record_->core.lock()) core->remove_subscription(record_);
}

// ---- Client -------------------------------------------------------------------

Client::Client(ClientOptions options) : core_(std::make_shared<client::Core>(std::move(options))) {
  core_->start_thread();
}

Client::~Client() {
  core_->close();
  core_->stop_and_join();
}

void Client::refuse(ResultCallback done, std::string message) {
  // Answered on the loop thread, like every other answer.
  core_->post([done = std::move(done), message = std::move(message)] {
    done(Result::failure(ClientError{ClientErrorKind::kInvalidArgument, 0, message}));
  });
}

std::string Client::connect(std::string_view url) { return core_->connect(url); }

void Client::close() { core_->close(); }

ClientState Client::state() const { return core_->state(); }

bool Client::wait_connected(std::uint64_t timeout_ms) { return core_->wait_connected(timeout_ms); }

Subscription Client::subscribe(std::string channel, SubscriptionHandlers handlers, std::string token) {
  return subscribe(std::move(channel), std::move(handlers), SubscribeOptions{.token = std::move(token)});
}

Subscription Client::subscribe(std::string channel, SubscriptionHandlers handlers, SubscribeOptions options) {
  auto record = std::make_shared<client::SubscriptionRecord>();
  record->channel = std::move(channel);
  record->token = std::move(options.token);
  record->latest = options.latest;
  record->stream = client::StreamTracker(std::move(options.since));
  record->handlers = std::move(handlers);
  record->core = core_;
  if (const base::Result<void> checked = client::check_name("channel", record->channel); !checked) {
    const std::string& error = checked.error();
    record->state.store(SubscriptionState::kFailed);
    if (auto on_error = record->handlers.on_error) {
      core_->post([on_error, error] { on_error(ClientError{ClientErrorKind::kInvalidArgument, 0, error}); });
    }
    return Subscription(record);
  }
  core_->add_subscription(record);
  return Subscription(record);
}

void Client::publish(std::string channel, std::string data_json, RequestOptions options, ResultCallback done) {
  done = or_nothing(std::move(done));
  base::Result<void> checked = client::check_name("channel", channel);
  if (checked) checked = client::check_json(data_json);
  if (!checked) return refuse(std::move(done), checked.error());
  core_->submit({client::publish_body(channel, data_json, options.exclude_self), std::move(done), options.timeout_ms,
                 client::ReplyKind::kPublish});
}

std::future<Result> Client::publish(std::string channel, std::string data_json, RequestOptions options) {
  return as_future([&](ResultCallback done) { publish(std::move(channel), std::move(data_json), options, done); });
}

void Client::rpc(std::string method, std::string data_json, RequestOptions options, ResultCallback done) {
  done = or_nothing(std::move(done));
  base::Result<void> checked = client::check_name("method", method);
  if (checked && !data_json.empty()) checked = client::check_json(data_json);
  if (!checked) return refuse(std::move(done), checked.error());
  core_->submit({client::rpc_body(method, data_json), std::move(done), options.timeout_ms});
}

std::future<Result> Client::rpc(std::string method, std::string data_json, RequestOptions options) {
  return as_future([&](ResultCallback done) { rpc(std::move(method), std::move(data_json), options, done); });
}

void Client::send(std::string user, std::string data_json, RequestOptions options, ResultCallback done) {
  done = or_nothing(std::move(done));
  base::Result<void> checked = client::check_name("user", user);
  if (checked) checked = client::check_json(data_json);
  if (!checked) return refuse(std::move(done), checked.error());
  core_->submit({client::send_body(user, data_json), std::move(done), options.timeout_ms});
}

std::future<Result> Client::send(std::string user, std::string data_json, RequestOptions options) {
  return as_future([&](ResultCallback done) { send(std::move(user), std::move(data_json), options, done); });
}

void Client::presence(std::string channel, RequestOptions options, ResultCallback done) {
  done = or_nothing(std::move(done));
  if (const base::Result<void> checked = client::check_name("channel", channel); !checked) {
    return refuse(std::move(done), checked.error());
  }
  core_->submit({client::presence_body(channel), std::move(done), options.timeout_ms});
}

std::future<Result> Client::presence(std::string channel, RequestOptions options) {
  return as_future([&](ResultCallback done) { presence(std::move(channel), options, done); });
}

void Client::history(std::string channel, HistoryOptions options, ResultCallback done) {
  done = or_nothing(std::move(done));
  if (const base::Result<void> checked = client::check_name("channel", channel); !checked) {
    return refuse(std::move(done), checked.error());
  }
  core_->submit({client::history_body(channel, options), std::move(done), options.timeout_ms});
}

std::future<Result> Client::history(std::string channel, HistoryOptions options) {
  return as_future([&](ResultCallback done) { history(std::move(channel), std::move(options), done); });
}

void Client::ping(RequestOptions options, ResultCallback done) {
  core_->submit({client::ping_body(), or_nothing(std::move(done)), options.timeout_ms});
}

std::future<Result> Client::ping(RequestOptions options) {
  return as_future([&](ResultCallback done) { ping(options, done); });
}

}  // namespace switchboard
