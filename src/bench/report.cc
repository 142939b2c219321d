#include "bench/report.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <vector>

#include "base/json_string.h"

namespace switchboard::bench {
namespace {

std::string format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  const int size = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return std::string(buffer, size < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(size), sizeof buffer - 1));
}

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

// A JSON number: finite doubles with 3 decimals, else null (JSON has no NaN).
std::string json_number(double value) { return std::isfinite(value) ? format("%.3f", value) : "null"; }

std::string json_latency(const Histogram& histogram) {
  const LatencySummary s = summarize(histogram);
  return format("{\"count\":%" PRIu64 ",\"min\":%" PRIu64 ",\"mean\":%.1f,\"p50\":%" PRIu64 ",\"p90\":%" PRIu64
                ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "}",
                s.count, s.min, s.mean, s.p50, s.p90, s.p99, s.p999, s.max);
}

std::string human_latency(const char* label, const Histogram& histogram) {
  if (histogram.count() == 0) return format("  %-12s none recorded\n", label);
  const LatencySummary s = summarize(histogram);
  return format(
      "  %-12s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, %" PRIu64 " samples)\n", label,
      format_duration_ns(static_cast<double>(s.p50)).c_str(), format_duration_ns(static_cast<double>(s.p90)).c_str(),
      format_duration_ns(static_cast<double>(s.p99)).c_str(), format_duration_ns(static_cast<double>(s.p999)).c_str(),
      format_duration_ns(static_cast<double>(s.max)).c_str(), format_duration_ns(s.mean).c_str(), s.count);
}

// --server-pid figures; NaN when unknown (json_number writes null).
double server_cpu_per_million_messages(const RunResult& r) {
  if (r.server_cpu_window_s < 0 || r.messages == 0) return std::nan("");
  return r.server_cpu_window_s * 1e6 / static_cast<double>(r.messages);
}
double server_cpu_us_per_handshake(const RunResult& r) {
  if (r.server_cpu_connect_s < 0 || r.connections_open == 0) return std::nan("");
  return r.server_cpu_connect_s * 1e6 / static_cast<double>(r.connections_open);
}
double optional_seconds(double seconds) { return seconds < 0 ? std::nan("") : seconds; }

// Recover: a storm figure's median, min and max over the storms (NaN when
// none or any unknown).
struct Spread {
  double median = std::nan("");
  double min = std::nan("");
  double max = std::nan("");
};
Spread spread(const RunResult& r, double StormFigures::*figure) {
  std::vector<double> values;
  for (const StormFigures& storm : r.storms) {
    if (storm.*figure < 0) return {};
    values.push_back(storm.*figure);
  }
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {values[values.size() / 2], values.front(), values.back()};
}
double server_cpu_us_per_recovered_publication(const RunResult& r) {
  if (r.server_cpu_window_s < 0 || r.messages == 0) return std::nan("");
  return r.server_cpu_window_s * 1e6 / static_cast<double>(r.messages);
}

std::string human_recover(const RunResult& r) {
  const BenchOptions& o = r.options;
  std::string text =
      format("  %-12s %u subscribers recover %u publications each of %s (%u-byte data), %zu of %u storms\n", "load",
             o.connections, o.recover, o.channel.c_str(), o.payload_size, r.storms.size(), o.storms);
  text += format("  %-12s epoch %s, last offset %" PRIu64 "\n", "stream", r.stream_epoch.c_str(), r.stream_top);
  const Spread seconds = spread(r, &StormFigures::seconds);
  if (!std::isnan(seconds.median)) {
    text += format("  %-12s median %s, min %s, max %s: first subscribe sent to last reply received\n", "storm",
                   format_duration_ns(seconds.median * 1e9).c_str(), format_duration_ns(seconds.min * 1e9).c_str(),
                   format_duration_ns(seconds.max * 1e9).c_str());
  }
  text += format("  %-12s %" PRIu64 " publications in %" PRIu64 " whole recoveries (%.0f/s over the storms)\n",
                 "recovered", r.messages, r.recoveries, per_second(r.messages, r.window_seconds));
  if (o.server_pid > 0) {
    const Spread cpu = spread(r, &StormFigures::server_cpu_s);
    const double us = server_cpu_us_per_recovered_publication(r);
    if (std::isnan(us) || std::isnan(cpu.median)) {
      text += format("  %-12s could not read /proc/%" PRId64 "/stat\n", "server CPU", o.server_pid);
    } else {
      text += format(
          "  %-12s %.3f s in %.3f s of storms (median %.3f s per storm): %.3f us per recovered "
          "publication\n",
          "server CPU", r.server_cpu_window_s, r.window_seconds, cpu.median, us);
    }
    if (r.rss_after >= 0 && r.rss_peak >= 0) {
      text +=
          format("  %-12s %.1f MiB once connected, peak %.1f MiB (VmHWM, the replies a storm queues)\n", "server RSS",
                 static_cast<double>(r.rss_after) / 1048576.0, static_cast<double>(r.rss_peak) / 1048576.0);
    }
  }
  return text;
}

