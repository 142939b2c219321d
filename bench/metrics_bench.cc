// Cost of the metrics the hub bumps on its message paths (Counter::add,
// Histogram::observe) from one and two threads, against one std::atomic
// shared by the threads, which is what the per-thread shards exist to beat;
// and the cost of Registry::render() for a registry shaped like the hub's.
// Google Benchmark prints the figures; nothing here passes or fails.
//
// Reading the two-thread rows (UseRealTime): "Time" is wall-clock time per
// operation of both threads together (items_per_second is its inverse, the
// combined rate), and "CPU" is the CPU time of both threads summed per
// operation: what one add costs the process. With one thread they agree.
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <benchmark/benchmark.h>

#include "metrics/buckets.h"
#include "metrics/counter.h"
#include "metrics/histogram.h"
#include "metrics/registry.h"
#include "metrics/shard.h"

namespace switchboard::metrics {
namespace {

// Google Benchmark starts new threads for every run of a multi-threaded
// benchmark, and this_thread_shard() numbers threads round-robin for the
// life of the process, so every 16th thread it starts would share the
// (long-lived) main thread's shard and measure contention that a server's
// long-lived workers never see. Before thread 1 takes its shard, thread 0
// lets throwaway threads take the numbers that would collide with its own.
std::atomic<bool> shard_gate_open{false};
std::atomic<std::size_t> thread0_shard{0};

// Call before the timed loop; returns false (and skips the run) if the
// threads still ended up sharing a shard.
bool take_distinct_shards(benchmark::State& state) {
  if (state.threads() == 1) {
    this_thread_shard();
    return true;
  }
  if (state.thread_index() == 0) {
    const std::size_t mine = this_thread_shard();
    thread0_shard.store(mine, std::memory_order_relaxed);
    std::size_t next = mine;
    while (next == mine) {
      std::thread([&next] { next = (this_thread_shard() + 1) % kShardCount; }).join();
    }
    shard_gate_open.store(true, std::memory_order_release);
    return true;
  }
  while (!shard_gate_open.load(std::memory_order_acquire)) {
  }
  if (this_thread_shard() == thread0_shard.load(std::memory_order_relaxed)) {
    state.SkipWithError("the threads share a shard: figures would show contention");
    return false;
  }
  return true;
}

// After the timed loop: every thread has passed the gate by then (the loop
// starts with a barrier), so thread 0 can close it for the next run.
void close_shard_gate(const benchmark::State& state) {
  if (state.thread_index() == 0) shard_gate_open.store(false, std::memory_order_relaxed);
}

// The baseline: one counter cell for all threads, on a line of its own so
// that nothing else in the binary pays for its traffic.
struct alignas(kCacheLineSize) SharedCell {
  std::atomic<std::uint64_t> value{0};
};
SharedCell shared_cell;

void BM_SharedAtomicFetchAdd(benchmark::State& state) {
  for (auto _ : state) shared_cell.value.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}

Counter counter;

void BM_CounterAdd(benchmark::State& state) {
  if (!take_distinct_shards(state)) return;
  for (auto _ : state) counter.add();
  close_shard_gate(state);
  state.SetItemsProcessed(state.iterations());
}

// Log-uniform between 20 µs and 400 ms: every bucket, +Inf included, in an
// order the branch predictor cannot learn from the previous value.
const std::array<double, 1024>& latencies() {
  static const std::array<double, 1024> values = [] {
    std::array<double, 1024> spread{};
    std::uint32_t state = 0x9E3779B9;
    for (double& value : spread) {
      state = state * 1664525 + 1013904223;  // LCG: enough for spreading values
      const double unit = static_cast<double>(state >> 8) / static_cast<double>(1 << 24);
      value = 20e-6 * std::pow(20000.0, unit);
    }
    return spread;
  }();
  return values;
}

void BM_HistogramObserve(benchmark::State& state) {
  // The hub's delivery-latency shape cut to 12 buckets: 50 µs .. 102.4 ms.
  static Histogram histogram(exponential_buckets(50e-6, 2, 12));
  const std::array<double, 1024>& values = latencies();
  if (!take_distinct_shards(state)) return;
  // Threads start at different points of the list.
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 512;
  for (auto _ : state) histogram.observe(values[i++ % values.size()]);
  close_shard_gate(state);
  state.SetItemsProcessed(state.iterations());
}

// The same with one value, so the bucket search always takes the same
// branches (as when nearly every observation falls in one bucket): the
// difference to the run above is what mispredicting them costs.
void BM_HistogramObserveOneBucket(benchmark::State& state) {
  static Histogram histogram(exponential_buckets(50e-6, 2, 12));
  double value = 120e-6;
  for (auto _ : state) {
    benchmark::DoNotOptimize(value);
    histogram.observe(value);
  }
  state.SetItemsProcessed(state.iterations());
}

// Shaped like the hub's registry (src/hub/hub_metrics.cc, hub::Node::
// register_gauges) with two workers, plus two more histograms: 27 counters,
// 2 counter callbacks, 4 gauge callbacks, 2 per-worker gauges and 3
// histograms of 12 buckets: 38 series, 80 sample lines, about 7 KB of text.
struct HubLikeRegistry {
  Registry registry;
  std::size_t series = 0;

