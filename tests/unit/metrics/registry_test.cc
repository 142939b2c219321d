// The registry and its Prometheus text: families grouped, label escaping,
// histogram lines, callbacks, and the registration errors.
#include "metrics/registry.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace switchboard::metrics {
namespace {

TEST(Registry, RendersFamiliesInRegistrationOrderWithTheirSeriesTogether) {
  Registry registry;
  registry.counter("requests_total", "Requests", {{"code", "200"}}).add(3);
  registry.gauge("temperature", "Degrees").set(-4);
  // A second series of the first family, registered after another family.
  registry.counter("requests_total", "Requests", {{"code", "500"}}).add();
  EXPECT_EQ(registry.render(),
            "# HELP requests_total Requests\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\"} 3\n"
            "requests_total{code=\"500\"} 1\n"
            "# HELP temperature Degrees\n"
            "# TYPE temperature gauge\n"
            "temperature -4\n");
}

TEST(Registry, HistogramLines) {
  Registry registry;
  Histogram& latency = registry.histogram("latency_seconds", "Latency", {0.1, 1});
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(5);
  EXPECT_EQ(registry.render(),
            "# HELP latency_seconds Latency\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.1\"} 1\n"
            "latency_seconds_bucket{le=\"1\"} 2\n"
            "latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "latency_seconds_sum 5.55\n"
            "latency_seconds_count 3\n");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("escaped_total", "a \\ b\nc", {{"path", "a\"b\\c\nd"}}).add();
  EXPECT_EQ(registry.render(),
            "# HELP escaped_total a \\\\ b\\nc\n"
            "# TYPE escaped_total counter\n"
            "escaped_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Registry, SameNameAndLabelsIsTheSameMetric) {
  Registry registry;
  Counter& first = registry.counter("x_total", "X", {{"a", "1"}, {"b", "2"}});
  Counter& again = registry.counter("x_total", "X", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(&first, &again);
}

TEST(Registry, CallbacksAreReadAtRenderTime) {
  Registry registry;
  double value = 1;
  registry.gauge_callback("live", "Live", {}, [&] { return value; });
  registry.counter_callback("refused_total", "Refused", {{"why", "cap"}}, [] { return 7.0; });
  value = 2;
  const std::string text = registry.render();
  EXPECT_NE(text.find("live 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE refused_total counter\nrefused_total{why=\"cap\"} 7\n"), std::string::npos) << text;
  EXPECT_THROW(registry.gauge_callback("live", "Live", {}, [] { return 0.0; }), std::invalid_argument);
}

TEST(Registry, RegistrationErrors) {
  Registry registry;
  registry.counter("taken_total", "Taken");
  EXPECT_THROW(registry.gauge("taken_total", "Taken"), std::invalid_argument);         // another type
  EXPECT_THROW(registry.counter("taken_total", "Other help"), std::invalid_argument);  // another help
  EXPECT_THROW(registry.counter("0bad", "Bad"), std::invalid_argument);
  EXPECT_THROW(registry.counter("has space", "Bad"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "Ok", {{"__reserved", "x"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "Ok", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "H", {1}, {{"le", "x"}}), std::invalid_argument);
  registry.histogram("h", "H", {1});
  EXPECT_THROW(registry.counter("h_count", "Clash"), std::invalid_argument);  // h's _count line
  EXPECT_THROW(registry.histogram("h", "H", {2}), std::invalid_argument);     // other bounds
}

}  // namespace
}  // namespace switchboard::metrics
