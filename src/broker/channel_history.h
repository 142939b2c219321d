// The recent past of one channel's stream: the last publications the node
// numbered, each with its offset, its data (the JSON text the hub passes to
// Broker::publish) and when it was stored, so that a subscriber coming back
// can get what it missed (recovery) or the latest one (cache). Pure: no I/O,
// no clock of its own (the caller passes now_ms, a monotonic time in ms).
//
// Numbering: append() gives offset top_offset() + 1; offsets are contiguous,
// so the entries kept are exactly the offsets (top - size(), top]. An empty
// history can continue an earlier numbering (constructor, reset()).
//
// Bounds: at most limits.size entries (the oldest go first) and none older
// than limits.ttl_s seconds. Expired entries go lazily, at the start of
// append(), latest() and since(), and on expire(), which the owner can call
// on a timer so that a channel nobody publishes to frees its memory. Storage
// is a ring over one vector that grows geometrically up to limits.size and
// is freed when the history empties: no allocation per entry beyond its data
// string, whose buffer a slot reuses when the ring wraps.
//
// since(offset, limit) answers every publication after offset, in order, or
// kNotRecoverable when that cannot be done whole: the next one is no longer
// kept (trimmed by size or TTL), offset is in the future, or more than limit
// would be needed. Never a partial list.
//
// Complexity: append O(1) amortised; lookup by offset O(1) (contiguous
// offsets); since O(k) for k publications returned; expire O(e) for e
// entries dropped.
//
// Threading: a ChannelHistory belongs to its channel's owner worker and is
// touched by that thread only. Views returned stay valid until the next
// non-const call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/broker.h"

namespace switchboard::broker {

// A new stream epoch: 8 URL-safe characters ([A-Za-z0-9_-], 48 random bits
// from std::random_device). An epoch names one unbroken past of a stream:
// it changes whenever that past may have been lost (for the memory broker,
// at each start of the node), so that an offset is only ever compared with
// offsets of the same epoch and never reused with an old meaning.
std::string make_epoch();
// The same from 48 bits the caller drew (the low 48 of random_bits): for a
// caller that makes many and keeps a generator of its own (random_device
// costs a system call or more each time).
std::string make_epoch(std::uint64_t random_bits);

// One stored publication, viewed.
struct HistoryEntry {
  std::uint64_t offset;
  std::string_view data_json;
  std::int64_t stored_ms;
};

enum class Recovery : std::uint8_t {
  kComplete,        // publications holds every one after the asked offset
  kNotRecoverable,  // the position is gone: the subscriber must reload
};

struct SinceResult {
  Recovery recovery;
  std::vector<HistoryEntry> publications;  // in offset order; empty unless kComplete
  std::uint64_t top_offset;                // the stream's position when answered
};

class ChannelHistory {
 public:
  explicit ChannelHistory(HistoryLimits limits, std::uint64_t top_offset = 0);

  // Stores data as the next publication; returns its offset.
  std::uint64_t append(std::string_view data_json, std::int64_t now_ms);

  // The newest publication still kept, if any.
  std::optional<HistoryEntry> latest(std::int64_t now_ms);

  // Every publication with an offset above offset, or kNotRecoverable (see
  // the top of this file). offset == top_offset() is complete and empty.
  SinceResult since(std::uint64_t offset, std::size_t limit, std::int64_t now_ms);

  // A page of the kept publications (the `history` command): at most
  // limit of them, oldest first from just after `after` (nullopt: from the
  // oldest kept), or with Direction::kNewestFirst newest first from just
  // before `before` (nullopt: from the newest). nullopt when the place named
  // cannot be read from whole: after is in the future or what follows it is
  // no longer kept; before is past the next offset to be given.
  enum class Direction : std::uint8_t { kOldestFirst, kNewestFirst };
  std::optional<std::vector<HistoryEntry>> page(std::optional<std::uint64_t> from, std::size_t limit,
                                                Direction direction, std::int64_t now_ms);

  // Drops the entries older than the TTL at now_ms.
  void expire(std::int64_t now_ms);

  // New bounds (a configuration reload): the oldest entries beyond the new
  // size go at once, those beyond the new TTL at the next access.
  void set_limits(HistoryLimits limits);
  HistoryLimits limits() const { return limits_; }

  // Drops the oldest entry (memory pressure: the node's cap for streams).
  void trim_oldest();
  // Gives back the slots beyond those the entries kept need (they grow
  // again, geometrically, as entries come).
  void shrink_to_fit();

  // Forgets every entry; numbering continues after top_offset.
  void reset(std::uint64_t top_offset);

  // The last offset given (0: none yet), kept even when the entries are gone.
  std::uint64_t top_offset() const { return top_offset_; }
  // Entries kept now (expired ones included until the next access).
  std::size_t size() const { return count_; }
  // Bytes this history holds: the object, its slots and the heap buffers of
  // the data strings (allocator overhead not counted).
  std::size_t memory_bytes() const;

 private:
  struct Slot {
    std::uint64_t offset = 0;
    std::int64_t stored_ms = 0;
    std::string data_json;
  };

  const Slot& at(std::size_t index_from_oldest) const;
  HistoryEntry view(const Slot& slot) const { return {slot.offset, slot.data_json, slot.stored_ms}; }
  void drop_oldest();
  void grow();
  // Moves the entries, oldest first, into a ring of capacity slots.
  void relayout(std::size_t capacity);
  void release_storage();

  HistoryLimits limits_;
  std::int64_t ttl_ms_;
  std::uint64_t top_offset_;
  std::int64_t last_stored_ms_ = 0;
  // The ring: count_ entries from slots_[head_], wrapping. Slots past the
  // entries kept hold empty strings.
  std::vector<Slot> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t data_heap_bytes_ = 0;  // sum of the slots' string heap buffers
};

}  // namespace switchboard::broker
