#include "broker/channel_history.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <random>
#include <utility>

namespace switchboard::broker {
namespace {

constexpr std::size_t kEpochLength = 8;
constexpr std::string_view kUrlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static_assert(kUrlSafe.size() == 64, "6 bits per character");

// The smallest ring that is worth allocating: channels with a few
// publications do not pay for history_size slots.
constexpr std::size_t kFirstCapacity = 4;

// The heap buffer a string holds; a short string lives inside the Slot
// (counted with the slots) and holds none.
std::size_t heap_bytes(const std::string& text) {
  static const std::size_t inline_capacity = std::string().capacity();
  return text.capacity() > inline_capacity ? text.capacity() + 1 : 0;
}

std::int64_t ttl_in_ms(std::uint64_t ttl_s) {
  constexpr std::uint64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
  return static_cast<std::int64_t>(std::min(ttl_s, kMaxSeconds) * 1000);
}

}  // namespace

std::string make_epoch() {
  std::random_device random;
  // 48 bits from two draws: random_device gives 32 bits per call.
  return make_epoch((static_cast<std::uint64_t>(random()) << 32) | random());
}

std::string make_epoch(std::uint64_t bits) {
  std::string epoch(kEpochLength, '\0');
  for (std::size_t i = 0; i < kEpochLength; ++i) epoch[i] = kUrlSafe[(bits >> (6 * i)) & 63];
  return epoch;
}

ChannelHistory::ChannelHistory(HistoryLimits limits, std::uint64_t top_offset)
    : limits_(limits), ttl_ms_(ttl_in_ms(limits.ttl_s)), top_offset_(top_offset) {
  assert(limits.size > 0 && limits.ttl_s > 0);
}

std::uint64_t ChannelHistory::append(std::string_view data_json, std::int64_t now_ms) {
  expire(now_ms);
  // Entries stay in time order even if the caller's clock steps back, so
  // that expiry only ever looks at the oldest.
  last_stored_ms_ = std::max(last_stored_ms_, now_ms);
  if (count_ == slots_.size() && count_ < limits_.size) grow();
  Slot* slot;
  if (count_ == limits_.size) {
    // Full: the oldest slot takes the new entry, reusing its buffer.
    slot = &slots_[head_];
    head_ = (head_ + 1) % slots_.size();
  } else {
    slot = &slots_[(head_ + count_) % slots_.size()];
    ++count_;
  }
  data_heap_bytes_ -= heap_bytes(slot->data_json);
  slot->data_json.assign(data_json);
  data_heap_bytes_ += heap_bytes(slot->data_json);
  slot->offset = ++top_offset_;
  slot->stored_ms = last_stored_ms_;
  return slot->offset;
}

std::optional<HistoryEntry> ChannelHistory::latest(std::int64_t now_ms) {
  expire(now_ms);
  if (count_ == 0) return std::nullopt;
  return view(at(count_ - 1));
}

SinceResult ChannelHistory::since(std::uint64_t offset, std::size_t limit, std::int64_t now_ms) {
  expire(now_ms);
  SinceResult result{Recovery::kNotRecoverable, {}, top_offset_};
  if (offset > top_offset_) return result;  // a position this stream never gave
  // Offsets are contiguous: the publications after offset are the newest
  // `needed` entries, if that many are still kept.
  const std::uint64_t needed = top_offset_ - offset;
  if (needed > limit || needed > count_) return result;
  result.recovery = Recovery::kComplete;
  result.publications.reserve(needed);
  for (std::size_t i = count_ - needed; i < count_; ++i) result.publications.push_back(view(at(i)));
  return result;
}

std::optional<std::vector<HistoryEntry>> ChannelHistory::page(std::optional<std::uint64_t> from, std::size_t limit,
                                                              Direction direction, std::int64_t now_ms) {
  expire(now_ms);
  // Kept: the offsets [oldest, top_offset_]; oldest is top_offset_ + 1 when none.
  const std::uint64_t oldest = top_offset_ - count_ + 1;
  std::vector<HistoryEntry> entries;
  if (direction == Direction::kOldestFirst) {
    std::uint64_t first = oldest;
    if (from) {
      if (*from > top_offset_ || *from + 1 < oldest) return std::nullopt;
      first = *from + 1;
    }
    const std::uint64_t available = top_offset_ + 1 - first;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(available, limit));
    entries.reserve(take);
    for (std::size_t i = 0; i < take; ++i) entries.push_back(view(at(static_cast<std::size_t>(first - oldest) + i)));
    return entries;
  }
  std::uint64_t end = top_offset_ + 1;  // one past the newest wanted
  if (from) {
    if (*from > top_offset_ + 1) return std::nullopt;
    end = std::max(*from, oldest);
  }
  const std::uint64_t available = end - oldest;
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(available, limit));
  entries.reserve(take);
  for (std::size_t i = 1; i <= take; ++i) entries.push_back(view(at(static_cast<std::size_t>(end - oldest) - i)));
  return entries;
}

void ChannelHistory::set_limits(HistoryLimits limits) {
  assert(limits.size > 0 && limits.ttl_s > 0);
  limits_ = limits;
  ttl_ms_ = ttl_in_ms(limits.ttl_s);
  while (count_ > limits_.size) drop_oldest();
  if (count_ == 0) {
    release_storage();
  } else if (slots_.size() > limits_.size) {
    relayout(limits_.size);
  }
}

void ChannelHistory::expire(std::int64_t now_ms) {
  while (count_ > 0 && now_ms - slots_[head_].stored_ms >= ttl_ms_) drop_oldest();
  if (count_ == 0) release_storage();
}

void ChannelHistory::trim_oldest() {
  if (count_ == 0) return;
  drop_oldest();
  if (count_ == 0) release_storage();
}

void ChannelHistory::shrink_to_fit() {
  if (count_ == 0) {
    release_storage();
  } else if (slots_.size() > count_) {
    relayout(count_);
  }
}

void ChannelHistory::reset(std::uint64_t top_offset) {
  release_storage();
  top_offset_ = top_offset;
}

std::size_t ChannelHistory::memory_bytes() const {
  return sizeof(*this) + slots_.capacity() * sizeof(Slot) + data_heap_bytes_;
}

const ChannelHistory::Slot& ChannelHistory::at(std::size_t index_from_oldest) const {
  return slots_[(head_ + index_from_oldest) % slots_.size()];
}

void ChannelHistory::drop_oldest() {
  Slot& oldest = slots_[head_];
  data_heap_bytes_ -= heap_bytes(oldest.data_json);
  std::string().swap(oldest.data_json);  // its buffer goes with it
  head_ = (head_ + 1) % slots_.size();
  --count_;
}

void ChannelHistory::grow() { relayout(std::min(limits_.size, std::max(kFirstCapacity, slots_.size() * 2))); }

void ChannelHistory::relayout(std::size_t capacity) {
  std::vector<Slot> ring(capacity);
  for (std::size_t i = 0; i < count_; ++i) ring[i] = std::move(slots_[(head_ + i) % slots_.size()]);
  slots_ = std::move(ring);
  head_ = 0;
}

void ChannelHistory::release_storage() {
  std::vector<Slot>().swap(slots_);
  head_ = 0;
  count_ = 0;
  data_heap_bytes_ = 0;
}

}  // namespace switchboard::broker
