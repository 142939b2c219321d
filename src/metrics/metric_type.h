// The kind of a metric family, as named on its # TYPE line.
#pragma once

namespace switchboard::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

}  // namespace switchboard::metrics
