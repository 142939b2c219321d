#include "cli/bench_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "bench/options.h"
#include "bench/pubsub_scenario.h"
#include "bench/recover_scenario.h"
#include "bench/report.h"
#include "bench/runner.h"

namespace switchboard::cli {
namespace {

// Exit codes: 0 a clean run (bench::run_is_clean), 1 a run with errors,
// failed connections, missing deliveries or cut short (watchdog, signal),
// 2 bad options or a run that could not start.
int run_bench_command(const bench::BenchOptions& options) {
  if (const base::Result<void> valid = bench::validate_options(options); !valid) {
    std::fprintf(stderr, "switchboard bench %s: %s\n", bench::scenario_name(options.scenario), valid.error().c_str());
    return 2;
  }
  auto result = std::make_unique<bench::RunResult>();
  if (const base::Result<void> ran = bench::run_bench(options, result.get()); !ran) {
    std::fprintf(stderr, "switchboard bench %s: %s\n", bench::scenario_name(options.scenario), ran.error().c_str());
    return 2;
  }
  if (options.output == bench::OutputFormat::kJson) {
    const std::string text = bench::format_json(*result);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    const std::string text = bench::format_human(*result);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
  return bench::run_is_clean(*result) ? 0 : 1;
}

struct BenchFlags {
  bench::BenchOptions options;
  bool binary = false;
  bool json = false;
};

// The flags every scenario shares.
void add_common(CLI::App* command, BenchFlags& flags) {
  bench::BenchOptions& o = flags.options;
  command->add_option("--url", o.url, "Server URL, ws://host:port/path or wss://... (IP literal or name)")->required();
  command->add_option("--ca-file", o.ca_file, "wss://: PEM file of the CAs to trust (default: the system's)");
  command->add_option("-c,--connections", o.connections, "Connections (broadcast: subscribers)")->capture_default_str();
  command->add_option("--threads", o.threads, "Load threads, one epoll loop each")->capture_default_str();
  command->add_option("--concurrency", o.concurrency, "Handshakes in progress at once (all threads)")
      ->capture_default_str();
  command->add_option("--handshake-timeout", o.handshake_timeout_s, "Seconds from connect to a validated 101")
      ->capture_default_str();
  command
      ->add_option("--source-addresses", o.source_addresses,
                   "Bind 127.0.0.2.. round-robin (0: automatic, one per 4000 connections to loopback)")
      ->capture_default_str();
  command->add_option("--header", o.headers, "Extra request header \"Name: value\" (repeatable)");
  command->add_option("--subprotocol", o.subprotocol, "Sec-WebSocket-Protocol to ask for");
  command->add_flag("--json", flags.json, "Print one JSON object on stdout instead of the summary");
  command->add_option("--server-pid", o.server_pid,
                      "Server process on this host: report its CPU time per message (per handshake for "
                      "connect) and its VmRSS growth per connection");
}

void add_messaging(CLI::App* command, BenchFlags& flags, const char* inflight_help) {
  bench::BenchOptions& o = flags.options;
  command->add_option("-p,--inflight", o.inflight, inflight_help)->capture_default_str();
  command->add_option("-s,--size", o.payload_size, "Payload bytes per message (at least 8; broadcast 16)")
      ->capture_default_str();
  command->add_flag("--binary", flags.binary, "Binary messages (default: text)");
  command->add_option("--duration", o.duration_s, "Seconds of measurement once all connections are open")
      ->capture_default_str();
}

void add_scenario(CLI::App* bench_app, const char* name, const char* help, bench::Scenario scenario) {
  auto flags = std::make_shared<BenchFlags>();
  flags->options.scenario = scenario;
  CLI::App* command = bench_app->add_subcommand(name, help);
  add_common(command, *flags);
  switch (scenario) {
    case bench::Scenario::kEcho:
      add_messaging(command, *flags, "Messages in flight per connection");
      break;
    case bench::Scenario::kBroadcast:
      add_messaging(command, *flags, "Publisher messages in flight (done when its own copy returns)");
      break;
    case bench::Scenario::kConnect:
      command->add_option("--hold", flags->options.hold_s, "Seconds to hold the connections idle once open")
          ->capture_default_str();
      break;
    case bench::Scenario::kPubsub: {
      bench::BenchOptions& o = flags->options;
      o.payload_size = bench::kPubsubPayloadMin;
      command->add_option("-p,--inflight", o.inflight, "Publishes in flight (done when the reply comes)")
          ->capture_default_str();
      command->add_option("-s,--size", o.payload_size, "Bytes of data per message (at least 32)")
          ->capture_default_str();
      command->add_option("--channels", o.channels, "Channels the subscribers are spread over, round-robin")
          ->capture_default_str();
      command->add_option("--publish-url", o.publish_url,
                          "The publisher's server, another node of the cluster (default: --url)");
      command->add_option("--duration", o.duration_s, "Seconds of measurement once all have subscribed")
          ->capture_default_str();
      break;
    }
    case bench::Scenario::kRecover: {
      bench::BenchOptions& o = flags->options;
      o.inflight = 64;
      command->add_option("--recover", o.recover, "Publications each subscriber recovers (K)")->capture_default_str();
      command->add_option("--storms", o.storms, "Storms: all subscribers recover at once, then unsubscribe")
          ->capture_default_str();
      command
          ->add_option("--channel", o.channel,
                       "The channel; its namespace must keep >= K publications (serve --namespace "
                       "'*=history_size:K,history_ttl:300')")
          ->capture_default_str();
      command->add_option("-s,--size", o.payload_size, "Bytes of data per publication (at least 16)")
          ->capture_default_str();
      command->add_option("-p,--inflight", o.inflight, "Publishes in flight while the setup publishes the K")
          ->capture_default_str();
      break;
    }
  }
  command->callback([flags] {
    flags->options.payload_kind = flags->binary ? bench::PayloadKind::kBinary : bench::PayloadKind::kText;
    flags->options.output = flags->json ? bench::OutputFormat::kJson : bench::OutputFormat::kHuman;
    throw CLI::RuntimeError(run_bench_command(flags->options));
  });
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench_app = app.add_subcommand(
      "bench", "Load-test a WebSocket server (echo, broadcast, connect; pubsub and recover for the hub)");
  bench_app->require_subcommand(1);
  add_scenario(bench_app, "echo", "C connections, P messages in flight each: round-trip latency and rate",
               bench::Scenario::kEcho);
  add_scenario(bench_app, "broadcast", "C subscribers and one publisher: delivery latency and rate",
               bench::Scenario::kBroadcast);
  add_scenario(bench_app, "connect", "Open C connections, hold them idle: handshake rate, server memory",
               bench::Scenario::kConnect);
  add_scenario(bench_app, "pubsub",
               "Protocol v1 against a Switchboard hub: C subscribers on N channels, one publisher: delivery "
               "latency and rate",
               bench::Scenario::kPubsub);
  add_scenario(bench_app, "recover",
               "Protocol v1 reconnect storm: C subscribers recover K publications of one stream at once: time "
               "and server CPU per recovered publication",
               bench::Scenario::kRecover);
}

}  // namespace switchboard::cli
