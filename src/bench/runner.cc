#include "bench/runner.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "bench/address.h"
#include "bench/broadcast_scenario.h"
#include "bench/connect_scenario.h"
#include "bench/echo_scenario.h"
#include "bench/load_connection.h"
#include "bench/payload.h"
#include "bench/phase_clock.h"
#include "bench/pubsub_scenario.h"
#include "bench/recover_rounds.h"
#include "bench/recover_scenario.h"
#include "bench/server_process.h"
#include "bench/thread_driver.h"
#include "client/url.h"
#include "loop/tls.h"
#include "protocol/subprotocol.h"

namespace switchboard::bench {
namespace {

// Descriptors besides the connections: stdio, an epoll fd and an eventfd
// per loop, getaddrinfo, /proc reads.
constexpr std::uint64_t kDescriptorSlack = 32;
constexpr std::uint64_t kCloseTimeoutMs = 2'000;
// After the close phase's own timeouts, how long a loop thread may take to
// finish before the watchdog ends the process.
constexpr std::uint64_t kCloseGraceMs = 5'000;
// Broadcast: after publishing stops, how long deliveries may still arrive.
constexpr std::uint64_t kDrainMs = 2'000;

// Raises the soft RLIMIT_NOFILE to the hard limit; an error when even that
// is too low for `needed` descriptors.
base::Result<void> raise_descriptor_limit(std::uint64_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return base::Error(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  if (limit.rlim_max != RLIM_INFINITY && needed > limit.rlim_max) {
    return base::Error("this run needs " + std::to_string(needed) + " file descriptors (connections + " +
                       std::to_string(kDescriptorSlack) + "), but the hard limit (ulimit -Hn) is " +
                       std::to_string(limit.rlim_max) + "; use fewer connections or raise the hard limit");
  }
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return base::Error(std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace

base::Result<void> run_bench(const BenchOptions& options, RunResult* out) {
  RunResult& result = *out;
  result.options = options;
  auto settings = std::make_unique<ConnectionSettings>();
  base::Result<client::WsUrl> url = client::parse_ws_url(options.url);
  if (!url) return base::Error("--url: " + url.error());
  settings->url = *std::move(url);
  base::Result<client::Endpoint> target = client::resolve(settings->url);
  if (!target) return base::Error(target.error());
  settings->target = *std::move(target);
  result.target = settings->target.to_string();
  const bool pubsub = options.scenario == Scenario::kPubsub;
  const bool recover = options.scenario == Scenario::kRecover;
  // Both fan-out scenarios have one publisher besides the subscribers.
  const bool broadcast = options.scenario == Scenario::kBroadcast || pubsub;
  // So has recover (its setup's publisher).
  const bool has_publisher = broadcast || recover;
  const std::uint64_t total = std::uint64_t{options.connections} + (has_publisher ? 1 : 0);
  result.connections = total;
  if (options.source_addresses > 0 && !settings->target.is_ipv4_loopback()) {
    return base::Error("--source-addresses needs an IPv4 loopback target (127.x.y.z)");
  }
  const std::vector<sockaddr_in> sources = choose_source_addresses(settings->target, total, options.source_addresses);
  result.source_addresses = static_cast<std::uint32_t>(sources.size());
  if (auto raised = raise_descriptor_limit(total + kDescriptorSlack + 2u * options.threads); !raised) {
    return base::Error(raised.error());
  }

  if (settings->url.secure()) {
    loop::TlsConfig tls;
    tls.ca_file = options.ca_file;
    auto context = loop::TlsContext::create(tls);
    if (!context) return base::Error("--ca-file: " + context.error());
    settings->tls = *std::move(context);
  }
  settings->headers = options.headers;
  settings->subprotocol = options.subprotocol;
  if ((pubsub || recover) && settings->subprotocol.empty()) settings->subprotocol = std::string(protocol::kSubprotocol);
  settings->handshake_timeout_ms = static_cast<std::uint64_t>(std::ceil(options.handshake_timeout_s * 1000));
  settings->close_timeout_ms = kCloseTimeoutMs;
  settings->max_message_size = std::max<std::uint64_t>(std::uint64_t{options.payload_size} * 2, 1u << 20);
  if (recover) {
    settings->max_message_size =
        std::max(settings->max_message_size, recovery_frame_size(options.recover, options.payload_size));
  }
  // --publish-url: the publisher alone talks to another node, so every
  // delivery crosses the broker between the nodes.
  std::unique_ptr<ConnectionSettings> publisher_settings;
  if (!options.publish_url.empty()) {
    publisher_settings = std::make_unique<ConnectionSettings>(*settings);
    base::Result<client::WsUrl> publish_url = client::parse_ws_url(options.publish_url);
    if (!publish_url) return base::Error("--publish-url: " + publish_url.error());
    publisher_settings->url = *std::move(publish_url);
    base::Result<client::Endpoint> publish_target = client::resolve(publisher_settings->url);
    if (!publish_target) return base::Error("--publish-url: " + publish_target.error());
    publisher_settings->target = *std::move(publish_target);
    if (publisher_settings->url.secure() && publisher_settings->tls == nullptr) {
      loop::TlsConfig tls;
      tls.ca_file = options.ca_file;
      auto context = loop::TlsContext::create(tls);
      if (!context) return base::Error("--ca-file: " + context.error());
      publisher_settings->tls = *std::move(context);
    } else if (!publisher_settings->url.secure()) {
      publisher_settings->tls = nullptr;
    }
    result.publish_target = publisher_settings->target.to_string();
  }

  const Opcode opcode = options.payload_kind == PayloadKind::kBinary ? Opcode::kBinary : Opcode::kText;
  const std::uint64_t epoch_ns = base::monotonic_ns() - 1;
  const std::uint32_t threads = options.threads;
  const std::uint32_t per_thread_concurrency = std::max(1u, (options.concurrency + threads - 1) / threads);
  std::random_device seed_source;
  std::vector<std::unique_ptr<ThreadDriver>> drivers;
  for (std::uint32_t t = 0; t < threads; ++t) {
    ThreadPlan plan;
    plan.settings = settings.get();
    // The publisher is connection 0 of thread 0 (see below).
    if (t == 0) plan.first_settings = publisher_settings.get();
    plan.sources = &sources;
    plan.thread_index = t;
    plan.thread_count = threads;
    plan.connections = static_cast<std::uint32_t>(total / threads + (t < total % threads ? 1 : 0));
    plan.concurrency = per_thread_concurrency;
    plan.epoch_ns = epoch_ns;
    plan.seed = (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ t;
    switch (options.scenario) {
      case Scenario::kEcho:
        drivers.push_back(
            std::make_unique<EchoDriver>(plan, EchoSettings{opcode, options.payload_size, options.inflight}));
        break;
      case Scenario::kBroadcast:
        // The publisher is connection 0 of thread 0, so it is started first.
        drivers.push_back(std::make_unique<BroadcastDriver>(
            plan, BroadcastSettings{opcode, options.payload_size, options.inflight},
            t == 0 ? BroadcastDriver::Publisher::kHere : BroadcastDriver::Publisher::kElsewhere));
        break;
      case Scenario::kPubsub:
        drivers.push_back(std::make_unique<PubsubDriver>(
            plan, PubsubSettings{options.payload_size, options.inflight, options.channels},
            t == 0 ? PubsubDriver::Publisher::kHere : PubsubDriver::Publisher::kElsewhere));
        break;
      case Scenario::kRecover:
        drivers.push_back(std::make_unique<RecoverDriver>(
            plan, RecoverSettings{options.channel, options.recover, options.payload_size, options.inflight},
            t == 0 ? RecoverDriver::Publisher::kHere : RecoverDriver::Publisher::kElsewhere));
        break;
      case Scenario::kConnect:
        drivers.push_back(std::make_unique<ConnectDriver>(plan));
        break;
    }
  }

  // Block the signals before the threads exist, so they inherit the mask
  // and only the main thread takes them (in PhaseClock::wait_until).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  std::vector<std::thread> loop_threads;
  for (auto& driver : drivers) loop_threads.emplace_back([raw = driver.get()] { raw->run(); });

  // --server-pid: the server's memory and CPU, read at the phase boundaries.
  const bool watch_server = options.server_pid > 0;
  auto server_cpu = [&] { return watch_server ? read_cpu_seconds(options.server_pid) : -1.0; };
  if (watch_server) result.rss_before = read_vm_rss(options.server_pid);
  const double cpu_before_connect = server_cpu();

  // Phase 1: connect, at most --concurrency handshakes at a time.
  const std::uint64_t connect_start = base::monotonic_ns();
  PhaseClock clock(drivers, options, connect_start);
  post_all(drivers, &ThreadDriver::start_connecting);
  const std::uint64_t rounds = (total / threads + 1 + per_thread_concurrency - 1) / per_thread_concurrency;
  const std::uint64_t connect_deadline =
      connect_start + ms_to_ns((rounds + 1) * settings->handshake_timeout_ms + 5'000);
  auto settled = [&] { return clock.sum(&LiveCounters::settled) >= total; };
  PhaseClock::Wait wait = clock.wait_until(connect_deadline, settled, "connect");
  if (wait == PhaseClock::Wait::kDeadline) result.watchdog_fired = true;
  if (wait == PhaseClock::Wait::kInterrupted) result.interrupted = true;
  std::uint64_t last_open = 0;
  for (auto& driver : drivers) {
    last_open = std::max(last_open, driver->live().last_open_ns.load(std::memory_order_relaxed));
  }
  const std::uint64_t opened = clock.sum(&LiveCounters::opened);
  result.connect_seconds = seconds_between(connect_start, last_open);
  if (result.connect_seconds > 0) result.handshakes_per_second = static_cast<double>(opened) / result.connect_seconds;
  if (watch_server) result.rss_after = read_vm_rss(options.server_pid);
  result.server_cpu_connect_s = cpu_difference(cpu_before_connect, server_cpu());

  // Phase 2: measure (echo, broadcast) or hold (connect).
  if (opened == 0) {
    result.aborted = "no connection opened";
  } else if (has_publisher && !drivers[0]->live().first_open.load(std::memory_order_relaxed)) {
    result.aborted = "the publisher connection did not open";
  }
  if (pubsub && result.aborted.empty() && wait == PhaseClock::Wait::kDone) {
    // Publishing starts once every subscriber's subscribe is answered, so
    // that each one is due every message of its channel.
    auto subscribed = [&] { return clock.sum(&LiveCounters::ready) + 1 >= opened; };
    const std::uint64_t deadline = base::monotonic_ns() + ms_to_ns(settings->handshake_timeout_ms + 5'000);
    wait = clock.wait_until(deadline, subscribed, "subscribe");
    if (wait == PhaseClock::Wait::kDeadline) result.aborted = "not every subscribe was answered in time";
    if (wait == PhaseClock::Wait::kInterrupted) result.interrupted = true;
  }
  if (recover && result.aborted.empty() && wait == PhaseClock::Wait::kDone) {
    run_recover_rounds(drivers, clock, server_cpu, result);
    if (watch_server) result.rss_peak = read_vm_hwm(options.server_pid);
  } else if (result.aborted.empty() && wait == PhaseClock::Wait::kDone) {
    const double seconds = options.scenario == Scenario::kConnect ? options.hold_s : options.duration_s;
    const std::uint64_t messages_before = clock.sum(&LiveCounters::messages);
    const std::uint64_t publishes_before = clock.sum(&LiveCounters::published);
    const double cpu_before_window = server_cpu();
    const std::uint64_t window_start = base::monotonic_ns();
    post_all(drivers, &ThreadDriver::start_measuring);
    const std::uint64_t window_deadline = window_start + static_cast<std::uint64_t>(seconds * 1e9);
    const char* phase = options.scenario == Scenario::kConnect ? "hold" : "measure";
    if (clock.wait_until(
            window_deadline, [] { return false; }, phase) == PhaseClock::Wait::kInterrupted) {
      result.interrupted = true;
    }
    result.messages = clock.sum(&LiveCounters::messages) - messages_before;
    result.publishes = clock.sum(&LiveCounters::published) - publishes_before;
    const std::uint64_t window_end = base::monotonic_ns();
    result.server_cpu_window_s = cpu_difference(cpu_before_window, server_cpu());
    result.window_seconds = seconds_between(window_start, window_end);
    post_all(drivers, &ThreadDriver::stop_measuring);
    if (broadcast) {
      // Drain: let the publisher's last messages reach everyone before the
      // close, so they are not counted missing.
      std::uint64_t last_seen = ~std::uint64_t{0};
      std::uint64_t quiet_since = window_end;
      auto drained = [&] {
        const std::uint64_t now = base::monotonic_ns();
        const std::uint64_t seen = clock.sum(&LiveCounters::messages);
        if (seen != last_seen) {
          last_seen = seen;
          quiet_since = now;
        }
        return drivers[0]->live().outstanding.load(std::memory_order_relaxed) == 0 && now - quiet_since >= 100'000'000u;
      };
      clock.wait_until(window_end + ms_to_ns(kDrainMs), drained, "drain");
    }
  }

  // Phase 3: the close handshake on every connection.
  post_all(drivers, &ThreadDriver::close_all);
  auto finished = [&] {
    for (auto& driver : drivers) {
      if (!driver->live().finished.load(std::memory_order_acquire)) return false;
    }
    return true;
  };
  const std::uint64_t close_deadline = base::monotonic_ns() + ms_to_ns(kCloseTimeoutMs + kCloseGraceMs);
  if (clock.wait_until(close_deadline, finished, "close") != PhaseClock::Wait::kDone && !finished()) {
    // A loop thread that does not finish its close phase is stuck: its
    // results cannot be read safely, so end the process.
    std::fprintf(stderr, "switchboard bench: watchdog: a load thread did not finish closing; giving up\n");
    std::fflush(stdout);
    _exit(3);
  }
  for (auto& thread : loop_threads) thread.join();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  std::uint64_t published_total = 0;
  std::uint64_t subscribers = 0;
  std::uint64_t gaps = 0;
  std::uint64_t expected_sum = 0;
  std::vector<std::uint64_t> channel_subscribers(options.channels, 0);
  std::vector<std::uint64_t> channel_received(options.channels, 0);
  std::vector<std::uint64_t> channel_refused(options.channels, 0);
  for (auto& driver : drivers) {
    const ThreadResult& thread = driver->result();
    result.handshake.merge(thread.handshake);
    result.latency.merge(thread.latency);
    result.errors.merge(thread.errors);
    result.connections_open += thread.opened;
    if (result.first_error.empty()) result.first_error = thread.first_error;
    published_total += thread.published_total;
    subscribers += thread.subscribers;
    gaps += thread.gaps;
    expected_sum += thread.expected_sum;
    for (std::size_t k = 0; k < thread.channel_subscribers.size() && k < options.channels; ++k) {
      channel_subscribers[k] += thread.channel_subscribers[k];
      channel_received[k] += thread.channel_received[k];
    }
    for (std::size_t k = 0; k < thread.channel_refused.size() && k < options.channels; ++k) {
      channel_refused[k] += thread.channel_refused[k];
      result.refused_publishes += thread.channel_refused[k];
    }
    if (result.first_refusal.empty()) result.first_refusal = thread.first_refusal;
    result.recoveries += thread.recoveries;
    if (recover) result.messages += thread.recovered_publications;
  }
  // Failed: every connection that never opened, including any never
  // started because the run was cut short.
  result.connections_failed = total - result.connections_open;
  if (pubsub) {
    result.missing_deliveries =
        missing_deliveries(channel_subscribers, channel_received, channel_refused, published_total);
    result.bytes = result.messages * options.payload_size;
  } else if (broadcast) {
    const std::uint64_t due = subscribers * published_total;
    result.missing_deliveries = gaps + (due > expected_sum ? due - expected_sum : 0);
    result.bytes = result.messages * options.payload_size;
  } else if (options.scenario == Scenario::kEcho) {
    result.bytes = result.messages * options.payload_size * 2;
  } else if (recover) {
    result.bytes = result.messages * options.payload_size;
  }
  // Freed only now: connections (in the drivers) point at the settings.
  drivers.clear();
  return {};
}

}  // namespace switchboard::bench
