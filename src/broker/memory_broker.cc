#include "broker/memory_broker.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"

namespace switchboard::broker {
namespace {

std::int64_t now_ms() { return static_cast<std::int64_t>(base::monotonic_ms()); }

std::int64_t ttl_ms(const HistoryLimits& limits) {
  constexpr std::uint64_t kMaxSeconds = std::uint64_t{1} << 40;  // far beyond any TTL, no overflow
  return static_cast<std::int64_t>(std::min(limits.ttl_s, kMaxSeconds) * 1000);
}

StoredPublication stored(const HistoryEntry& entry) { return {entry.offset, std::string(entry.data_json)}; }

}  // namespace

MemoryBroker::MemoryBroker(unsigned workers, std::uint64_t max_stream_bytes)
    : workers_(workers), max_stream_bytes_(max_stream_bytes) {}

void MemoryBroker::keep_within_memory(WorkerChannels& worker, Stream& stream) {
  // The other workers' shares are taken as they are now: the cap holds
  // give or take what they store meanwhile.
  std::uint64_t total = stream_bytes();
  if (total <= max_stream_bytes_) return;
  ChannelHistory& history = stream.history;
  const std::uint64_t bytes_before = history.memory_bytes();
  const std::size_t size_before = history.size();
  std::uint64_t bytes = bytes_before;
  while (total > max_stream_bytes_ && history.size() > 1) {
    history.trim_oldest();
    const std::uint64_t now = history.memory_bytes();
    total -= std::min(total, bytes - now);
    bytes = now;
  }
  // Short publications live in the ring's slots, which dropping does not
  // free: give back the slots the newest no longer need.
  if (total > max_stream_bytes_) history.shrink_to_fit();
  const std::size_t dropped = size_before - history.size();
  worker.stream_bytes.fetch_sub(bytes_before - history.memory_bytes(), std::memory_order_relaxed);
  worker.stream_publications.fetch_sub(dropped, std::memory_order_relaxed);
  worker.stream_trimmed.fetch_add(dropped, std::memory_order_relaxed);
}

template <typename Change>
auto MemoryBroker::counted(WorkerChannels& worker, Stream& stream, Change&& change) {
  const std::uint64_t bytes_before = stream.history.memory_bytes();
  const std::uint64_t size_before = stream.history.size();
  struct Restore {
    WorkerChannels& worker;
    Stream& stream;
    std::uint64_t bytes_before, size_before;
    ~Restore() {
      worker.stream_bytes.fetch_add(stream.history.memory_bytes() - bytes_before, std::memory_order_relaxed);
      worker.stream_publications.fetch_add(stream.history.size() - size_before, std::memory_order_relaxed);
    }
  } restore{worker, stream, bytes_before, size_before};
  return change(stream.history);
}

MemoryBroker::Stream& MemoryBroker::stream_of(WorkerChannels& worker, Channel& channel, HistoryLimits limits,
                                              std::int64_t now) {
  if (!channel.stream) {
    // A channel numbered without a stream so far goes on from its number,
    // under a new epoch.
    channel.stream = std::make_unique<Stream>(limits, channel.last_offset);
    channel.stream->active_ms = now;
    worker.stream_bytes.fetch_add(channel.stream->history.memory_bytes(), std::memory_order_relaxed);
  } else if (channel.stream->history.limits() != limits) {
    counted(worker, *channel.stream, [&](ChannelHistory& history) { history.set_limits(limits); });
  }
  return *channel.stream;
}

void MemoryBroker::forget_if_unused(WorkerChannels& worker, ChannelTable::iterator it, std::int64_t now) {
  Channel& channel = it->second;
  if (channel.subscribed) return;
  if (channel.stream) {
    if (now - channel.stream->active_ms < ttl_ms(channel.stream->history.limits())) return;
    worker.stream_bytes.fetch_sub(channel.stream->history.memory_bytes(), std::memory_order_relaxed);
    worker.stream_publications.fetch_sub(channel.stream->history.size(), std::memory_order_relaxed);
  }
  worker.channels.erase(it);
}

void MemoryBroker::subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) {
  WorkerChannels& worker = workers_[owner_worker];
  auto it = worker.channels.try_emplace(std::string(channel)).first;
  it->second.subscribed = true;
  if (it->second.stream) it->second.stream->active_ms = now_ms();
  in_place();
}

void MemoryBroker::unsubscribe(unsigned owner_worker, std::string_view channel) {
  WorkerChannels& worker = workers_[owner_worker];
  auto it = worker.channels.find(channel);
  if (it == worker.channels.end()) return;
  it->second.subscribed = false;
  const std::int64_t now = now_ms();
  // The stream outlives its last subscriber by its TTL: that subscriber
  // may be one coming back to recover.
  if (it->second.stream) it->second.stream->active_ms = now;
  forget_if_unused(worker, it, now);
}

