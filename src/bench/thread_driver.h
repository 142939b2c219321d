// One load thread: an EventLoop, the connections it owns, and the
// bookkeeping every scenario shares (paced connecting, the close phase,
// counters). Scenarios (echo_scenario.h, broadcast_scenario.h,
// connect_scenario.h, pubsub_scenario.h, recover_scenario.h) derive from it and add the per-message logic.
//
// Threading: constructed on the main thread before the loop thread starts;
// then every member but live() runs on the loop thread, reached from the
// runner only through loop().post(). result() is read after the thread is
// joined.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/errors.h"
#include "bench/histogram.h"
#include "bench/load_connection.h"
#include "loop/event_loop.h"
#include "loop/tcp_socket.h"

namespace switchboard::bench {

// Figures the runner reads while the thread runs (progress, phase changes).
// Single writer, the loop thread: bump() is a relaxed load and store, not a
// locked read-modify-write.
struct alignas(64) LiveCounters {
  std::atomic<std::uint64_t> opened{0};     // handshakes completed
  std::atomic<std::uint64_t> settled{0};    // opened or failed before opening
  std::atomic<std::uint64_t> done{0};       // finished (socket closed)
  std::atomic<std::uint64_t> messages{0};   // echo: echoes received; broadcast: deliveries
  std::atomic<std::uint64_t> published{0};  // broadcast: publishes completed
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> outstanding{0};   // broadcast, pubsub: publishes in flight
  std::atomic<std::uint64_t> ready{0};         // pubsub: subscribe replies received
  std::atomic<std::uint64_t> last_open_ns{0};  // monotonic time of the last handshake completed
  // Recover: the last round the thread has finished (stored with release
  // after the two times below), and that round's first command sent and
  // last answer received, monotonic ns (0: it sent none).
  std::atomic<std::uint64_t> round_done{0};
  std::atomic<std::uint64_t> round_first_send_ns{0};
  std::atomic<std::uint64_t> round_last_reply_ns{0};
  std::atomic<bool> first_open{false};  // connection 0 (broadcast: the publisher) opened
  std::atomic<bool> finished{false};    // every connection is done after close_all()
};

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Final per-thread figures, merged by the runner.
struct ThreadResult {
  Histogram handshake;  // connect(2) -> validated 101, ns
  Histogram latency;    // echo round trip or broadcast delivery, ns
  ErrorCounts errors;
  std::uint64_t opened = 0;
  std::uint64_t failed = 0;  // never opened
  std::string first_error;   // "connect: Connection refused", for the report
  // Broadcast bookkeeping for missing deliveries (see BroadcastDriver).
  std::uint64_t published_total = 0;
  std::uint64_t subscribers = 0;  // subscribers that opened
  std::uint64_t gaps = 0;
  std::uint64_t expected_sum = 0;
  // Pubsub: subscribers and messages received, per channel; publishes the
  // server refused, per channel, and the first refusal's text.
  std::vector<std::uint64_t> channel_subscribers;
  std::vector<std::uint64_t> channel_received;
  std::vector<std::uint64_t> channel_refused;
  std::string first_refusal;
  // Recover: replies of the storms that recovered what was due, and the
  // publications in them.
  std::uint64_t recoveries = 0;
  std::uint64_t recovered_publications = 0;
};

struct ThreadPlan {
  const ConnectionSettings* settings = nullptr;
  // Connection 0's own settings when not null: the pubsub publisher on
  // --publish-url, a different node than the subscribers.
  const ConnectionSettings* first_settings = nullptr;
  const std::vector<sockaddr_in>* sources = nullptr;  // empty: the kernel picks
  std::uint32_t thread_index = 0;
  std::uint32_t thread_count = 1;
  std::uint32_t connections = 0;  // on this thread
  std::uint32_t concurrency = 1;  // handshakes in progress at once, on this thread
  std::uint64_t epoch_ns = 0;     // timestamps in payloads count from here
  std::uint64_t seed = 0;
};

class ThreadDriver : public ConnectionObserver {
 public:
  explicit ThreadDriver(const ThreadPlan& plan);
  virtual ~ThreadDriver();
  ThreadDriver(const ThreadDriver&) = delete;
  ThreadDriver& operator=(const ThreadDriver&) = delete;

  loop::EventLoop& loop() { return loop_; }
  LiveCounters& live() { return live_; }
  const ThreadResult& result() const { return result_; }

  // Loop thread: runs until close_all() has finished every connection.
  void run();

  // Loop thread, posted by the runner, in this order.
  void start_connecting();
  virtual void start_measuring() { measuring_ = true; }
  virtual void stop_measuring() { measuring_ = false; }
  void close_all();

  // ConnectionObserver: the shared bookkeeping, then the scenario's hooks.
  void on_open(LoadConnection& connection) final;
  void on_error(LoadConnection& connection, ErrorKind kind) final;
  void on_done(LoadConnection& connection) final;

 protected:
  virtual void scenario_open(LoadConnection&) {}
  virtual void scenario_done(LoadConnection&) {}
  // Counts an error the scenario found (a mismatched echo, say).
  void count_error(ErrorKind kind, std::string_view detail = {});
  // Payload timestamps: nanoseconds since the run's epoch.
  std::uint64_t now() const;

  ThreadPlan plan_;
  loop::EventLoop loop_;
  ThreadResult result_;
  std::vector<std::unique_ptr<LoadConnection>> connections_;
  bool measuring_ = false;

 private:
  void pump();  // starts connections while under the concurrency limit

  LiveCounters live_;
  std::mt19937_64 random_;
  std::uint32_t next_to_start_ = 0;
  std::uint32_t in_progress_ = 0;
  std::uint32_t done_ = 0;
  bool pumping_ = false;
  bool pump_again_ = false;
  bool closing_ = false;
};

}  // namespace switchboard::bench
