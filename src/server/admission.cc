#include "server/admission.h"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace switchboard::server {

Admission::Admission(const ServerConfig& config, unsigned workers)
    : per_address_cap_(config.max_connections_per_address), buckets_(workers) {
  if (config.max_new_connections_per_s != 0 && workers != 0) {
    const double rate = static_cast<double>(config.max_new_connections_per_s) / workers;
    // A second's worth may arrive at once.
    per_worker_rate_ = {rate, std::max(1.0, rate)};
  }
  base::Result<AddressSet> trusted = AddressSet::parse(config.trusted_proxies);
  if (!trusted) throw std::invalid_argument("trusted_proxies: " + trusted.error());
  trusted_proxies_ = std::move(*trusted);
}

Admission::Verdict Admission::admit(unsigned worker, std::string_view address, std::uint64_t now_ms, bool* counted) {
  *counted = false;
  if (!buckets_[worker].try_take(per_worker_rate_, now_ms, 1)) return Verdict::kTooManyNew;
  if (trusted_proxies_.contains(address)) return Verdict::kAdmit;
  return admit_address(address, counted);
}

Admission::Verdict Admission::admit_address(std::string_view address, bool* counted) {
  *counted = false;
  if (per_address_cap_ == 0) return Verdict::kAdmit;
  std::lock_guard lock(mutex_);
  auto [it, created] = live_by_address_.try_emplace(std::string(address), 0);
  if (it->second >= per_address_cap_) return Verdict::kTooManyFromAddress;
  ++it->second;
  *counted = true;
  return Verdict::kAdmit;
}

void Admission::count_refusal(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTooManyFromAddress:
      refused_from_address_.fetch_add(1, std::memory_order_relaxed);
      return;
    case Verdict::kTooManyNew:
      refused_new_.fetch_add(1, std::memory_order_relaxed);
      return;
    case Verdict::kAdmit:
      return;
  }
}

void Admission::release(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = live_by_address_.find(address);
  if (it == live_by_address_.end()) return;
  if (--it->second == 0) live_by_address_.erase(it);
}

int jittered_retry_after_s() {
  thread_local std::minstd_rand random(std::random_device{}());
  return 1 + static_cast<int>(random() % 5);
}

}  // namespace switchboard::server