void MemoryBroker::publish(unsigned owner_worker, const Publication& publication, PublishDone done) {
  WorkerChannels& worker = workers_[owner_worker];
  auto it = worker.channels.find(publication.channel);
  if (!publication.history.enabled()) {
    if (it == worker.channels.end() || !it->second.subscribed) {
      // Nobody on this node listens, there is no other node, and nothing
      // keeps it: accepted, delivered to no one, not numbered.
      done({PublishStatus::kAccepted, 0, {}});
      return;
    }
    Publication numbered = publication;
    numbered.offset = it->second.stream ? it->second.stream->history.top_offset() + 1 : ++it->second.last_offset;
    if (it->second.stream) {
      // The namespace stopped keeping history (a reload): the stream goes,
      // its numbering goes on.
      it->second.last_offset = numbered.offset;
      worker.stream_bytes.fetch_sub(it->second.stream->history.memory_bytes(), std::memory_order_relaxed);
      worker.stream_publications.fetch_sub(it->second.stream->history.size(), std::memory_order_relaxed);
      it->second.stream.reset();
    }
    sink_->on_publication(owner_worker, numbered);
    done({PublishStatus::kAccepted, numbered.offset, {}});
    return;
  }
  if (it == worker.channels.end()) it = worker.channels.try_emplace(std::string(publication.channel)).first;
  const std::int64_t now = now_ms();
  Stream& stream = stream_of(worker, it->second, publication.history, now);
  stream.active_ms = now;
  Publication numbered = publication;
  numbered.offset =
      counted(worker, stream, [&](ChannelHistory& history) { return history.append(publication.data_json, now); });
  keep_within_memory(worker, stream);
  numbered.epoch = stream.epoch;
  if (it->second.subscribed) sink_->on_publication(owner_worker, numbered);
  done({PublishStatus::kAccepted, numbered.offset, stream.epoch});
}

void MemoryBroker::read_stream(unsigned owner_worker, std::string_view channel_name, const StreamQuery& query,
                               StreamDone done) {
  if (!query.history.enabled()) {
    done(StreamAnswer{.status = StreamStatus::kNoStream});
    return;
  }
  WorkerChannels& worker = workers_[owner_worker];
  auto it = worker.channels.try_emplace(std::string(channel_name)).first;
  const std::int64_t now = now_ms();
  Stream& stream = stream_of(worker, it->second, query.history, now);
  StreamAnswer answer;
  counted(worker, stream, [&](ChannelHistory& history) {
    history.expire(now);
    const bool same_epoch = query.has_since && query.since.epoch == stream.epoch;
    switch (query.mode) {
      case StreamQuery::Mode::kPosition:
        break;
      case StreamQuery::Mode::kRecover: {
        answer.complete = false;
        if (!same_epoch) break;
        SinceResult since = history.since(query.since.offset, query.limit, now);
        if (since.recovery != Recovery::kComplete) break;
        answer.complete = true;
        answer.publications.reserve(since.publications.size());
        for (const HistoryEntry& entry : since.publications) answer.publications.push_back(stored(entry));
        break;
      }
      case StreamQuery::Mode::kPage: {
        if (query.has_since && !same_epoch) {
          answer.complete = false;
          break;
        }
        const auto direction =
            query.reverse ? ChannelHistory::Direction::kNewestFirst : ChannelHistory::Direction::kOldestFirst;
        const std::optional<std::uint64_t> from =
            query.has_since ? std::optional<std::uint64_t>(query.since.offset) : std::nullopt;
        std::optional<std::vector<HistoryEntry>> page = history.page(from, query.limit, direction, now);
        if (!page) {
          answer.complete = false;
          break;
        }
        answer.publications.reserve(page->size());
        for (const HistoryEntry& entry : *page) answer.publications.push_back(stored(entry));
        break;
      }
    }
    if (query.latest) {
      if (std::optional<HistoryEntry> latest = history.latest(now)) {
        answer.has_latest = true;
        answer.latest = stored(*latest);
      }
    }
    answer.top = {history.top_offset(), stream.epoch};
  });
  // A read of a channel nobody subscribes to (`history`) keeps the stream
  // only as long as its publications would.
  forget_if_unused(worker, it, now);
  done(std::move(answer));
}

void MemoryBroker::expire_streams(unsigned owner_worker, std::int64_t now) {
  WorkerChannels& worker = workers_[owner_worker];
  for (auto it = worker.channels.begin(); it != worker.channels.end();) {
    auto next = std::next(it);
    if (it->second.stream) {
      counted(worker, *it->second.stream, [&](ChannelHistory& history) { history.expire(now); });
      forget_if_unused(worker, it, now);
    }
    it = next;
  }
}

std::uint64_t MemoryBroker::stream_bytes() const {
  std::uint64_t bytes = 0;
  for (const WorkerChannels& worker : workers_) bytes += worker.stream_bytes.load(std::memory_order_relaxed);
  return bytes;
}

std::uint64_t MemoryBroker::stream_trimmed() const {
  std::uint64_t count = 0;
  for (const WorkerChannels& worker : workers_) count += worker.stream_trimmed.load(std::memory_order_relaxed);
  return count;
}

std::uint64_t MemoryBroker::stream_publications() const {
  std::uint64_t count = 0;
  for (const WorkerChannels& worker : workers_) count += worker.stream_publications.load(std::memory_order_relaxed);
  return count;
}

void MemoryBroker::send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) {
  if (message.elsewhere_only) {
    done({PublishStatus::kAccepted, 0});  // there is no elsewhere
    return;
  }
  const bool here = sink_->on_user_message(owner_worker, message);
  done({PublishStatus::kAccepted, here ? 1u : 0u});
}

void MemoryBroker::ask_nodes(std::string_view question, AskDone done) {
  sink_->on_question(question, [done = std::move(done)](std::string answer) {
    std::vector<std::string> answers;
    answers.push_back(std::move(answer));
    done(std::move(answers), true);
  });
}

}  // namespace switchboard::broker
