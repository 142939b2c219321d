// The node's link to whatever carries channel publishes beyond it: nothing
// (MemoryBroker, one node) or Redis (RedisBroker, docs/SCALING.md). The hub
// talks to the broker only from a channel's owner worker (the owner role in
// hub/owner_role.h), so a broker sees
// each channel from exactly one thread, and every publication of a channel
// comes back, numbered, through BrokerSink on that same thread, in the order
// every subscriber will see.
//
// Threading: every call for a channel is made on its owner worker, and
// every callback for it (sink, done) runs there too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::broker {

// How much of a channel's past its stream keeps (the namespace's
// history_size and history_ttl). Either 0: the channel has no stream.
struct HistoryLimits {
  std::size_t size = 0;     // publications kept at most
  std::uint64_t ttl_s = 0;  // seconds a publication is kept at most
  bool enabled() const { return size > 0 && ttl_s > 0; }
  bool operator==(const HistoryLimits&) const = default;
};

// One publication as the broker numbered it. exclude_client is the
// publisher's client id when it asked not to get its own message (0: none).
struct Publication {
  std::string_view channel;
  std::uint64_t offset;  // per channel, from 1; 0 when the broker does not number it
  std::string_view data_json;
  std::uint64_t exclude_client;
  // The channel's stream (publish only): when enabled, the broker keeps the
  // publication there, numbered in the stream, even with no subscriber.
  HistoryLimits history = {};
  // Delivered (BrokerSink::on_publication): the epoch of the stream it was
  // numbered in, "" for a channel without a stream.
  std::string_view epoch = {};
};

// A place in a channel's stream: the last offset seen under an epoch, a
// name for one unbroken past of the stream (it changes whenever that past
// may have been lost), so that offsets are only compared within one epoch.
struct StreamPosition {
  std::uint64_t offset = 0;
  std::string epoch;
};

// A publication read back from a stream.
struct StoredPublication {
  std::uint64_t offset;
  std::string data_json;
};

// Something for every connection of one user, wherever it is connected.
enum class UserMessageKind : std::uint8_t {
  kDirect,      // text: the frame to send (a `direct` message, encoded)
  kDisconnect,  // text: "<close code> <0|1 reconnect> <reason>"
};

struct UserMessage {
  std::string_view user;
  UserMessageKind kind;
  std::string_view text;
  // Only to the other nodes: this one has acted on it already.
  bool elsewhere_only = false;
};

class BrokerSink {
 public:
  virtual ~BrokerSink() = default;
  // A publication of a channel this node subscribed to, on its owner worker.
  virtual void on_publication(unsigned owner_worker, const Publication& publication) = 0;
  // A message for a user, on the user's owner worker; false when the user
  // has no connection on this node.
  virtual bool on_user_message(unsigned owner_worker, const UserMessage& message) = 0;
  // A join or leave of a member on another node (frame: the encoded
  // event), for this node's subscribers of channel; on its owner worker.
  virtual void on_channel_event(unsigned owner_worker, std::string_view channel, std::string_view frame) = 0;
  // The broker's link for owner_worker's channels came back (Redis
  // reconnected): publications of channels with a stream may have been
  // missed meanwhile, and are read from their streams, on owner_worker.
  virtual void on_link_restored(unsigned /*owner_worker*/) {}
  // A node (this one or another) asks every node a question (Broker::ask_nodes),
  // on worker 0. answer: once, from any thread, with this node's answer.
  virtual void on_question(std::string_view question, std::function<void(std::string answer)> answer) = 0;
  // A frame for every connection of this node (Broker::broadcast from any
  // node, this one included), on worker 0.
  virtual void on_broadcast(std::string_view frame) = 0;
};

enum class PublishStatus : std::uint8_t {
  kAccepted,     // the broker took it; subscribers anywhere will get it
  kLocalOnly,    // publish: the broker could not carry it beyond this node
                 // (Redis down): delivered to this node's subscribers only,
                 // unnumbered (offset 0), through BrokerSink::on_publication
  kUnavailable,  // the broker cannot take it now (Redis down)
};

struct PublishResult {
  PublishStatus status;
  std::uint64_t offset;  // the publication's number when known, else 0
  std::string epoch;     // the stream's epoch when the channel has one, else ""
};

// What to read from a channel's stream (Broker::read_stream).
struct StreamQuery {
  HistoryLimits history;  // the namespace's; a stream made by the read gets them
  enum class Mode : std::uint8_t {
    kPosition,  // only where the stream is (and latest, if asked)
    kRecover,   // every publication after since, whole, or none (recoverable false)
    kPage,      // `history`: at most limit publications after since (reverse: before it)
  };
  Mode mode = Mode::kPosition;
  // kRecover: the subscriber's position. kPage: where to start, if given.
  bool has_since = false;
  StreamPosition since;
  // kRecover: more than this many is not recoverable. kPage: at most this many.
  std::size_t limit = 0;
  bool reverse = false;  // kPage: newest first, before since when given
  bool latest = false;   // also the newest publication kept
};

enum class StreamStatus : std::uint8_t {
  kRead,         // the answer holds what was asked
  kNoStream,     // the broker keeps no streams (the channel is as if it had none)
  kUnavailable,  // the broker cannot read now (Redis down)
};

struct StreamAnswer {
  StreamStatus status = StreamStatus::kRead;
  StreamPosition top;  // the stream's last offset and its epoch when read
  // kRecover: publications are every one after since, in order; false: the
  // position is gone (another epoch, trimmed, more than limit), none given.
  // kPage with since: false when since's epoch differs or its place is no
  // longer kept. kPosition: true.
  bool complete = true;
  std::vector<StoredPublication> publications;
  bool has_latest = false;
  StoredPublication latest = {0, {}};
};

