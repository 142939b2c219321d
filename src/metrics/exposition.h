// Pieces of the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): the
// # HELP and # TYPE lines, sample names with their label sets, numbers and
// escaping. Registry::render() puts them together; nothing here knows about
// metrics objects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/labels.h"
#include "metrics/metric_type.h"

namespace switchboard::metrics {

// "counter", "gauge", "histogram": the word on a # TYPE line.
std::string_view type_name(MetricType type);

// Integers as integers. Doubles in the shortest form that reads back as the
// same double (std::to_chars), so 0.1 is "0.1" and 3.0 is "3"; infinities
// and NaN as Prometheus spells them: "+Inf", "-Inf", "NaN".
void append_value(std::string& out, std::uint64_t value);
void append_value(std::string& out, std::int64_t value);
void append_value(std::string& out, double value);

// A label value between its quotes: \ " and newline become \\ \" \n.
void append_escaped_label_value(std::string& out, std::string_view value);

// Help text: \ and newline become \\ \n (quotes stay as they are).
void append_escaped_help(std::string& out, std::string_view help);

// `a="x",b="y"`: a series' label pairs in the given order, values escaped,
// without the braces. Made once at registration and kept with the series.
std::string label_text(const Labels& labels);

// "# HELP <name> <help>\n# TYPE <name> <type>\n".
void append_family_header(std::string& out, std::string_view name, std::string_view help, MetricType type);

// Everything of a sample line before its value, trailing space included:
// `<name><suffix>{<labels>,le="<le>"} `. labels is a label_text(); le is
// empty except on histogram bucket lines; no braces when both are empty.
void append_sample_prefix(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                          std::string_view le = {});

}  // namespace switchboard::metrics
