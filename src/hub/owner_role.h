// A worker's owner role: every channel and every user has one owner worker
// (Node::owner_of, a hash of the name). The owner counts which workers
// have subscribers or connections, keeps presence, talks to the broker, and
// serialises each publication once into a SharedMessage that it posts to
// the interested workers.
//
// One owner per channel is what numbers a channel's messages and gives
// every subscriber the same order: each worker receives the owner's posts
// in the order they were made, and a subscription is activated by a post
// that sits between the fan-outs before and after it was counted.
//
// Why a session whose own worker is the owner still posts to it instead of
// calling it: the owner's queue is the only order there is between a
// session's commands and the owner. What the session sent before (a
// subscribe, say) went into that queue and may not have run yet; a direct
// call would overtake it, and a session that subscribes and then publishes
// would miss its own message, which the channel's other subscribers get:
// the commands would take effect in another order than the client sent them.
//
// Threading: one OwnerRole per worker; every method runs on that worker's
// thread, posted there with Node::post<&OwnerRole::fn> or called by the
// broker (BrokerSink) on it, except the counters' reads.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "hub/local_role.h"
#include "hub/reply_to.h"
#include "switchboard/shared_message.h"

namespace switchboard::hub {

class Node;

struct Member {
  std::string user;
  std::string client;
  std::string info_json;
};

// What a subscribe asked of the channel's stream (docs/PROTOCOL.md
// "Streams": recover, since, latest).
struct StreamAsk {
  bool asked = false;  // any of the stream fields was given
  bool recover = false;
  bool latest = false;
  broker::StreamPosition since;
};

// A channel as its owner sees it.
struct OwnedChannel {
  std::vector<std::uint32_t> subscribers_per_worker;
  std::uint64_t subscribers = 0;
  // The broker delivers this channel's publications to the node (Redis
  // confirmed the SUBSCRIBE). Until then subscriptions wait in `pending`:
  // their reply would promise what is not true yet.
  bool in_place = false;
  struct PendingActivation {
    unsigned worker;
    std::uint64_t client;
    std::uint64_t serial;
    std::uint64_t reply_id;
    StreamAsk ask;
  };
  std::vector<PendingActivation> pending;
  // Stream reads in flight for activations (a broker that answers later
  // than the call): the frames fanned out meanwhile, by offset, which the
  // subscriber gets after its reply if the read did not cover them.
  struct LiveFrame {
    std::uint64_t offset;
    SharedMessage frame;
    std::uint64_t exclude_client;
  };
  struct LiveDuringRead {
    std::uint64_t read;
    std::vector<LiveFrame> frames;
  };
  std::vector<LiveDuringRead> reads;
  // A channel with a stream: where the last publication fanned out was
  // (known from the first publication or stream read on), so that a gap or
  // a new epoch in what the broker delivers is seen (owner_streams.cc).
  // While the owner reads what a gap left out, later publications wait.
  struct StreamFrame {
    std::uint64_t offset;
    std::string epoch;
    SharedMessage frame;
    std::uint64_t exclude_client;
    std::uint64_t numbered_ns;
  };
  bool live_known = false;
  broker::StreamPosition live;
  bool catching_up = false;
  // The stream's epoch changed (Redis restarted empty) and `live` is the
  // new epoch's start: the subscribers get `reset` once the read of the
  // new epoch says what follows, so that what it already numbered is
  // delivered after the reset instead of being lost behind it.
  bool reset_due = false;
  std::vector<StreamFrame> waiting;
  std::map<std::uint64_t, Member> members;  // presence, by client id (stable order)
};

// A subscribe reply's data for a channel without a stream: {} as before
// streams existed, unless the subscriber asked about one.
std::string subscribe_reply_without_stream(const StreamAsk& ask);

class OwnerRole {
 public:
  // local: the same worker's local role, which holds the worker's policy.
  OwnerRole(Node& node, unsigned worker, const LocalRole& local);
  OwnerRole(const OwnerRole&) = delete;
  OwnerRole& operator=(const OwnerRole&) = delete;

