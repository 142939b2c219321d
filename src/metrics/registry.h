// The set of metrics a process exposes on GET /metrics, and their rendering
// in the Prometheus text format 0.0.4.
//
// A family is every series of one metric name: one type, one help text (and,
// for histograms, one set of bounds). A series is one label set within it.
//
// Threading: registration takes a mutex and is meant for startup, but may
// happen at any time from any thread. The references it returns stay valid
// for the Registry's life and are used without the registry: adds and
// observes never touch the mutex. render() may run concurrently with both.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/string_hash.h"
#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"
#include "metrics/labels.h"

namespace switchboard::metrics {

class Registry {
 public:
  Registry();
  ~Registry();  // out of line: Family is complete only in registry.cc
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the series of that name and label set, created on first
  // use; label order does not matter. Throws std::invalid_argument, leaving
  // the registry unchanged, on: a metric name or label name that breaks the
  // Prometheus rules (metrics/metric_name.h); a label name given twice; a
  // name already registered with another type or help text; a name whose
  // sample lines would clash with another family's (a counter "h_count" next
  // to a histogram "h"); a label set already registered under the same name
  // as another kind of series (gauge() vs gauge_callback()). Counters are
  // rendered under the name as given: callers end it in _total.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});

  // A gauge whose value lives elsewhere (connection counts kept by the
  // server): render() calls read, on its own thread and outside the
  // registry's lock, so read must be safe to call from any thread at any
  // time, concurrently with itself. It may share a family with gauge()
  // series. Registering the same name and label set twice throws
  // std::invalid_argument: there is no object to hand back, and silently
  // keeping one of two callbacks would hide a bug.
  void gauge_callback(std::string_view name, std::string_view help, Labels labels, std::function<double()> read);
  // The same for a counter kept elsewhere (refusals the server counts): read
  // must never go down.
  void counter_callback(std::string_view name, std::string_view help, Labels labels, std::function<double()> read);

  // bounds as for Histogram (finite, strictly increasing; +Inf is implicit),
  // the same for every series of a family: other bounds throw
  // std::invalid_argument, as does an "le" label, which the bucket lines use.
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds, Labels labels = {});

  // Every family in registration order, each with one # HELP and one # TYPE
  // line and then its series in registration order; histograms as
  // _bucket{le="..."} lines ending at le="+Inf", then _sum and _count.
  // Exceptions thrown by a gauge_callback() read propagate out of it.
  std::string render() const;

 private:
  struct Family;
  struct Series;
  struct Request;

  // The series of request's name and label set: the existing one, or a new
  // one holding request's metric. Checks everything before it changes
  // anything, so a throw leaves the registry as it was.
  Series& find_or_add(Request request);

  mutable std::mutex mutex_;
  // Guarded by mutex_. Families and series are never removed, so pointers to
  // them stay valid without the lock; a family's name, help and bounds and a
  // series' label text never change after registration.
  std::vector<std::unique_ptr<Family>> families_;
  std::unordered_map<std::string, Family*, base::StringHash, std::equal_to<>> families_by_name_;
  // Every name a sample line can carry (a histogram "h" has h_bucket, h_sum
  // and h_count), so that two families never write the same sample name.
  std::unordered_set<std::string, base::StringHash, std::equal_to<>> sample_names_;
};

}  // namespace switchboard::metrics
