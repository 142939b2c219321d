// The hub's state and the paths of its commands. Two roles per worker:
//
// - Local: the sessions (protocol connections) this worker owns, and for
//   each channel and user the local sessions to deliver to. Only this
//   worker's thread touches them.
// - Owner: every channel and every user has one owner worker (a hash of the
//   name). The owner counts which workers have subscribers or connections,
//   keeps presence, talks to the broker, and serialises each publication
//   once into a SharedMessage that it posts to the interested workers. One
//   owner per channel is what gives every subscriber the same order: each
//   worker receives the owner's posts in the order they were made.
//
// So a publish travels: session's worker -> owner (broker numbers it) ->
// each interested worker -> Connection::send(SharedMessage) per local
// subscriber; the publisher's reply comes back from the owner. No locks:
// workers meet only through Server::post.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"
#include "hub/command.h"
#include "switchboard/hub.h"
#include "switchboard/shared_message.h"

namespace switchboard::hub {

template <typename T>
using StringMap = std::unordered_map<std::string, T, base::StringHash, std::equal_to<>>;

// One protocol connection; Connection::user_data points to it.
struct Session {
  Connection* connection = nullptr;
  std::uint64_t client = 0;  // Connection::id(), unique in the process
  std::string client_text;   // the same, as sent in presence and join/leave
  std::string user;          // empty: anonymous
  std::string info_json;
  // Subscribed channels, each with this session's place in the worker's
  // subscriber list of that channel (for O(1) removal).
  struct Subscription {
    std::string channel;
    std::size_t slot;
  };
  std::vector<Subscription> subscriptions;
  std::size_t user_slot = 0;  // place in the worker's list for `user`

  Subscription* find_subscription(std::string_view channel);
};

struct Member {
  std::string user;
  std::string client;
  std::string info_json;
};

// A channel as its owner sees it.
struct OwnedChannel {
  std::vector<std::uint32_t> subscribers_per_worker;
  std::uint64_t subscribers = 0;
  std::map<std::uint64_t, Member> members;  // presence, by client id (stable order)
};

struct WorkerState {
  // Local role.
  CommandParser parser;
  StringMap<std::vector<Session*>> channel_subscribers;
  StringMap<std::vector<Session*>> user_sessions;
  std::unordered_map<std::uint64_t, Session*> sessions;  // by client id
  struct PendingRpc {
    std::uint64_t client;
    std::uint64_t id;
  };
  std::unordered_map<std::uint64_t, PendingRpc> rpcs;  // by rpc sequence number
  std::uint64_t next_rpc = 0;

  // Owner role.
  StringMap<OwnedChannel> owned_channels;
  StringMap<std::vector<std::uint32_t>> owned_users;  // connections per worker

  // Read by stats() from any thread.
  std::atomic<std::size_t> connection_count{0};
  std::atomic<std::size_t> owned_channel_count{0};
  std::atomic<std::size_t> owned_user_count{0};
};

}  // namespace switchboard::hub

namespace switchboard {

struct RpcReply::Target {
  std::weak_ptr<Hub::Impl> hub;
  unsigned worker;
  std::uint64_t rpc;
  std::atomic<bool> answered{false};
};

struct Hub::Impl : public broker::BrokerSink, public std::enable_shared_from_this<Hub::Impl> {
  explicit Impl(HubConfig hub_config);

  HubConfig config;
  // Posts from worker threads (the workers run only while the server
  // exists) use `server` directly; posts from any other thread (rpc answers,
  // the public API) go through post_from_outside, which drops them once the
  // server is being destroyed.
  Server* server = nullptr;
  std::mutex outside_mutex;
  bool server_gone = false;  // guarded by outside_mutex
  bool post_from_outside(unsigned worker, std::function<void()> task);
  std::unique_ptr<broker::Broker> broker;
  std::unordered_map<std::string, RpcHandler> rpc_handlers;
  RpcHandler any_rpc_handler;  // for methods without their own
  Authenticator authenticator;
  std::vector<std::unique_ptr<hub::WorkerState>> workers;

  unsigned owner_of(std::string_view name) const;
  const NamespaceOptions& options_for(std::string_view channel) const;

  // Local role, on the session's worker (hub_commands.cc).
  void handle(hub::Session& session, std::string_view text);
  void reply(hub::Session& session, std::uint64_t id, std::string_view data_json);
  void fail(hub::Session& session, std::uint64_t id, hub::ErrorCode code, std::string_view message);
  void open_session(Connection& connection, Principal principal);
  void close_session(hub::Session& session);
  // Takes session off this worker's list for the channel and tells the
  // channel's owner; the caller updates session.subscriptions.
  void leave_channel(hub::Session& session, const hub::Session::Subscription& subscription);
  enum class RpcOutcome : std::uint8_t { kAnswered, kFailed, kTimedOut };
  // result: the answer's JSON, or the failure's message.
  void finish_rpc(unsigned worker, std::uint64_t rpc, RpcOutcome outcome, const std::string& result);
  void deliver_to_channel(unsigned worker, const std::string& channel, const SharedMessage& frame,
                          std::uint64_t exclude_client);
  void deliver_to_user(unsigned worker, const std::string& user, const SharedMessage& frame);
  void deliver_to_everyone(unsigned worker, const SharedMessage& frame);
  // Posts a reply or error to client on worker (from an owner).
  void post_reply(unsigned worker, std::uint64_t client, std::uint64_t id, std::string data_json);
  void post_error(unsigned worker, std::uint64_t client, std::uint64_t id, hub::ErrorCode code, std::string message);

  // Owner role, on owner_of(name) (hub_owner.cc).
  void owner_subscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client,
                       const hub::Member* member, std::uint64_t reply_id);
  void owner_unsubscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client);
  void owner_publish(unsigned owner, const std::string& channel, const std::string& data_json,
                     std::uint64_t exclude_client, unsigned reply_worker, std::uint64_t reply_client,
                     std::uint64_t reply_id);
  void owner_presence(unsigned owner, const std::string& channel, unsigned reply_worker, std::uint64_t reply_client,
                      std::uint64_t reply_id);
  void owner_user_online(unsigned owner, const std::string& user, unsigned worker);
  void owner_user_offline(unsigned owner, const std::string& user, unsigned worker);
  void owner_send(unsigned owner, const std::string& user, const std::string& from_user, const std::string& data_json,
                  unsigned reply_worker, std::uint64_t reply_client, std::uint64_t reply_id);
  // Sends frame to every worker with subscribers of channel.
  void fan_out(const hub::OwnedChannel& owned, const std::string& channel, const SharedMessage& frame,
               std::uint64_t exclude_client);

  // broker::BrokerSink: a numbered publication, on its channel's owner.
  void on_publication(unsigned owner_worker, const broker::Publication& publication) override;
};

}  // namespace switchboard
