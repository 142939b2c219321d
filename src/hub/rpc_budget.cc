#include "hub/rpc_budget.h"

namespace switchboard::hub {

RpcBudget::Verdict RpcBudget::try_take(std::uint64_t bytes) {
  if (rpcs_.fetch_add(1, std::memory_order_relaxed) >= max_rpcs_) {
    rpcs_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::kTooManyRpcs;
  }
  const std::uint64_t before = bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (before != 0 && before + bytes > max_bytes_) {
    bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    rpcs_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::kTooManyBytes;
  }
  return Verdict::kTaken;
}

void RpcBudget::give_back(std::uint64_t bytes) {
  bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  rpcs_.fetch_sub(1, std::memory_order_relaxed);
}

void RpcBudget::reset() {
  rpcs_.store(0, std::memory_order_relaxed);
  bytes_.store(0, std::memory_order_relaxed);
}

}  // namespace switchboard::hub