std::string json_recover(const RunResult& r) {
  const BenchOptions& o = r.options;
  std::string json = ",\"channel\":" + json_string(o.channel);
  json += format(",\"recover_publications\":%u,\"storms_asked\":%u", o.recover, o.storms);
  json += ",\"stream_epoch\":" + json_string(r.stream_epoch);
  json += format(",\"stream_top\":%" PRIu64, r.stream_top);
  json += ",\"storms\":[";
  for (std::size_t i = 0; i < r.storms.size(); ++i) {
    json += i == 0 ? "{" : ",{";
    json += "\"seconds\":" + format("%.6f", r.storms[i].seconds);
    json += ",\"server_cpu_seconds\":" + json_number(optional_seconds(r.storms[i].server_cpu_s)) + "}";
  }
  json += "]";
  const Spread seconds = spread(r, &StormFigures::seconds);
  json += ",\"storm_seconds_median\":" + (std::isnan(seconds.median) ? "null" : format("%.6f", seconds.median));
  json += ",\"storm_seconds_min\":" + (std::isnan(seconds.min) ? "null" : format("%.6f", seconds.min));
  json += ",\"storm_seconds_max\":" + (std::isnan(seconds.max) ? "null" : format("%.6f", seconds.max));
  json += ",\"server_cpu_seconds_per_storm_median\":" + json_number(spread(r, &StormFigures::server_cpu_s).median);
  json += format(",\"recoveries\":%" PRIu64 ",\"recovered_publications\":%" PRIu64, r.recoveries, r.messages);
  json += ",\"recovered_publications_per_second\":" + json_number(per_second(r.messages, r.window_seconds));
  json += ",\"server_cpu_us_per_recovered_publication\":" + json_number(server_cpu_us_per_recovered_publication(r));
  auto optional = [](std::int64_t value) { return value < 0 ? std::string("null") : std::to_string(value); };
  json += ",\"server_rss_after_connect_bytes\":" + optional(r.rss_after);
  json += ",\"server_rss_peak_bytes\":" + optional(r.rss_peak);
  return json;
}

std::string human_server_cpu(const RunResult& r, const char* per) {
  if (r.options.server_pid <= 0) return "";
  const double per_million = server_cpu_per_million_messages(r);
  if (std::isnan(per_million)) {
    return format("  %-12s could not read /proc/%" PRId64 "/stat\n", "server CPU", r.options.server_pid);
  }
  return format("  %-12s %.2f s in %.2f s (%.0f %% of a core): %.3f s per million %s\n", "server CPU",
                r.server_cpu_window_s, r.window_seconds,
                r.window_seconds > 0 ? 100.0 * r.server_cpu_window_s / r.window_seconds : 0.0, per_million, per);
}

}  // namespace

std::string format_duration_ns(double ns) {
  if (ns < 1e3) return format("%.0f ns", ns);
  if (ns < 1e6) return format("%.1f us", ns / 1e3);
  if (ns < 1e9) return format("%.2f ms", ns / 1e6);
  return format("%.2f s", ns / 1e9);
}

std::string json_string(std::string_view text) {
  std::string out;
  base::append_json_string_lossy(out, text);
  return out;
}