  // Channels (owner_channels.cc). member: the subscriber's presence entry,
  // null when the namespace has no presence.
  void subscribe(const std::string& channel, unsigned worker, std::uint64_t client, std::uint64_t serial,
                 const std::shared_ptr<const Member>& member, std::uint64_t reply_id, const StreamAsk& ask);
  void unsubscribe(const std::string& channel, unsigned worker, std::uint64_t client);
  void publish(const std::string& channel, const std::string& data_json, std::uint64_t exclude_client,
               ReplyTo reply_to);
  void presence(const std::string& channel, const ReplyTo& reply_to);
  // Streams (owner_streams.cc). A page of the channel's stream (`history`,
  // GET /api/history); query.history is filled here.
  void history(const std::string& channel, broker::StreamQuery query, const ReplyTo& reply_to);
  // Every second from start on: the broker frees what its streams' TTL let go.
  void schedule_stream_expiry();
  void expire_streams_and_reschedule();
  // This worker's channels as on_question's "channels" entries, comma-separated.
  std::string channels_json() const;

  // Users (owner_users.cc). online: whether the reply says if the user had
  // a connection (HubConfig::hide_online applies to clients, not to the
  // HTTP API).
  void user_online(const std::string& user, unsigned worker);
  void user_offline(const std::string& user, unsigned worker);
  void send(const std::string& user, const std::string& from_user, const std::string& data_json,
            const ReplyTo& reply_to, OnlineInReply online);
  // The user's connections on this node.
  std::uint64_t user_connections(const std::string& user) const;

  // From the broker, on this thread.
  void on_publication(const broker::Publication& publication);
  // The broker may have missed publications (its link came back): every
  // channel with a stream reads what came after its last one.
  void catch_up_streams();
  bool on_user_message(const broker::UserMessage& message);
  void on_channel_event(std::string_view channel, std::string_view frame);

  // Read by stats() and /metrics from any thread.
  std::size_t channel_count() const { return channel_count_.load(std::memory_order_relaxed); }
  std::size_t user_count() const { return user_count_.load(std::memory_order_relaxed); }

 private:
  // The broker has the channel in place: the waiting subscriptions activate.
  void channel_in_place(const std::string& channel);
  // The subscription takes effect: its reply (with the stream's position,
  // and what it recovers, read here) and then live frames.
  void activate(const std::string& channel, OwnedChannel::PendingActivation activation);
  // The reply when the channel has no stream (or the subscriber left before
  // it took effect).
  void post_activation(const std::string& channel, const OwnedChannel::PendingActivation& activation,
                       std::string reply_json, std::vector<SharedMessage> after = {}, std::uint64_t skip_through = 0);
  // The stream read for activation came back (owner_streams.cc).
  void stream_read_for_activation(const std::string& channel, const OwnedChannel::PendingActivation& activation,
                                  std::uint64_t read, broker::StreamAnswer answer);
  broker::HistoryLimits history_limits(const std::string& channel) const;
  // A publication of a channel with a stream, in order: fanned out when it
  // follows the last one; a gap is read from the stream first; a new epoch
  // is told to the subscribers (`reset`) before it.
  void place_in_stream(OwnedChannel& owned, const std::string& channel, OwnedChannel::StreamFrame publication);
  // Reads what followed the last publication fanned out (first: the one
  // that showed the gap, if any, waits behind the read).
  void begin_catch_up(OwnedChannel& owned, const std::string& channel);
  void end_catch_up(const std::string& channel, broker::StreamAnswer answer);
  void fan_out_reset(OwnedChannel& owned, const std::string& channel, const std::string& epoch, std::uint64_t offset);
  // Sends frame to every worker with subscribers of channel, and keeps it
  // for the subscriptions whose stream read is on its way. offset: the
  // publication's (0 for events and unnumbered frames); numbered_ns: when
  // the broker numbered it (monotonic), 0 for events.
  void fan_out(OwnedChannel& owned, const std::string& channel, const SharedMessage& frame,
               std::uint64_t exclude_client, std::uint64_t offset = 0, std::uint64_t numbered_ns = 0);
  // Sends an answer where `to` says.
  void post_reply(const ReplyTo& to, std::string data_json);
  void post_error(const ReplyTo& to, protocol::ErrorCode code, std::string message);

  Node& node_;
  const unsigned worker_;
  const LocalRole& local_;
  StringMap<OwnedChannel> owned_channels_;
  StringMap<std::vector<std::uint32_t>> owned_users_;  // connections per worker
  std::uint64_t next_read_ = 0;
  // The read whose Broker::read_stream call is running (0: none): its
  // answer, if it comes during the call, is in step with the fan-out.
  std::uint64_t read_in_call_ = 0;
  std::atomic<std::size_t> channel_count_{0};
  std::atomic<std::size_t> user_count_{0};
};

}  // namespace switchboard::hub
