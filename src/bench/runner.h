// Runs one benchmark: sets up the target and the descriptor limit, starts
// --threads loop threads (connection i goes to thread i % threads), drives
// the phases — connect, measure (or hold; recover: its rounds,
// recover_rounds.h), drain, close — from the main thread, prints a
// progress line each second when stderr is a terminal, and merges the
// per-thread results.
//
// Every phase is bounded: connecting by the handshake timeout per round of
// --concurrency connections, measuring by --duration/--hold, closing by the
// 2 s close timeout; a watchdog skips ahead when a phase overruns, and ends
// the process if a loop thread stops answering. SIGINT/SIGTERM end the
// current phase early; the figures so far are still reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/errors.h"
#include "bench/histogram.h"
#include "bench/options.h"

namespace switchboard::bench {

// Recover: one storm, all subscribers recovering at once.
struct StormFigures {
  double seconds = 0;        // the first subscribe sent to the last reply received
  double server_cpu_s = -1;  // over the storm (-1: unknown)
};

struct RunResult {
  BenchOptions options;
  std::string target;                    // the resolved address, "127.0.0.1:8080"
  std::string publish_target;            // pubsub --publish-url resolved ("": the publisher uses target)
  std::uint32_t source_addresses = 0;    // 0: the kernel chose
  std::uint64_t connections = 0;         // attempted: C, plus the publisher for broadcast
  std::uint64_t connections_open = 0;    // handshakes completed
  std::uint64_t connections_failed = 0;  // never opened
  double connect_seconds = 0;            // first connect(2) to the last 101
  double handshakes_per_second = 0;
  Histogram handshake;                   // ns
  Histogram latency;                     // ns: echo round trip, broadcast delivery
  double window_seconds = 0;             // the measurement (or hold) actually run
  std::uint64_t messages = 0;            // in the window: echoes received, or deliveries
  std::uint64_t publishes = 0;           // broadcast, in the window
  std::uint64_t bytes = 0;               // payload bytes: echo both ways; broadcast delivered
  std::uint64_t missing_deliveries = 0;  // broadcast, pubsub: accepted and never delivered
  std::uint64_t refused_publishes = 0;   // pubsub, the whole run: publishes the server answered with an error
  std::string first_refusal;             // pubsub: that error's text
  ErrorCounts errors;
  std::string first_error;
  // --server-pid: VmRSS in bytes before and after the connect phase, and
  // the server's CPU seconds in the connect phase and in the measurement (or
  // hold) window; -1 when unknown.
  std::int64_t rss_before = -1;
  std::int64_t rss_after = -1;
  std::int64_t rss_peak = -1;  // recover: VmHWM after the storms (the most since the server started)
  double server_cpu_connect_s = -1;
  double server_cpu_window_s = -1;
  // Recover: the stream the setup made (epoch, last offset), the storms,
  // and the replies that recovered what was due (messages: their
  // publications).
  std::string stream_epoch;
  std::uint64_t stream_top = 0;
  std::vector<StormFigures> storms;
  std::uint64_t recoveries = 0;
  bool watchdog_fired = false;
  bool interrupted = false;
  std::string aborted;  // why the measurement did not run, if it did not
};

// Runs the benchmark described by validated options. An error when it
// cannot start (unresolvable host, too few descriptors); a run that starts
// always fills *result.
base::Result<void> run_bench(const BenchOptions& options, RunResult* result);

}  // namespace switchboard::bench
