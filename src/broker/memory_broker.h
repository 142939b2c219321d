// The embedded broker of a single node: a publish comes straight back to
// the sink on the same thread, numbered per channel. No Redis, no threads,
// no locks: each worker's channels live in that worker's own table.
//
// Streams: a channel whose namespace keeps history has its recent past
// here (a ChannelHistory on its owner worker) under an epoch made when the
// stream is made, so a node that restarts, or a stream that was dropped
// once idle past its TTL, never gives old offsets a new meaning. A stream
// lives while its channel has subscribers on the node or its publications
// are within the TTL; reads answer in the same call (Broker::read_stream).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"
#include "broker/channel_history.h"

namespace switchboard::broker {

class MemoryBroker final : public Broker {
 public:
  // max_stream_bytes: what all streams may hold together; past it, the
  // channel that publishes drops its own oldest publications.
  explicit MemoryBroker(unsigned workers, std::uint64_t max_stream_bytes = 256u << 20);

  void set_sink(BrokerSink& sink) override { sink_ = &sink; }
  void subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) override;
  void unsubscribe(unsigned owner_worker, std::string_view channel) override;
  void publish(unsigned owner_worker, const Publication& publication, PublishDone done) override;
  void read_stream(unsigned owner_worker, std::string_view channel, const StreamQuery& query, StreamDone done) override;
  bool keeps_streams() const override { return true; }
  void expire_streams(unsigned owner_worker, std::int64_t now_ms) override;
  std::uint64_t stream_bytes() const override;
  std::uint64_t stream_publications() const override;
  std::uint64_t stream_trimmed() const override;
  // One node: the hub's own table says whether the user is here.
  void watch_user(unsigned, std::string_view) override {}
  void unwatch_user(unsigned, std::string_view) override {}
  void send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) override;
  // One node: presence is the hub's own table; no other node to tell.
  void presence_join(unsigned, std::string_view, const PresenceEntry&) override {}
  void presence_leave(unsigned, std::string_view, std::string_view) override {}
  void presence_elsewhere(unsigned, std::string_view, PresenceDone done) override {
    done(PublishStatus::kAccepted, {});
  }
  void publish_event(unsigned, std::string_view, std::string_view) override {}
  void broadcast(std::string_view frame) override { sink_->on_broadcast(frame); }
  // One node: its own answer is every answer.
  void ask_nodes(std::string_view question, AskDone done) override;

  // Channels with an entry on a worker: subscribed, or with a live stream
  // (tests, stats); that worker's thread only.
  std::size_t channel_count(unsigned worker) const { return workers_[worker].channels.size(); }

 private:
  struct Stream {
    Stream(HistoryLimits limits, std::uint64_t top_offset) : history(limits, top_offset), epoch(make_epoch()) {}
    ChannelHistory history;
    std::string epoch;
    // When it last had a publication or a subscriber (monotonic ms): a
    // stream with neither for a TTL goes (its epoch with it).
    std::int64_t active_ms = 0;
  };
  struct Channel {
    bool subscribed = false;
    std::uint64_t last_offset = 0;  // the numbering of a channel without a stream
    std::unique_ptr<Stream> stream;
  };
  using ChannelTable = std::unordered_map<std::string, Channel, base::StringHash, std::equal_to<>>;
  // One per worker, touched by that worker only, except the counters,
  // which it updates and anyone reads.
  struct WorkerChannels {
    ChannelTable channels;
    std::atomic<std::uint64_t> stream_bytes{0};
    std::atomic<std::uint64_t> stream_publications{0};
    std::atomic<std::uint64_t> stream_trimmed{0};
  };

  // The channel's stream with limits (made if absent, its bounds updated if
  // the namespace changed them).
  Stream& stream_of(WorkerChannels& worker, Channel& channel, HistoryLimits limits, std::int64_t now_ms);
  // Runs change on stream and keeps the worker's counters in step.
  template <typename Change>
  auto counted(WorkerChannels& worker, Stream& stream, Change&& change);
  // Drops the entry when nothing keeps it any more.
  void forget_if_unused(WorkerChannels& worker, ChannelTable::iterator it, std::int64_t now_ms);

  // Drops stream's oldest publications while the node's streams hold more
  // than max_stream_bytes_ (the newest stays).
  void keep_within_memory(WorkerChannels& worker, Stream& stream);

  BrokerSink* sink_ = nullptr;
  const std::uint64_t max_stream_bytes_;
  // Per owner worker. A channel with neither subscribers nor a stream keeps
  // no entry, so publishing to it costs no memory; its numbering starts
  // again at 1 when it is subscribed again.
  std::vector<WorkerChannels> workers_;
};

}  // namespace switchboard::broker
