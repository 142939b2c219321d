// One subscription's place in its channel's stream, pure: what the next
// subscribe asks to recover from, what a subscribe reply means for the
// application (SubscribedInfo, the recovered publications to deliver) and
// which live messages are duplicates.
//
// The position is learnt from a subscribe reply that said recoverable:true
// (its epoch and offset), then moves with every publication delivered. A
// reply that could not recover sets it to the reply's own (the application
// is told by on_recovery_failed). A reply that says the channel has no
// stream forgets it: offsets then mean nothing across connections. A
// `reset` from the server (the stream's past is lost for this subscription)
// sets it to the reset's, like a failed recovery. A message with offset 0
// (published while the broker was unreachable: unnumbered) is always
// delivered and leaves the position alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/client.h"

namespace switchboard::client {

// The `data` of a subscribe reply (docs/PROTOCOL.md "subscribe").
struct SubscribeReply {
  bool recoverable = false;
  std::optional<bool> recovered;  // present when recovery was asked
  std::string epoch;
  std::uint64_t offset = 0;
  std::vector<Publication> publications;  // recovered:true only
  std::optional<Publication> latest;      // present and not null
};

enum class Delivery : std::uint8_t {
  kDeliver,    // new: hand it to on_message
  kDuplicate,  // at or below the position (already delivered): drop it
};

class StreamTracker {
 public:
  StreamTracker() = default;
  // A position the application kept: the first subscribe recovers from it.
  explicit StreamTracker(std::optional<StreamPosition> start) : position_(std::move(start)) {}

  // What the next subscribe asks to recover from; nullopt: no recovery.
  const std::optional<StreamPosition>& recover_from() const { return position_; }

  struct Outcome {
    SubscribedInfo info;
    std::vector<Publication> deliver;  // the recovered publications, in order, without duplicates
  };
  // The reply to a subscribe sent with recover_from() (asked_recovery) or
  // without it.
  Outcome on_subscribed(SubscribeReply reply, bool asked_recovery);

  // A live message with this offset (0: a channel without a stream, or an
  // unnumbered publication).
  Delivery on_message(std::uint64_t offset);

  // A `reset` to (epoch, offset): what on_recovery_failed is told. Later
  // messages are compared with the new position only, whatever the old
  // epoch's offsets were.
  SubscribedInfo on_reset(std::string epoch, std::uint64_t offset);

 private:
  std::optional<StreamPosition> position_;
};

}  // namespace switchboard::client