  HubLikeRegistry() {
    std::uint64_t value = 1'234'567;
    const auto counter_series = [&](std::string_view name, std::string_view help, Labels labels) {
      registry.counter(name, help, std::move(labels)).add(value);
      value = value * 7 / 3;  // 7 to 16 digits, as long-running counters have
      ++series;
    };
    for (const char* type :
         {"connect", "subscribe", "unsubscribe", "publish", "history", "presence", "send", "refresh", "ping"}) {
      counter_series("switchboard_commands_total", "Valid v1 commands received, by type", {{"type", type}});
    }
    counter_series("switchboard_invalid_commands_total", "Client messages that were not a valid v1 command", {});
    counter_series("switchboard_received_bytes_total", "Bytes of client messages", {});
    counter_series("switchboard_delivered_messages_total", "Frames handed to connections by the fan-out", {});
    counter_series("switchboard_delivered_bytes_total", "Bytes of those frames", {});
    for (const char* reason : {"invalid_token", "permission_denied", "rate_limited"}) {
      counter_series("switchboard_refused_total", "Commands, tokens and messages refused, by reason",
                     {{"reason", reason}});
    }
    counter_series("switchboard_rate_limit_closes_total", "Connections closed for staying over the rate limits", {});
    counter_series("switchboard_slow_consumer_drops_total", "Frames not delivered: outgoing buffer full", {});
    counter_series("switchboard_slow_consumer_held_total", "Frames held until the outgoing buffer drained", {});
    counter_series("switchboard_slow_consumer_closes_total", "Connections closed with 1013: buffer full", {});
    counter_series("switchboard_broker_errors_total", "Publishes the broker could not take", {});
    counter_series("switchboard_connections_opened_total", "Protocol connections opened", {});
    for (const char* kind : {"normal", "abnormal", "protocol", "policy", "application"}) {
      counter_series("switchboard_connections_closed_total", "Protocol connections closed, by who ended them",
                     {{"kind", kind}});
    }
    for (const char* reason : {"per_address", "new_connection_rate"}) {
      registry.counter_callback("switchboard_admission_refused_total", "Sockets refused before the handshake, by cap",
                                {{"reason", reason}}, [] { return 4711.0; });
      ++series;
    }
    for (const char* name :
         {"switchboard_users", "switchboard_channels", "switchboard_subscriptions", "switchboard_tcp_connections"}) {
      registry.gauge_callback(name, "A count the hub keeps elsewhere", {}, [] { return 18'734.0; });
      ++series;
    }
    for (const char* worker : {"0", "1"}) {
      registry.gauge("switchboard_connections", "Open protocol connections, per worker thread", {{"worker", worker}})
          .set(9'517);
      ++series;
    }
    const auto histogram_series = [&](std::string_view name, std::string_view help, double start) {
      Histogram& histogram = registry.histogram(name, help, exponential_buckets(start, 2, 12));
      for (std::size_t i = 0; i < 10'000; ++i) histogram.observe(start * latencies()[i % latencies().size()] / 50e-6);
      ++series;
    };
    histogram_series("switchboard_delivery_latency_seconds", "Publication numbered -> frame handed to sockets", 50e-6);
    histogram_series("switchboard_handshake_seconds", "Accept -> 101 Switching Protocols", 50e-6);
    histogram_series("switchboard_message_size_bytes", "Sizes of client messages", 16);
  }
};

void BM_RegistryRender(benchmark::State& state) {
  static const HubLikeRegistry hub;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = hub.registry.render();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["series"] = static_cast<double>(hub.series);
  state.counters["bytes"] = static_cast<double>(bytes);
}

// Two threads at most: the machine these figures come from has two cores.
BENCHMARK(BM_SharedAtomicFetchAdd)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_CounterAdd)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_HistogramObserveOneBucket)->UseRealTime();
BENCHMARK(BM_RegistryRender);

}  // namespace
}  // namespace switchboard::metrics
