#include "bench/recover_rounds.h"

#include <algorithm>
#include <string>

#include "base/clock.h"
#include "bench/recover_scenario.h"

namespace switchboard::bench {
namespace {

constexpr std::uint64_t kSetupTimeoutMs = 120'000;
constexpr std::uint64_t kStormTimeoutMs = 120'000;
constexpr std::uint64_t kUnsubscribeTimeoutMs = 30'000;

using Step = std::function<void(RecoverDriver&)>;

// Posts step to every thread and waits until each has finished the round.
PhaseClock::Wait run_round(std::vector<std::unique_ptr<ThreadDriver>>& drivers, PhaseClock& clock, std::uint64_t round,
                           const Step& step, std::uint64_t timeout_ms, const char* phase) {
  for (auto& driver : drivers) {
    auto* target = static_cast<RecoverDriver*>(driver.get());
    target->loop().post([target, step] { step(*target); });
  }
  auto finished = [&] {
    for (const auto& driver : drivers) {
      if (driver->live().round_done.load(std::memory_order_acquire) < round) return false;
    }
    return true;
  };
  return clock.wait_until(base::monotonic_ns() + ms_to_ns(timeout_ms), finished, phase);
}

// First command sent to last answer received, over the threads, once the
// round is done (round_done's acquire made the times visible).
double round_seconds(const std::vector<std::unique_ptr<ThreadDriver>>& drivers) {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  for (const auto& driver : drivers) {
    const std::uint64_t sent = driver->live().round_first_send_ns.load(std::memory_order_relaxed);
    const std::uint64_t answered = driver->live().round_last_reply_ns.load(std::memory_order_relaxed);
    if (sent != 0 && (first == 0 || sent < first)) first = sent;
    last = std::max(last, answered);
  }
  return first == 0 ? 0.0 : seconds_between(first, last);
}

// False (and the reason set) unless the round finished.
bool round_finished(PhaseClock::Wait wait, const std::string& what, std::uint64_t timeout_ms, RunResult& result) {
  if (wait == PhaseClock::Wait::kDone) return true;
  if (wait == PhaseClock::Wait::kInterrupted) {
    result.interrupted = true;
  } else {
    result.watchdog_fired = true;
    if (result.first_error.empty()) {
      result.first_error = what + " did not finish within " + std::to_string(timeout_ms / 1000) + " s";
    }
  }
  return false;
}

}  // namespace

void run_recover_rounds(std::vector<std::unique_ptr<ThreadDriver>>& drivers, PhaseClock& clock,
                        const std::function<double()>& server_cpu, RunResult& result) {
  const BenchOptions& options = result.options;
  std::uint64_t round = 1;
  PhaseClock::Wait wait = run_round(
      drivers, clock, round, [round](RecoverDriver& driver) { driver.run_setup(round); }, kSetupTimeoutMs, "setup");
  if (!round_finished(wait, "the setup", kSetupTimeoutMs, result)) return;
  const RecoverSetup& setup = static_cast<RecoverDriver&>(*drivers[0]).setup();
  if (!setup.problem.empty()) {
    result.aborted = "setup: " + setup.problem;
    return;
  }
  result.stream_epoch = setup.epoch;
  result.stream_top = setup.top;
  const std::uint64_t since = setup.top - options.recover;  // the setup's K publications numbered at most top
  const std::string epoch = setup.epoch;

  double seconds_total = 0;
  double cpu_total = 0;
  for (std::uint32_t storm = 1; storm <= options.storms; ++storm) {
    ++round;
    const double cpu_before = server_cpu();
    wait = run_round(
        drivers, clock, round,
        [round, epoch, since, top = setup.top](RecoverDriver& driver) { driver.run_storm(round, epoch, since, top); },
        kStormTimeoutMs, "storm");
    const double cpu = cpu_difference(cpu_before, server_cpu());
    if (!round_finished(wait, "storm " + std::to_string(storm), kStormTimeoutMs, result)) break;
    const StormFigures figures{round_seconds(drivers), cpu};
    result.storms.push_back(figures);
    seconds_total += figures.seconds;
    cpu_total = cpu < 0 || cpu_total < 0 ? -1 : cpu_total + cpu;
    if (storm == options.storms) break;
    ++round;
    wait = run_round(
        drivers, clock, round, [round](RecoverDriver& driver) { driver.run_unsubscribe(round); }, kUnsubscribeTimeoutMs,
        "unsub");
    if (!round_finished(wait, "the unsubscribe after storm " + std::to_string(storm), kUnsubscribeTimeoutMs, result)) {
      break;
    }
  }
  result.window_seconds = seconds_total;
  result.server_cpu_window_s = result.storms.empty() ? -1 : cpu_total;
}

}  // namespace switchboard::bench
