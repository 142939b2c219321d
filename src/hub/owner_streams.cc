// The owner role's streams: a subscription on a channel with history takes
// effect with the stream's position in its reply (and what it recovers),
// read from the broker on the owner, so that the reply, the recovered
// publications and the live frames after them follow one another without a
// gap or a duplicate; the `history` command's pages; the expiry timer.
#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "base/clock.h"
#include "base/json_string.h"
#include "hub/node.h"

namespace switchboard::hub {
namespace {

constexpr std::uint64_t kStreamExpiryPeriodMs = 1000;

void append_publication(std::string& out, std::uint64_t offset, std::string_view data_json) {
  out += "{\"offset\":";
  out += std::to_string(offset);
  out += ",\"data\":";
  out += data_json;
  out += '}';
}

void append_publications(std::string& out, const std::vector<broker::StoredPublication>& publications) {
  out += '[';
  for (std::size_t i = 0; i < publications.size(); ++i) {
    if (i != 0) out += ',';
    append_publication(out, publications[i].offset, publications[i].data_json);
  }
  out += ']';
}

// `"epoch":"E","offset":N`
void append_position(std::string& out, const broker::StreamPosition& position) {
  out += "\"epoch\":";
  base::append_json_string(out, position.epoch);
  out += ",\"offset\":";
  out += std::to_string(position.offset);
}

// A catch-up read found the stream under an epoch other than the one the
// subscribers follow, with publications in it that could be theirs to
// get: every waiting frame is of that epoch too (older frames would be
// delivered before it and keep the old epoch going).
bool opens_a_new_epoch(const OwnedChannel& owned, const broker::StreamAnswer& answer) {
  if (answer.status != broker::StreamStatus::kRead || answer.complete) return false;
  if (answer.top.epoch == owned.live.epoch || answer.top.offset == 0) return false;
  return std::all_of(owned.waiting.begin(), owned.waiting.end(),
                     [&](const OwnedChannel::StreamFrame& frame) { return frame.epoch == answer.top.epoch; });
}

std::string subscribe_reply(const StreamAsk& ask, const broker::StreamAnswer& answer, bool with_latest) {
  std::size_t size = 64;
  for (const auto& publication : answer.publications) size += 24 + publication.data_json.size();
  std::string out;
  out.reserve(size + answer.latest.data_json.size());
  out += "{\"recoverable\":true,";
  append_position(out, answer.top);
  if (ask.recover) {
    if (answer.complete) {
      out += ",\"recovered\":true,\"publications\":";
      append_publications(out, answer.publications);
    } else {
      out += ",\"recovered\":false";
    }
  }
  if (with_latest) {
    out += ",\"latest\":";
    if (answer.has_latest) {
      append_publication(out, answer.latest.offset, answer.latest.data_json);
    } else {
      out += "null";
    }
  }
  out += '}';
  return out;
}

}  // namespace

std::string subscribe_reply_without_stream(const StreamAsk& ask) {
  if (!ask.asked) return "{}";
  return ask.recover ? "{\"recoverable\":false,\"recovered\":false}" : "{\"recoverable\":false}";
}

broker::HistoryLimits OwnerRole::history_limits(const std::string& channel) const {
  const NamespaceOptions& options = local_.options_for(channel);
  if (!options.keeps_history()) return {};
  return {static_cast<std::size_t>(options.history_size), options.history_ttl_s};
}

void OwnerRole::activate(const std::string& channel, OwnedChannel::PendingActivation activation) {
  const NamespaceOptions& options = local_.options_for(channel);
  broker::StreamQuery query;
  query.history = history_limits(channel);
  if (!query.history.enabled()) {
    post_activation(channel, activation, subscribe_reply_without_stream(activation.ask));
    return;
  }
  query.latest = activation.ask.latest || options.cache;
  if (activation.ask.recover) {
    query.mode = broker::StreamQuery::Mode::kRecover;
    query.has_since = true;
    query.since = activation.ask.since;
    query.limit = static_cast<std::size_t>(options.recover_limit != 0 ? options.recover_limit : options.history_size);
  }
  // Counted already, so the channel is owned; what is fanned out until the
  // read answers is kept for this subscriber (a broker that answers in the
  // call, like MemoryBroker, leaves nothing to keep).
  const std::uint64_t read = ++next_read_;
  owned_channels_.find(channel)->second.reads.push_back({read, {}});
  read_in_call_ = read;
  node_.broker()->read_stream(worker_, channel, query,
                              [this, channel, activation = std::move(activation), read](broker::StreamAnswer answer) {
                                stream_read_for_activation(channel, activation, read, std::move(answer));
                              });
  read_in_call_ = 0;
}

void OwnerRole::stream_read_for_activation(const std::string& channel,
                                           const OwnedChannel::PendingActivation& activation, std::uint64_t read,
                                           broker::StreamAnswer answer) {
  // An answer given inside the call (MemoryBroker) saw exactly what was
  // fanned out before it. One that came later (Redis) may have read
  // publications whose live copies are still on their way here: the
  // session skips those (LocalRole::activate_subscription).
  const bool in_step = read_in_call_ == read;
  // Live frames the read did not cover follow the reply, in order: events
  // and unnumbered frames (offset 0) always, publications above the read.
  std::vector<SharedMessage> after;
  if (auto it = owned_channels_.find(channel); it != owned_channels_.end()) {
    auto& reads = it->second.reads;
    auto mine = std::find_if(reads.begin(), reads.end(), [read](const auto& entry) { return entry.read == read; });
    if (mine != reads.end()) {
      for (const auto& live : mine->frames) {
        const bool covered = live.offset != 0 && live.offset <= answer.top.offset;
        if (!covered && live.exclude_client != activation.client) after.push_back(live.frame);
      }
      reads.erase(mine);
    }
  }
  const StreamAsk& ask = activation.ask;
  if (answer.status == broker::StreamStatus::kRead) {
    if (auto it = owned_channels_.find(channel); it != owned_channels_.end() && !it->second.live_known) {
      // The first place known on this node: later publications are checked
      // against it.
      it->second.live_known = true;
      it->second.live = answer.top;
    }
  }
  switch (answer.status) {
    case broker::StreamStatus::kNoStream:
      post_activation(channel, activation, subscribe_reply_without_stream(ask), std::move(after));
      return;
    case broker::StreamStatus::kUnavailable:
      // In place, but without a position to give: the subscriber is told
      // the channel cannot be recovered now, and reloads if it asked to.
      node_.metrics.stream_errors.add();
      if (ask.recover) node_.metrics.recoveries_failed.add();
      post_activation(channel, activation,
                      subscribe_reply_without_stream(StreamAsk{.asked = true, .recover = ask.recover}),
                      std::move(after));
      return;
    case broker::StreamStatus::kRead:
      break;
  }
  if (ask.recover) {
    if (!answer.complete) {
      node_.metrics.recoveries_failed.add();
    } else if (answer.publications.empty()) {
      node_.metrics.recoveries_empty.add();
    } else {
      node_.metrics.recoveries_with_publications.add();
      node_.metrics.recovered_publications.add(answer.publications.size());
    }
  }
  const bool with_latest = ask.latest || local_.options_for(channel).cache;
  post_activation(channel, activation, subscribe_reply(ask, answer, with_latest), std::move(after),
                  in_step ? 0 : answer.top.offset);
}

void OwnerRole::place_in_stream(OwnedChannel& owned, const std::string& channel,
                                OwnedChannel::StreamFrame publication) {
  if (owned.catching_up) {
    owned.waiting.push_back(std::move(publication));
    return;
  }
  if (owned.live_known && publication.epoch == owned.live.epoch) {
    if (publication.offset <= owned.live.offset) return;  // had it already (read, or a repeat)
    if (publication.offset > owned.live.offset + 1) {
      owned.waiting.push_back(std::move(publication));
      begin_catch_up(owned, channel);
      return;
    }
  } else if (owned.live_known) {
    // The stream's past was lost (Redis restarted empty): the subscribers
    // learn it, then go on from the new epoch's start. Publications the new
    // epoch numbered before this one (made through other nodes while this
    // node's link was down) are read from the stream first.
    if (publication.offset > 1) {
      owned.live = {0, publication.epoch};
      owned.reset_due = true;
      owned.waiting.push_back(std::move(publication));
      begin_catch_up(owned, channel);
      return;
    }
    fan_out_reset(owned, channel, publication.epoch, 0);
  }
  owned.live_known = true;
  owned.live = {publication.offset, publication.epoch};
  fan_out(owned, channel, publication.frame, publication.exclude_client, publication.offset, publication.numbered_ns);
}

void OwnerRole::begin_catch_up(OwnedChannel& owned, const std::string& channel) {
  const NamespaceOptions& options = local_.options_for(channel);
  broker::StreamQuery query;
  query.history = history_limits(channel);
  if (!query.history.enabled()) {
    // History turned off meanwhile: what waits goes out as it is.
    std::vector<OwnedChannel::StreamFrame> waiting = std::move(owned.waiting);
    owned.waiting.clear();
    for (auto& publication : waiting) {
      fan_out(owned, channel, publication.frame, publication.exclude_client, publication.offset,
              publication.numbered_ns);
    }
    return;
  }
  query.mode = broker::StreamQuery::Mode::kRecover;
  query.has_since = true;
  query.since = owned.live;
  query.limit = static_cast<std::size_t>(options.recover_limit != 0 ? options.recover_limit : options.history_size);
  owned.catching_up = true;
  node_.metrics.stream_catch_ups.add();
  node_.broker()->read_stream(worker_, channel, query, [this, channel](broker::StreamAnswer answer) {
    end_catch_up(channel, std::move(answer));
  });
}

void OwnerRole::end_catch_up(const std::string& channel, broker::StreamAnswer answer) {
  auto it = owned_channels_.find(channel);
  if (it == owned_channels_.end()) return;  // the last subscriber left meanwhile
  OwnedChannel& owned = it->second;
  owned.catching_up = false;
  if (opens_a_new_epoch(owned, answer)) {
    // Read from the old position, the stream has another epoch: read the
    // new epoch from its start (once per epoch change), then reset there.
    owned.live = {0, answer.top.epoch};
    owned.reset_due = true;
    begin_catch_up(owned, channel);
    return;
  }
  std::vector<OwnedChannel::StreamFrame> waiting = std::move(owned.waiting);
  owned.waiting.clear();
  bool filled = false;
  if (answer.status == broker::StreamStatus::kRead && answer.complete && answer.top.epoch == owned.live.epoch) {
    filled = true;
    if (owned.reset_due) fan_out_reset(owned, channel, owned.live.epoch, owned.live.offset);
    for (const broker::StoredPublication& missed : answer.publications) {
      if (missed.offset <= owned.live.offset) continue;
      const SharedMessage frame =
          SharedMessage::make(protocol::encode_message(channel, missed.offset, missed.data_json), Opcode::kText);
      owned.live.offset = missed.offset;
      node_.metrics.stream_gap_publications.add();
      fan_out(owned, channel, frame, 0, missed.offset);
    }
  } else if (answer.status == broker::StreamStatus::kUnavailable) {
    node_.metrics.stream_errors.add();
  }
  if (!waiting.empty()) {
    // A gap the read could not fill (gone, another epoch, Redis down):
    // the subscribers learn that their past is incomplete, then go on from
    // the first publication that waited. Never a second read for it.
    const OwnedChannel::StreamFrame& first = waiting.front();
    const bool gap_left = first.epoch != owned.live.epoch || first.offset > owned.live.offset + 1;
    if (!filled || gap_left) {
      fan_out_reset(owned, channel, first.epoch, first.offset - 1);
      owned.live = {first.offset - 1, first.epoch};
    }
  } else if (!filled && answer.status == broker::StreamStatus::kRead) {
    // Read on a hint (the broker's link came back) and nothing can be
    // filled: the same, at the stream's top.
    fan_out_reset(owned, channel, answer.top.epoch, answer.top.offset);
    owned.live = answer.top;
  }
  // A new epoch whose start could not be read (Redis down again): the
  // subscribers still learn that their past is gone.
  if (owned.reset_due) fan_out_reset(owned, channel, owned.live.epoch, owned.live.offset);
  // In order; a later gap among them waits behind a read of its own.
  for (auto& publication : waiting) place_in_stream(owned, channel, std::move(publication));
}

void OwnerRole::catch_up_streams() {
  for (auto& [channel, owned] : owned_channels_) {
    if (owned.live_known && !owned.catching_up && history_limits(channel).enabled()) begin_catch_up(owned, channel);
  }
}

void OwnerRole::fan_out_reset(OwnedChannel& owned, const std::string& channel, const std::string& epoch,
                              std::uint64_t offset) {
  owned.reset_due = false;
  node_.metrics.stream_resets.add();
  fan_out(owned, channel, SharedMessage::make(protocol::encode_reset(channel, epoch, offset), Opcode::kText), 0);
}

void OwnerRole::history(const std::string& channel, broker::StreamQuery query, const ReplyTo& reply_to) {
  query.history = history_limits(channel);
  query.mode = broker::StreamQuery::Mode::kPage;
  query.latest = false;
  if (!query.history.enabled()) {
    post_error(reply_to, protocol::ErrorCode::kHistoryDisabled,
               protocol::default_message(protocol::ErrorCode::kHistoryDisabled));
    return;
  }
  node_.broker()->read_stream(worker_, channel, query, [this, reply_to](broker::StreamAnswer answer) {
    switch (answer.status) {
      case broker::StreamStatus::kNoStream:
        post_error(reply_to, protocol::ErrorCode::kHistoryDisabled, "this server's broker keeps no history");
        return;
      case broker::StreamStatus::kUnavailable:
        node_.metrics.stream_errors.add();
        post_error(reply_to, protocol::ErrorCode::kUnavailable, "the broker cannot read the channel's history now");
        return;
      case broker::StreamStatus::kRead:
        break;
    }
    if (!answer.complete) {
      post_error(reply_to, protocol::ErrorCode::kUnrecoverablePosition,
                 protocol::default_message(protocol::ErrorCode::kUnrecoverablePosition));
      return;
    }
    std::string out = "{";
    append_position(out, answer.top);
    out += ",\"publications\":";
    append_publications(out, answer.publications);
    out += '}';
    post_reply(reply_to, std::move(out));
  });
}

void OwnerRole::schedule_stream_expiry() {
  node_.post_after<&OwnerRole::expire_streams_and_reschedule>(worker_, kStreamExpiryPeriodMs);
}

void OwnerRole::expire_streams_and_reschedule() {
  if (broker::Broker* broker = node_.broker())
    broker->expire_streams(worker_, static_cast<std::int64_t>(base::monotonic_ms()));
  schedule_stream_expiry();
}

}  // namespace switchboard::hub
