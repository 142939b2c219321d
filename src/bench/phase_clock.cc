#include "bench/phase_clock.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/clock.h"

namespace switchboard::bench {

PhaseClock::PhaseClock(std::vector<std::unique_ptr<ThreadDriver>>& drivers, const BenchOptions& options,
                       std::uint64_t start_ns)
    : drivers_(drivers), options_(options), start_ns_(start_ns), progress_(isatty(STDERR_FILENO) == 1) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
}

PhaseClock::Wait PhaseClock::wait_until(std::uint64_t deadline_ns, const std::function<bool()>& done,
                                        const char* phase) {
  for (;;) {
    if (done()) return Wait::kDone;
    const std::uint64_t now = base::monotonic_ns();
    if (now >= deadline_ns) return Wait::kDeadline;
    if (progress_ && now >= next_progress_ns_) {
      print_progress(phase, now);
      next_progress_ns_ = now + 1'000'000'000u;
    }
    const std::uint64_t left = std::min<std::uint64_t>(deadline_ns - now, 10'000'000u);
    timespec timeout{0, static_cast<long>(left)};
    if (sigtimedwait(&signals_, nullptr, &timeout) > 0) return Wait::kInterrupted;
  }
}

std::uint64_t PhaseClock::sum(std::atomic<std::uint64_t> LiveCounters::*counter) const {
  std::uint64_t total = 0;
  for (const auto& driver : drivers_) total += (driver->live().*counter).load(std::memory_order_relaxed);
  return total;
}

void PhaseClock::print_progress(const char* phase, std::uint64_t now) {
  const std::uint64_t messages = sum(&LiveCounters::messages);
  const double elapsed = seconds_between(start_ns_, now);
  const double rate = static_cast<double>(messages - last_messages_);
  last_messages_ = messages;
  std::fprintf(stderr, "[%6.1fs] %-8s open %llu, failed %llu, errors %llu", elapsed, phase,
               static_cast<unsigned long long>(sum(&LiveCounters::opened)),
               static_cast<unsigned long long>(sum(&LiveCounters::settled) - sum(&LiveCounters::opened)),
               static_cast<unsigned long long>(sum(&LiveCounters::errors)));
  if (options_.scenario != Scenario::kConnect) {
    const char* counted = options_.scenario == Scenario::kEcho      ? "messages"
                          : options_.scenario == Scenario::kRecover ? "recovered"
                                                                    : "deliveries";
    std::fprintf(stderr, ", %s %llu (%.0f/s)", counted, static_cast<unsigned long long>(messages),
                 last_progress_ns_ == 0 ? 0.0 : rate);
  }
  std::fputc('\n', stderr);
  last_progress_ns_ = now;
}

void post_all(std::vector<std::unique_ptr<ThreadDriver>>& drivers, void (ThreadDriver::*step)()) {
  for (auto& driver : drivers) {
    ThreadDriver* target = driver.get();
    target->loop().post([target, step] { (target->*step)(); });
  }
}

}  // namespace switchboard::bench
