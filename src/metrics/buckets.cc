#include "metrics/buckets.h"

#include <cmath>
#include <stdexcept>

namespace switchboard::metrics {

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  // Written as !(x > y) so that NaN arguments are rejected too.
  if (!(start > 0) || !(factor > 1) || count == 0 || !std::isfinite(start) || !std::isfinite(factor)) {
    throw std::invalid_argument("exponential_buckets: needs start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  if (!(width > 0) || count == 0 || !std::isfinite(start) || !std::isfinite(width)) {
    throw std::invalid_argument("linear_buckets: needs a finite start, width > 0, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  // start + i*width rather than repeated addition, which accumulates rounding
  // error (0.1 added ten times is not 1.0).
  for (std::size_t i = 0; i < count; ++i) bounds.push_back(start + static_cast<double>(i) * width);
  return bounds;
}

}  // namespace switchboard::metrics
