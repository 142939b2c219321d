// The frames held for one subscriber whose outgoing buffer is full, under
// the drop-oldest and keep-latest policies, bounded three ways: per channel
// (slow_consumer_backlog, or one), per connection in bytes, and for the
// whole node in bytes (HeldBytesBudget).
//
// A held frame is a reference to the one shared frame, but it keeps that
// frame alive after every other subscriber has read it, so each held frame
// counts its whole size, once per connection that holds it: a frame held by
// ten connections counts ten times. That over-counts memory shared between
// slow subscribers of one channel, and is exactly right for the worst case
// (every slow subscriber holding frames nobody else still has).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/shared_message.h"

namespace switchboard::hub {

// The bytes held for every connection of the node, against a cap. Any
// worker thread; touched only on the slow path (a frame being held or let
// go), never by a delivery that goes through.
class HeldBytesBudget {
 public:
  explicit HeldBytesBudget(std::size_t cap) : cap_(cap) {}
  HeldBytesBudget(const HeldBytesBudget&) = delete;
  HeldBytesBudget& operator=(const HeldBytesBudget&) = delete;

  // Takes n bytes if the total stays within the cap.
  bool try_take(std::size_t n);
  void give_back(std::size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  std::size_t cap() const { return cap_; }

 private:
  std::atomic<std::size_t> held_{0};
  const std::size_t cap_;
};

class HeldFrames {
 public:
  // What a held frame costs besides its bytes: its queue entry, the shared
  // buffer's header and the allocator's bookkeeping, rounded up. Without it
  // a backlog of many tiny frames would cost far more than it counts.
  static constexpr std::size_t kFrameOverhead = 64;
  static std::size_t cost(const SharedMessage& frame) { return frame.frame().size() + kFrameOverhead; }

  HeldFrames(HeldBytesBudget& node, std::size_t connection_cap) : node_(node), connection_cap_(connection_cap) {}
  // Gives the bytes still held back to the node's budget.
  ~HeldFrames();
  HeldFrames(const HeldFrames&) = delete;
  HeldFrames& operator=(const HeldFrames&) = delete;

  enum class Outcome : std::uint8_t {
    kHeld,
    kLargerThanConnectionCap,  // this frame alone is over the connection's cap: not held
    kNodeFull,                 // the node's cap is reached and nothing of ours is left to push out: not held
  };
  struct HoldResult {
    Outcome outcome = Outcome::kHeld;
    std::size_t pushed_out = 0;       // frames dropped to make room (oldest first)
    bool connection_cap_hit = false;  // some were pushed out for the connection's cap
    bool node_cap_hit = false;        // ... for the node's cap (or kNodeFull)
  };
  // Holds frame behind the channel's other held frames. Makes room by
  // pushing out the oldest: of this channel while it holds `per_channel`
  // frames; then of any channel of this connection while the connection's
  // bytes, or the node's, would pass their cap.
  HoldResult hold(std::string_view channel, const SharedMessage& frame, std::size_t per_channel);

  // True while channel has frames held: its next frames must join them,
  // not overtake them.
  bool holds(std::string_view channel) const;
  // Drops the channel's frames (the connection left it).
  void discard(std::string_view channel);
  bool empty() const { return bytes_ == 0; }
  std::size_t bytes() const { return bytes_; }

  // Each held frame, channel by channel, in the order each channel's
  // frames arrived.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const Channel& channel : channels_) {
      for (const Held& held : channel.frames) visit(held.frame);
    }
  }

  // Lets go of frames in for_each's order, handing each to send, until at
  // least `bytes` of frames have gone (one frame at least): a slice that
  // fits an outgoing buffer. True while frames are left.
  template <typename Send>
  bool release(std::size_t bytes, Send&& send) {
    ++releases_;
    std::size_t sent = 0;
    for (Channel& channel : channels_) {
      while (!channel.frames.empty()) {
        if (sent >= bytes && sent != 0) return true;
        sent += channel.frames.front().frame.frame().size();
        send(channel.frames.front().frame);
        pop_front(channel);
      }
    }
    return false;
  }
  // How many times release() ran: tells a later look whether a slice went
  // out meanwhile.
  std::uint64_t releases() const { return releases_; }

 private:
  struct Held {
    SharedMessage frame;
    std::uint64_t serial;  // arrival order across channels: the oldest is pushed out first
  };
  struct Channel {
    std::string name;
    std::deque<Held> frames;
  };
  Channel* find(std::string_view channel);
  void pop_front(Channel& channel);
  // Pushes out the connection's oldest held frame; false when none is left.
  bool pop_oldest();

  HeldBytesBudget& node_;
  const std::size_t connection_cap_;
  std::size_t bytes_ = 0;  // counted against node_ too
  std::uint64_t next_serial_ = 0;
  std::uint64_t releases_ = 0;
  // Emptied channels stay until discard() or the object goes: few (at most
  // the connection's subscriptions), and a found entry stays valid.
  std::vector<Channel> channels_;
};

}  // namespace switchboard::hub