std::string format_human(const RunResult& r) {
  const BenchOptions& o = r.options;
  std::string text = format("switchboard bench %s  %s  (%s, %u thread%s", scenario_name(o.scenario), o.url.c_str(),
                            r.target.c_str(), o.threads, o.threads == 1 ? "" : "s");
  if (r.source_addresses > 0) text += format(", %u source addresses", r.source_addresses);
  text += ")\n";
  if (!o.publish_url.empty()) {
    text += format("  %-12s %s  (%s)\n", "publisher", o.publish_url.c_str(), r.publish_target.c_str());
  }
  text += format("  %-12s %" PRIu64 " open, %" PRIu64 " failed of %" PRIu64, "connections", r.connections_open,
                 r.connections_failed, r.connections);
  if (o.scenario == Scenario::kBroadcast || o.scenario == Scenario::kPubsub || o.scenario == Scenario::kRecover) {
    text += " (subscribers + 1 publisher)";
  }
  if (r.connections_open > 0) {
    text += format("; %.0f handshakes/s (all open in %s)", r.handshakes_per_second,
                   format_duration_ns(r.connect_seconds * 1e9).c_str());
  }
  text += "\n";
  text += human_latency("handshake", r.handshake);
  if (!r.aborted.empty()) text += format("  %-12s not run: %s\n", "measurement", r.aborted.c_str());
  const bool measured = r.aborted.empty();
  switch (o.scenario) {
    case Scenario::kEcho:
      if (!measured) break;
      text += format("  %-12s %u connections x %u in flight, %u-byte %s payloads, %.2f s\n", "load", o.connections,
                     o.inflight, o.payload_size, o.payload_kind == PayloadKind::kBinary ? "binary" : "text",
                     r.window_seconds);
      text += format("  %-12s %" PRIu64 " (%.0f/s), %.2f MB/s payload both ways\n", "messages", r.messages,
                     per_second(r.messages, r.window_seconds), per_second(r.bytes, r.window_seconds) / 1e6);
      text += human_server_cpu(r, "messages");
      text += human_latency("round trip", r.latency);
      break;
    case Scenario::kBroadcast:
    case Scenario::kPubsub:
      if (!measured) break;
      if (o.scenario == Scenario::kPubsub) {
        text +=
            format("  %-12s %u subscribers on %u channel%s, publisher window %u, %u-byte data, %.2f s\n", "load",
                   o.connections, o.channels, o.channels == 1 ? "" : "s", o.inflight, o.payload_size, r.window_seconds);
      } else {
        text += format("  %-12s %u subscribers, publisher window %u, %u-byte %s payloads, %.2f s\n", "load",
                       o.connections, o.inflight, o.payload_size,
                       o.payload_kind == PayloadKind::kBinary ? "binary" : "text", r.window_seconds);
      }
      text +=
          format("  %-12s %" PRIu64 " (%.0f/s)", "publishes", r.publishes, per_second(r.publishes, r.window_seconds));
      if (o.scenario == Scenario::kPubsub) {
        text += format(" accepted; %" PRIu64 " refused by the server", r.refused_publishes);
        if (r.refused_publishes > 0) text += " (first: " + r.first_refusal + ")";
      }
      text += "\n";
      text += format("  %-12s %" PRIu64 " (%.0f/s), %.2f MB/s delivered; %" PRIu64 " missing\n", "deliveries",
                     r.messages, per_second(r.messages, r.window_seconds), per_second(r.bytes, r.window_seconds) / 1e6,
                     r.missing_deliveries);
      text += human_server_cpu(r, "deliveries");
      text += human_latency("delivery", r.latency);
      break;
    case Scenario::kRecover:
      if (!measured) break;
      text += human_recover(r);
      break;
    case Scenario::kConnect:
      if (!measured) break;
      text += format("  %-12s %.2f s idle\n", "held", r.window_seconds);
      if (r.rss_before >= 0 && r.rss_after >= 0 && r.connections_open > 0) {
        text += format("  %-12s %.1f MiB before, %.1f MiB with %" PRIu64 " open: %.0f bytes per idle connection\n",
                       "server RSS", static_cast<double>(r.rss_before) / 1048576.0,
                       static_cast<double>(r.rss_after) / 1048576.0, r.connections_open,
                       static_cast<double>(r.rss_after - r.rss_before) / static_cast<double>(r.connections_open));
      } else if (o.server_pid > 0) {
        text += format("  %-12s could not read /proc/%" PRId64 "/status\n", "server RSS", o.server_pid);
      }
      if (const double us = server_cpu_us_per_handshake(r); !std::isnan(us)) {
        text += format("  %-12s %.2f s for %" PRIu64 " handshakes: %.1f us per handshake\n", "server CPU",
                       r.server_cpu_connect_s, r.connections_open, us);
      }
      break;
  }
  text += format("  %-12s %" PRIu64, "errors", r.errors.total());
  if (r.errors.total() > 0) {
    const char* separator = " (";
    for (std::size_t i = 0; i < kErrorKinds; ++i) {
      if (r.errors.counts[i] == 0) continue;
      text += format("%s%s %" PRIu64, separator, error_name(static_cast<ErrorKind>(i)), r.errors.counts[i]);
      separator = ", ";
    }
    text += format("; first: %s)", r.first_error.c_str());
  }
  text += "\n";
  if (r.watchdog_fired) text += "  watchdog: a phase overran its time limit and was cut short\n";
  if (r.interrupted) text += "  interrupted: the run was ended early by a signal\n";
  return text;
}

bool run_is_clean(const RunResult& r) {
  return r.errors.total() == 0 && r.connections_failed == 0 && r.aborted.empty() && !r.watchdog_fired &&
         !r.interrupted && r.missing_deliveries == 0;
}

