// The client's machinery on its loop thread: the connection's life
// (attempts, backoff, heartbeat, final closes), requests by id, the
// offline queue and the subscriptions. switchboard::Client is a thin
// front that posts into it.
//
//   kDisconnected --connect()--> kConnecting --connect reply--> kConnected
//         ^                          |                               |
//         +---- backoff timer -------+------- lost / refused --------+
//   any state --close(), or a final close by the server--> kClosed
//
// Threading: the methods marked "any thread" post to the loop; every
// other method and every member not marked otherwise belongs to the loop
// thread. User callbacks run on the loop thread with no lock held.
// core.cc holds the connection's life and the requests,
// core_subscriptions.cc the subscriptions.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/backoff.h"
#include "client/server_message.h"
#include "client/stream_tracker.h"
#include "client/transport.h"
#include "loop/event_loop.h"
#include "loop/timer_wheel.h"
#include "switchboard/client.h"

namespace switchboard::client {

// Shared by the Subscription handles and the Core.
struct SubscriptionRecord {
  std::string channel;
  std::string token;
  SubscriptionHandlers handlers;
  std::atomic<SubscriptionState> state{SubscriptionState::kSubscribing};
  Latest latest = Latest::kNo;
  std::weak_ptr<Core> core;  // for unsubscribe() from a handle
  bool sent = false;         // loop thread: a subscribe is on the current connection
  StreamTracker stream;      // loop thread: the position, what to recover from
};

inline ClientError error_of(ClientErrorKind kind, std::string message, int code = 0) {
  return ClientError{kind, code, std::move(message)};
}

// Moves a subscription from one state to another unless another thread
// (unsubscribe()) moved it first.
inline bool transition(SubscriptionRecord& record, SubscriptionState from, SubscriptionState to) {
  return record.state.compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

// How a reply's data is read before it is answered.
enum class ReplyKind : std::uint8_t {
  kPlain,
  kPublish,  // "local_only":true makes the Result's reach kLocalOnly
};

// A request the caller made: its command without the id (commands.h).
struct Request {
  std::string body;
  ResultCallback done;
  std::uint64_t timeout_ms = 0;
  ReplyKind reply = ReplyKind::kPlain;
};

class Core final : public TransportOwner {
 public:
  explicit Core(ClientOptions options);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Caller's thread, once: runs the loop on a thread of its own.
  void start_thread();
  // Any thread but the loop's: stops the loop after what is posted, joins.
  void stop_and_join();

  // Any thread.
  std::string connect(std::string_view url);
  void close();
  void submit(Request request);
  void add_subscription(std::shared_ptr<SubscriptionRecord> record);
  void remove_subscription(std::shared_ptr<SubscriptionRecord> record);
  // Runs task on the loop thread (where every user callback runs).
  void post(std::function<void()> task) { loop_.post(std::move(task)); }
  ClientState state() const { return state_.load(std::memory_order_acquire); }
  bool wait_connected(std::uint64_t timeout_ms);
  const ClientOptions& options() const { return options_; }

  // TransportOwner.
  void on_transport_open() override;
  void on_transport_activity() override;
  void on_transport_text(std::string_view text) override;
  void on_transport_end(const TransportEnd& end) override;

 private:
  enum class PendingKind : std::uint8_t { kRequest, kConnect, kSubscribe, kUnsubscribe, kRefresh, kHeartbeat };
  struct Pending {
    PendingKind kind;
    ResultCallback done;                               // kRequest
    std::shared_ptr<SubscriptionRecord> subscription;  // kSubscribe
    std::uint64_t deadline_ms = 0;                     // kRequest
    ReplyKind reply = ReplyKind::kPlain;               // kRequest
    std::string body;                                  // kRequest: to send it again after a drain
    std::uint64_t timeout_ms = 0;                      // kRequest: as the application asked (0: the default)
    bool recovering = false;                           // kSubscribe: sent with recover and since
  };
  enum class Finality : std::uint8_t { kRetry, kFinal };

  void connect_in_loop(TransportSettings settings);
  void close_in_loop();
  void submit_in_loop(Request request);
  void add_subscription_in_loop(const std::shared_ptr<SubscriptionRecord>& record);
  void remove_subscription_in_loop(const std::shared_ptr<SubscriptionRecord>& record);

  void start_attempt();
  // Sends body with a fresh id and remembers what the answer is for.
  std::uint64_t send_command(std::string_view body, Pending pending);
  void send_request(Request request);
  void send_subscribe(const std::shared_ptr<SubscriptionRecord>& record);
  void on_connected(std::string_view data_json);
  void on_answer(const ServerMessage& message);
  void on_subscribe_answer(const Pending& pending, const ServerMessage& message);
  void on_subscribed(const std::shared_ptr<SubscriptionRecord>& record, const ServerMessage& message, bool recovering);
  void on_refresh_request();
  void dispatch_channel_event(const ServerMessage& message);

  // The connection is gone (or an attempt failed): fail what was in flight,
  // then reconnect after the backoff or, when final, close for good.
  void connection_lost(const TransportEnd& end, Finality finality);
  // Drops the transport from under a timer (heartbeat, connect timeout).
  void abandon_connection(std::string reason);
  void fail_in_flight(ClientErrorKind kind, std::string_view message);
  // After a drain that answered everything it ran: the requests still in
  // flight were not run, so they go back to the front of the queue, in the
  // order they were sent, to go again after the reconnect.
  void put_back_in_flight();
  // Final: everything pending fails with kClosed, subscriptions end.
  void shut_down(std::string reason, std::uint16_t close_code);
  void retire_transport();
  void set_state(StateChange change);
  void report(ClientError error);
  void arm_request_timer();

  static void on_reconnect_timer(void* self);
  static void on_connect_timer(void* self);
  static void on_ping_timer(void* self);
  static void on_pong_timer(void* self);
  static void on_stable_timer(void* self);
  static void on_request_timer(void* self);

  const ClientOptions options_;
  const base::BackoffPolicy backoff_;
  loop::EventLoop loop_;
  std::thread thread_;
  std::atomic<bool> started_{false};  // any thread: connect() was called
  std::atomic<ClientState> state_{ClientState::kDisconnected};
  std::mutex state_mutex_;  // with state_changed_, for wait_connected() only
  std::condition_variable state_changed_;

  TransportSettings settings_;
  std::unique_ptr<Transport> transport_;
  std::vector<std::unique_ptr<Transport>> retired_;  // ended inside their own calls: freed from a posted task
  MessageDecoder decoder_;
  std::string token_;  // what the last attempt sent

  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Pending> in_flight_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> deadlines_;  // (deadline ms, id) of kRequest
  std::deque<Request> queue_;                                    // waiting for a connection
  std::map<std::string, std::shared_ptr<SubscriptionRecord>> subscriptions_;

  std::uint32_t attempt_ = 0;  // failed attempts since the last stable connection
  std::mt19937_64 random_{std::random_device{}()};
  bool closed_ = false;
  bool server_said_final_ = false;  // a `disconnect` with reconnect=false came on this connection
  bool server_moved_us_ = false;    // a `disconnect` with reconnect=true (a drain): no failure for the backoff
  bool server_answered_ = false;    // ... and answered: true: what is still in flight was not run
  std::string disconnect_reason_;

  loop::Timer reconnect_timer_{&Core::on_reconnect_timer, this};
  loop::Timer connect_timer_{&Core::on_connect_timer, this};
  loop::Timer ping_timer_{&Core::on_ping_timer, this};
  loop::Timer pong_timer_{&Core::on_pong_timer, this};
  loop::Timer stable_timer_{&Core::on_stable_timer, this};
  loop::Timer request_timer_{&Core::on_request_timer, this};
};

}  // namespace switchboard::client
