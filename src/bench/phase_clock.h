// How the runner's main thread waits through a phase of a run: it sleeps
// in sigtimedwait, in steps of at most 10 ms, so that SIGINT/SIGTERM
// (blocked in every thread) end a phase early, checks the phase's condition
// after each step, and prints a progress line each second when stderr is a
// terminal. Also the helpers the phases share: summing the threads' live
// counters, posting a step to every loop thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "bench/options.h"
#include "bench/thread_driver.h"

namespace switchboard::bench {

class PhaseClock {
 public:
  enum class Wait : std::uint8_t { kDone, kDeadline, kInterrupted };

  PhaseClock(std::vector<std::unique_ptr<ThreadDriver>>& drivers, const BenchOptions& options, std::uint64_t start_ns);

  // Waits until done() or deadline_ns, printing progress each second.
  Wait wait_until(std::uint64_t deadline_ns, const std::function<bool()>& done, const char* phase);

  // A live counter summed over the threads (relaxed reads: a progress
  // figure, or a count whose writer publishes nothing else with it).
  std::uint64_t sum(std::atomic<std::uint64_t> LiveCounters::*counter) const;

 private:
  void print_progress(const char* phase, std::uint64_t now);

  std::vector<std::unique_ptr<ThreadDriver>>& drivers_;
  const BenchOptions& options_;
  std::uint64_t start_ns_;
  bool progress_;
  sigset_t signals_;
  std::uint64_t next_progress_ns_ = 0;
  std::uint64_t last_progress_ns_ = 0;
  std::uint64_t last_messages_ = 0;
};

// Posts driver->*step() to every loop thread.
void post_all(std::vector<std::unique_ptr<ThreadDriver>>& drivers, void (ThreadDriver::*step)());

inline std::uint64_t ms_to_ns(std::uint64_t ms) { return ms * 1'000'000u; }
inline double seconds_between(std::uint64_t from_ns, std::uint64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}
// CPU seconds used between two readings; -1 if either could not be read.
inline double cpu_difference(double before, double after) {
  return before >= 0 && after >= before ? after - before : -1.0;
}

}  // namespace switchboard::bench