std::string format_json(const RunResult& r) {
  const BenchOptions& o = r.options;
  std::string json = "{";
  json += "\"scenario\":" + json_string(scenario_name(o.scenario));
  json += ",\"url\":" + json_string(o.url);
  json += ",\"target\":" + json_string(r.target);
  if (!o.publish_url.empty()) {
    json += ",\"publish_url\":" + json_string(o.publish_url);
    json += ",\"publish_target\":" + json_string(r.publish_target);
  }
  json += format(",\"threads\":%u,\"source_addresses\":%u", o.threads, r.source_addresses);
  json += format(",\"connections\":%" PRIu64 ",\"connections_open\":%" PRIu64 ",\"connections_failed\":%" PRIu64,
                 r.connections, r.connections_open, r.connections_failed);
  json += ",\"connect_seconds\":" + json_number(r.connect_seconds);
  json += ",\"handshakes_per_second\":" + json_number(r.handshakes_per_second);
  json += ",\"handshake_ns\":" + json_latency(r.handshake);
  json += ",\"duration_seconds\":" + json_number(r.window_seconds);
  json += ",\"server_cpu_connect_seconds\":" + json_number(optional_seconds(r.server_cpu_connect_s));
  if (o.scenario == Scenario::kConnect) {
    json += ",\"hold_seconds\":" + json_number(o.hold_s);
    auto optional = [](std::int64_t value) { return value < 0 ? std::string("null") : std::to_string(value); };
    json += ",\"server_rss_before_bytes\":" + optional(r.rss_before);
    json += ",\"server_rss_after_bytes\":" + optional(r.rss_after);
    const bool rss = r.rss_before >= 0 && r.rss_after >= 0 && r.connections_open > 0;
    json +=
        ",\"server_rss_per_connection_bytes\":" +
        (rss ? json_number(static_cast<double>(r.rss_after - r.rss_before) / static_cast<double>(r.connections_open))
             : std::string("null"));
    json += ",\"server_cpu_us_per_handshake\":" + json_number(server_cpu_us_per_handshake(r));
  } else {
    json += format(",\"payload_size\":%u,\"inflight\":%u,\"binary\":%s", o.payload_size, o.inflight,
                   o.payload_kind == PayloadKind::kBinary ? "true" : "false");
    json += format(",\"messages\":%" PRIu64, r.messages);
    json += ",\"messages_per_second\":" + json_number(per_second(r.messages, r.window_seconds));
    json += format(",\"bytes\":%" PRIu64, r.bytes);
    json += ",\"mb_per_second\":" + json_number(per_second(r.bytes, r.window_seconds) / 1e6);
    json += ",\"latency_ns\":" + json_latency(r.latency);
    json += ",\"server_cpu_seconds\":" + json_number(optional_seconds(r.server_cpu_window_s));
    json += ",\"server_cpu_seconds_per_million_messages\":" + json_number(server_cpu_per_million_messages(r));
    if (o.scenario == Scenario::kPubsub) json += format(",\"channels\":%u", o.channels);
    if (o.scenario == Scenario::kBroadcast || o.scenario == Scenario::kPubsub) {
      json += format(",\"publishes\":%" PRIu64, r.publishes);
      json += ",\"publishes_per_second\":" + json_number(per_second(r.publishes, r.window_seconds));
      json += format(",\"deliveries\":%" PRIu64, r.messages);
      json += ",\"deliveries_per_second\":" + json_number(per_second(r.messages, r.window_seconds));
      json += format(",\"missing_deliveries\":%" PRIu64, r.missing_deliveries);
    }
    if (o.scenario == Scenario::kPubsub) {
      json += format(",\"refused_publishes\":%" PRIu64, r.refused_publishes);
      json += ",\"first_refusal\":" + json_string(r.first_refusal);
    }
    if (o.scenario == Scenario::kRecover) json += json_recover(r);
  }
  json += format(",\"errors\":%" PRIu64 ",\"error_counts\":{", r.errors.total());
  for (std::size_t i = 0; i < kErrorKinds; ++i) {
    json += format("%s\"%s\":%" PRIu64, i == 0 ? "" : ",", error_name(static_cast<ErrorKind>(i)), r.errors.counts[i]);
  }
  json += "}";
  json += ",\"first_error\":" + json_string(r.first_error);
  json += format(",\"watchdog_fired\":%s,\"interrupted\":%s", r.watchdog_fired ? "true" : "false",
                 r.interrupted ? "true" : "false");
  json += ",\"aborted\":" + json_string(r.aborted);
  json += "}\n";
  return json;
}

}  // namespace switchboard::bench