using StreamDone = std::function<void(StreamAnswer)>;

using PublishDone = std::function<void(PublishResult)>;

struct UserSendResult {
  PublishStatus status;
  std::uint64_t nodes;  // nodes where the user had a connection (0: offline everywhere)
};

using UserSendDone = std::function<void(UserSendResult)>;

// A member of a channel's presence on this node, as the broker keeps it for
// the other nodes: its presence entry and the leave event to send for it
// should its node vanish.
struct PresenceEntry {
  std::string_view client;       // the member's client id, unique on this node
  std::string_view member_json;  // {"user":...,"client":...,"info":...}
  std::string_view leave_frame;  // the encoded `leave` event
};

// The answers of the nodes to a question (one per node that answered in
// time), and whether every node that got it answered.
using AskDone = std::function<void(std::vector<std::string> answers, bool complete)>;

// Members of a channel on the other nodes (their member_json), or
// kUnavailable.
using PresenceDone = std::function<void(PublishStatus, std::vector<std::string> members)>;

class Broker {
 public:
  virtual ~Broker() = default;
  // Where publications go; set once before the first call.
  virtual void set_sink(BrokerSink& sink) = 0;
  // The node has local subscribers for channel (first one) / no more (last
  // one left). A broker delivers publications only while subscribed.
  // in_place runs (on the owner worker) once publications of channel reach
  // this node: at once for MemoryBroker, when Redis confirms the SUBSCRIBE
  // for RedisBroker (or at once while Redis is down: it resubscribes on
  // reconnect). It does not run if the broker is destroyed first.
  virtual void subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) = 0;
  virtual void unsubscribe(unsigned owner_worker, std::string_view channel) = 0;
  // Publishes to every subscribed node, this one included; done runs once.
  virtual void publish(unsigned owner_worker, const Publication& publication, PublishDone done) = 0;

  // Streams, on the channel's owner worker. Reads the channel's stream as
  // query says; done runs once, on that worker. A broker that numbers
  // streams (MemoryBroker) answers in the same call, so that nothing is
  // published between the read and what its caller does next.
  virtual void read_stream(unsigned, std::string_view, const StreamQuery&, StreamDone done) {
    done(StreamAnswer{.status = StreamStatus::kNoStream});
  }
  // Whether read_stream reads streams (false: every channel is as if its
  // namespace kept no history).
  virtual bool keeps_streams() const { return false; }
  // On a timer of every worker: frees what the TTL of its streams let go.
  virtual void expire_streams(unsigned, std::int64_t /*now_ms*/) {}
  // Any thread: bytes and publications the node's streams hold in memory.
  virtual std::uint64_t stream_bytes() const { return 0; }
  virtual std::uint64_t stream_publications() const { return 0; }
  // Any thread: publications dropped before their time to stay within the
  // node's memory for streams.
  virtual std::uint64_t stream_trimmed() const { return 0; }

  // Users, on the user's owner worker. The node has a first connection of
  // user / none any more: while it watches a user, messages to that user
  // from any node reach on_user_message here. No lookup of where a user
  // is, so nothing to go stale: a node that dies stops watching with it.
  virtual void watch_user(unsigned owner_worker, std::string_view user) = 0;
  virtual void unwatch_user(unsigned owner_worker, std::string_view user) = 0;
  // To every node watching message.user (this one included unless
  // elsewhere_only); done runs once, with how many nodes had the user
  // (for elsewhere_only: how many other nodes).
  virtual void send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) = 0;

  // Presence, on the channel's owner worker. A member joined / left on this
  // node; the broker keeps this node's members visible to the others while
  // the node lives (Redis: refreshed on a heartbeat, gone within the TTL of
  // a node that stops, with leave events sent for them).
  virtual void presence_join(unsigned owner_worker, std::string_view channel, const PresenceEntry& entry) = 0;
  virtual void presence_leave(unsigned owner_worker, std::string_view channel, std::string_view client) = 0;
  // The members the other nodes have; the caller adds its own.
  virtual void presence_elsewhere(unsigned owner_worker, std::string_view channel, PresenceDone done) = 0;
  // A join or leave event of this node, for the other nodes' subscribers.
  virtual void publish_event(unsigned owner_worker, std::string_view channel, std::string_view frame) = 0;
  // On worker 0: frame to every connection of every node, through
  // BrokerSink::on_broadcast on each (this one included).
  virtual void broadcast(std::string_view frame) = 0;
  // On worker 0: every node, this one included, answers question through
  // BrokerSink::on_question (the HTTP API's cluster-wide counts). done runs
  // once, on any thread: with every answer, or after a timeout with those
  // that came (complete false), or at once with none if the broker is down.
  virtual void ask_nodes(std::string_view question, AskDone done) = 0;
  // On worker 0: how many distinct users and channels have a connection or
  // subscriber on some node; done (on worker 0) gets known false when the
  // broker cannot tell (one node: the hub's own counts are the answer).
  using CountsDone = std::function<void(bool known, std::uint64_t users, std::uint64_t channels)>;
  virtual void count_distinct(CountsDone done) { done(false, 0, 0); }
  // Prefixed to client ids so they are unique across nodes ("" for one node).
  virtual std::string client_prefix() const { return {}; }

  // Any thread: whether the broker can carry publications now (readiness).
  virtual bool healthy() const { return true; }
};

}  // namespace switchboard::broker
