#include "client/stream_tracker.h"

#include <utility>

namespace switchboard::client {

StreamTracker::Outcome StreamTracker::on_subscribed(SubscribeReply reply, bool asked_recovery) {
  Outcome outcome;
  SubscribedInfo& info = outcome.info;
  info.recoverable = reply.recoverable;
  info.was_recovering = asked_recovery;
  info.latest = std::move(reply.latest);
  if (!reply.recoverable) {
    position_.reset();
    return outcome;
  }
  info.epoch = reply.epoch;
  info.offset = reply.offset;
  // A recovery under another epoch would not be one (the server checks it
  // too): offsets of different epochs do not follow each other.
  info.recovered = asked_recovery && reply.recovered.value_or(false) && position_ && position_->epoch == reply.epoch;
  if (info.recovered) {
    // The server sends since.offset < K <= offset in order; keeping only
    // what is past the position, strictly ascending, holds whatever it sends.
    std::uint64_t last = position_->offset;
    for (Publication& publication : reply.publications) {
      if (publication.offset <= last || publication.offset > reply.offset) continue;
      last = publication.offset;
      outcome.deliver.push_back(std::move(publication));
    }
  }
  info.recovered_count = outcome.deliver.size();
  position_ = StreamPosition{std::move(reply.epoch), reply.offset};
  return outcome;
}

Delivery StreamTracker::on_message(std::uint64_t offset) {
  if (!position_ || offset == 0) return Delivery::kDeliver;
  if (offset <= position_->offset) return Delivery::kDuplicate;
  position_->offset = offset;
  return Delivery::kDeliver;
}

SubscribedInfo StreamTracker::on_reset(std::string epoch, std::uint64_t offset) {
  SubscribedInfo info;
  info.recoverable = true;  // only a channel with a stream is reset
  info.reset = true;
  info.epoch = epoch;
  info.offset = offset;
  position_ = StreamPosition{std::move(epoch), offset};
  return info;
}

}  // namespace switchboard::client
