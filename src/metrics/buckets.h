// Histogram upper bounds, built the way the Prometheus client libraries do.
// The +Inf bucket is implicit and never part of these lists.
#pragma once

#include <cstddef>
#include <vector>

namespace switchboard::metrics {

// start, start*factor, start*factor^2, ... (count bounds). Throws
// std::invalid_argument unless start > 0, factor > 1 and count >= 1.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

// start, start+width, start+2*width, ... (count bounds). Throws
// std::invalid_argument unless width > 0 and count >= 1.
std::vector<double> linear_buckets(double start, double width, std::size_t count);

}  // namespace switchboard::metrics
