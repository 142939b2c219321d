#include "hub/held_frames.h"

#include <algorithm>

namespace switchboard::hub {

bool HeldBytesBudget::try_take(std::size_t n) {
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (n > cap_ || held > cap_ - n) return false;
  } while (!held_.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
  return true;
}

HeldFrames::~HeldFrames() {
  if (bytes_ != 0) node_.give_back(bytes_);
}

HeldFrames::Channel* HeldFrames::find(std::string_view channel) {
  for (Channel& entry : channels_) {
    if (entry.name == channel) return &entry;
  }
  return nullptr;
}

bool HeldFrames::holds(std::string_view channel) const {
  for (const Channel& entry : channels_) {
    if (entry.name == channel) return !entry.frames.empty();
  }
  return false;
}

void HeldFrames::pop_front(Channel& channel) {
  const std::size_t size = cost(channel.frames.front().frame);
  channel.frames.pop_front();
  bytes_ -= size;
  node_.give_back(size);
}

bool HeldFrames::pop_oldest() {
  Channel* oldest = nullptr;
  for (Channel& entry : channels_) {
    if (!entry.frames.empty() && (oldest == nullptr || entry.frames.front().serial < oldest->frames.front().serial)) {
      oldest = &entry;
    }
  }
  if (oldest == nullptr) return false;
  pop_front(*oldest);
  return true;
}

HeldFrames::HoldResult HeldFrames::hold(std::string_view channel, const SharedMessage& frame, std::size_t per_channel) {
  HoldResult result;
  const std::size_t size = cost(frame);
  if (size > connection_cap_) {
    result.outcome = Outcome::kLargerThanConnectionCap;
    result.connection_cap_hit = true;
    return result;
  }
  Channel* entry = find(channel);
  if (entry == nullptr) entry = &channels_.emplace_back(Channel{std::string(channel), {}});
  per_channel = std::max<std::size_t>(per_channel, 1);
  while (entry->frames.size() >= per_channel) {
    pop_front(*entry);
    ++result.pushed_out;
  }
  while (bytes_ + size > connection_cap_) {
    pop_oldest();  // cannot run dry: size alone fits the cap
    ++result.pushed_out;
    result.connection_cap_hit = true;
  }
  while (!node_.try_take(size)) {
    result.node_cap_hit = true;
    if (!pop_oldest()) {
      result.outcome = Outcome::kNodeFull;
      return result;
    }
    ++result.pushed_out;
  }
  entry->frames.push_back(Held{frame, next_serial_++});
  bytes_ += size;
  return result;
}

void HeldFrames::discard(std::string_view channel) {
  auto it =
      std::find_if(channels_.begin(), channels_.end(), [&](const Channel& entry) { return entry.name == channel; });
  if (it == channels_.end()) return;
  while (!it->frames.empty()) pop_front(*it);
  channels_.erase(it);
}

}  // namespace switchboard::hub
