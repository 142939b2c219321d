// Redis pub/sub on a connection of its own (a connection in subscribed mode
// carries nothing else). The set of wanted channels is the truth: it is
// kept across disconnections and subscribed again, whole, after every
// reconnect; confirmations from the server are only counted. So subscribe
// and unsubscribe in any order and any number of times end in the state of
// the last call, and a message for a channel no longer wanted is dropped.
//
// Sharding::kYes uses SSUBSCRIBE/SUNSUBSCRIBE and 'smessage' pushes (Redis
// 7; works on a standalone server). It talks to the one endpoint given: no
// cluster slot routing or MOVED handling.
//
// Threading: single-threaded, like Connection: the loop's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "loop/event_loop.h"
#include "redis/availability.h"
#include "redis/endpoint.h"
#include "redis/link.h"
#include "redis/reply.h"

namespace switchboard::redis {

enum class Sharding : std::uint8_t { kNo, kYes };

class Subscriber final : private LinkOwner {
 public:
  // channel and payload are valid until the callback returns.
  using MessageCallback = std::function<void(std::string_view channel, std::string_view payload)>;
  using StateCallback = std::function<void(Availability availability)>;

  // Starts connecting at once, like Connection (same endpoint rules).
  Subscriber(loop::EventLoop& loop, Endpoint endpoint, Options options = {}, Sharding sharding = Sharding::kNo);
  // No callback runs after this.
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Adds channel to the wanted set and, when up, subscribes at once
  // (otherwise on the next connect). No-op if already wanted.
  void subscribe(std::string_view channel);
  // Removes channel from the wanted set and, when up, unsubscribes. Its
  // messages still in flight are dropped. No-op if not wanted.
  void unsubscribe(std::string_view channel);
  bool wants(std::string_view channel) const { return wanted_.find(channel) != wanted_.end(); }
  std::size_t wanted_count() const { return wanted_.size(); }
  const std::set<std::string, std::less<>>& wanted() const { return wanted_; }

  void on_message(MessageCallback callback) { on_message_ = std::move(callback); }
  // Redis confirmed a (S)SUBSCRIBE of channel: from now on its messages
  // reach this connection (also after each reconnect's re-subscribe).
  void on_subscribed(std::function<void(std::string_view channel)> callback) { on_subscribed_ = std::move(callback); }
  // As Connection::on_state. Up means connected; the subscriptions are
  // sent right then and confirmed shortly after (confirmed_count()).
  void on_state(StateCallback callback) { on_state_ = std::move(callback); }
  // After each connect, once Redis has confirmed every subscription sent
  // for it (at once when nothing is wanted): from then on every wanted
  // channel's messages arrive.
  void on_settled(std::function<void()> callback) { on_settled_ = std::move(callback); }

  bool is_up() const { return link_.state() == LinkState::kReady; }
  LinkState state() const { return link_.state(); }
  // The server's count of this connection's subscriptions, from the last
  // (un)subscribe confirmation (0 while down).
  long long confirmed_count() const { return confirmed_count_; }
  // Confirmations still due.
  std::size_t awaiting_confirmations() const { return awaiting_.size(); }
  const std::string& last_error() const { return link_.last_error(); }
  std::uint64_t connect_attempts() const { return link_.attempts(); }
  // Down: reconnect at once rather than after the backoff (Link::retry_now).
  void retry_now() { link_.retry_now(); }

 private:
  void on_link_ready() override;
  void on_link_reply(Reply&& reply) override;
  void on_link_down(const std::string& reason) override;
  std::optional<std::uint64_t> oldest_outstanding_ms() const override;
  // Sends one (S)SUBSCRIBE or (S)UNSUBSCRIBE for channels; expects one
  // confirmation per channel.
  void send(std::string_view verb, std::span<const std::string_view> channels);
  void report(Availability availability);
  void settle_if_confirmed();

  Sharding sharding_;
  std::set<std::string, std::less<>> wanted_;
  std::deque<std::uint64_t> awaiting_;  // loop ms each due confirmation was asked for
  long long confirmed_count_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  MessageCallback on_message_;
  std::function<void(std::string_view channel)> on_subscribed_;
  std::function<void()> on_settled_;
  bool settling_ = false;  // connected, resubscriptions not all confirmed yet
  StateCallback on_state_;
  std::optional<Availability> reported_;
  Link link_;  // last: destroyed first
};

}  // namespace switchboard::redis
