#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace switchboard::metrics {

namespace {

template <typename Number>
void append_chars(std::string& out, Number value) {
  // Wide enough for any int64 and for the longest shortest-form double,
  // "-2.2250738585072014e-308" (24 characters).
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

}  // namespace

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void append_value(std::string& out, std::uint64_t value) { append_chars(out, value); }

void append_value(std::string& out, std::int64_t value) { append_chars(out, value); }

void append_value(std::string& out, double value) {
  // Prometheus parses numbers with Go's strconv.ParseFloat, which takes
  // "+Inf", "-Inf" and "NaN" but not to_chars' "inf" and "nan".
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    append_chars(out, value);
  }
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_escaped_help(std::string& out, std::string_view help) {
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

std::string label_text(const Labels& labels) {
  std::string text;
  for (const auto& [name, value] : labels) {
    if (!text.empty()) text += ',';
    text += name;
    text += "=\"";
    append_escaped_label_value(text, value);
    text += '"';
  }
  return text;
}

void append_family_header(std::string& out, std::string_view name, std::string_view help, MetricType type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped_help(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

void append_sample_prefix(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                          std::string_view le) {
  out += name;
  out += suffix;
  if (!labels.empty() || !le.empty()) {
    out += '{';
    out += labels;
    if (!le.empty()) {
      if (!labels.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

}  // namespace switchboard::metrics
