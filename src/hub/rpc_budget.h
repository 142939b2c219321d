// The node's room for rpcs waiting for their answer, shared by every worker:
// how many there are and how many request bytes they carry (the data a
// handler, or the HTTP backend behind the proxy, holds until it answers).
// A call takes its share before its handler runs and gives it back when it
// is answered, fails or times out.
//
// Threading: any thread. Two relaxed atomics, each on its own cache line;
// a take is two fetch_adds (and their undo when refused), paid once per rpc,
// never on the message fan-out path. Chosen over a fixed share per worker
// because connections are not spread evenly over the workers: a share would
// refuse calls on a busy worker while the node still has room.
#pragma once

#include <atomic>
#include <cstdint>

namespace switchboard::hub {

class RpcBudget {
 public:
  enum class Verdict : std::uint8_t {
    kTaken,
    kTooManyRpcs,   // max_rpcs are pending already
    kTooManyBytes,  // the call's bytes would take the total over max_bytes
  };

  RpcBudget(std::uint64_t max_rpcs, std::uint64_t max_bytes) : max_rpcs_(max_rpcs), max_bytes_(max_bytes) {}

  // A call of `bytes` that arrives while no other call holds any bytes is
  // taken whatever its size (it is at most one message): a cap below the
  // largest message must not refuse every such call.
  Verdict try_take(std::uint64_t bytes);
  // What try_take took (kTaken only).
  void give_back(std::uint64_t bytes);
  // Forgets every call (a new server run: the old calls' answers find no
  // pending entry and give nothing back).
  void reset();

  std::uint64_t rpcs() const { return rpcs_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t max_rpcs() const { return max_rpcs_; }
  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  const std::uint64_t max_rpcs_;
  const std::uint64_t max_bytes_;
  // A refused take undoes its add; a take racing with that undo may see the
  // total briefly too high and be refused too. That only happens at the cap.
  alignas(64) std::atomic<std::uint64_t> rpcs_{0};
  alignas(64) std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace switchboard::hub
