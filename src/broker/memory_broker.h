// The embedded broker of a single node: a publish comes straight back to
// the sink on the same thread, numbered per channel. No Redis, no threads,
// no locks: each worker's channels live in that worker's own table.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"

namespace switchboard::broker {

class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(unsigned workers);

  void set_sink(BrokerSink& sink) override { sink_ = &sink; }
  void subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) override;
  void unsubscribe(unsigned owner_worker, std::string_view channel) override;
  void publish(unsigned owner_worker, const Publication& publication, PublishDone done) override;
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

  // Channels subscribed on a worker (tests, stats); that worker's thread only.
  std::size_t channel_count(unsigned worker) const { return offsets_[worker].size(); }

 private:
  BrokerSink* sink_ = nullptr;
  // Per owner worker: subscribed channel -> last offset. A channel nobody
  // subscribes to keeps no entry, so publishing to it costs no memory; its
  // numbering starts again at 1 when it is subscribed again.
  std::vector<std::unordered_map<std::string, std::uint64_t, base::StringHash, std::equal_to<>>> offsets_;
};

}  // namespace switchboard::broker
