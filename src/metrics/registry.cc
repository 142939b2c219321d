#include "metrics/registry.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <variant>

#include "metrics/exposition.h"
#include "metrics/metric_name.h"

namespace switchboard::metrics {

namespace {

using Metric =
    std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::function<double()>, std::unique_ptr<Histogram>>;

[[noreturn]] void reject(std::string_view name, std::string_view why) {
  throw std::invalid_argument("metric " + std::string(name) + ": " + std::string(why));
}

// The label text that identifies a series within its family: names checked,
// pairs sorted by name, so {a,b} and {b,a} are one series.
std::string series_key(std::string_view name, Labels labels, MetricType type) {
  std::sort(labels.begin(), labels.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i].first;
    if (!is_valid_label_name(label)) reject(name, "invalid label name \"" + label + "\"");
    if (i > 0 && labels[i - 1].first == label) reject(name, "label \"" + label + "\" given twice");
    if (type == MetricType::kHistogram && label == "le") reject(name, "a histogram cannot have an \"le\" label");
  }
  return label_text(labels);
}

std::vector<std::string> sample_names_of(std::string_view name, MetricType type) {
  if (type != MetricType::kHistogram) return {std::string(name)};
  const std::string base(name);
  return {base + "_bucket", base + "_sum", base + "_count"};
}

}  // namespace

struct Registry::Series {
  std::string labels;  // label_text() of the sorted label pairs
  Metric metric;
};

struct Registry::Family {
  std::string name;
  std::string help;
  MetricType type;
  std::vector<double> bounds;          // histograms only
  std::vector<std::string> le_values;  // bounds as le label values, then "+Inf"
  std::vector<std::unique_ptr<Series>> series;
  std::unordered_map<std::string, Series*, base::StringHash, std::equal_to<>> series_by_labels;
};

struct Registry::Request {
  std::string_view name;
  std::string_view help;
  MetricType type;
  Labels labels;
  Metric metric;  // built before the lock; dropped when the series exists
};

Registry::Registry() = default;
Registry::~Registry() = default;

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  Series& series = find_or_add({name, help, MetricType::kCounter, std::move(labels), std::make_unique<Counter>()});
  return *std::get<std::unique_ptr<Counter>>(series.metric);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  Series& series = find_or_add({name, help, MetricType::kGauge, std::move(labels), std::make_unique<Gauge>()});
  return *std::get<std::unique_ptr<Gauge>>(series.metric);
}

void Registry::gauge_callback(std::string_view name, std::string_view help, Labels labels,
                              std::function<double()> read) {
  if (!read) reject(name, "empty callback");
  find_or_add({name, help, MetricType::kGauge, std::move(labels), std::move(read)});
}

void Registry::counter_callback(std::string_view name, std::string_view help, Labels labels,
                                std::function<double()> read) {
  if (!read) reject(name, "empty callback");
  find_or_add({name, help, MetricType::kCounter, std::move(labels), std::move(read)});
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                               Labels labels) {
  // Constructing it first checks the bounds before anything is registered.
  auto histogram = std::make_unique<Histogram>(std::move(bounds));
  Series& series = find_or_add({name, help, MetricType::kHistogram, std::move(labels), std::move(histogram)});
  return *std::get<std::unique_ptr<Histogram>>(series.metric);
}

Registry::Series& Registry::find_or_add(Request request) {
  const std::string_view name = request.name;
  if (!is_valid_metric_name(name)) reject(name, "invalid metric name");
  std::string key = series_key(name, std::move(request.labels), request.type);
  const Histogram* histogram = nullptr;
  if (const auto* held = std::get_if<std::unique_ptr<Histogram>>(&request.metric)) histogram = held->get();

  std::lock_guard lock(mutex_);
  const auto found = families_by_name_.find(name);
  Family* family = found == families_by_name_.end() ? nullptr : found->second;
  if (family != nullptr) {
    if (family->type != request.type) reject(name, "already registered as a " + std::string(type_name(family->type)));
    if (family->help != request.help) reject(name, "already registered with other help text");
    if (histogram != nullptr && !std::ranges::equal(family->bounds, histogram->bounds())) {
      reject(name, "already registered with other bounds");
    }
    if (const auto existing = family->series_by_labels.find(key); existing != family->series_by_labels.end()) {
      Series& series = *existing->second;
      if (series.metric.index() != request.metric.index()) reject(name, "label set taken by another kind of series");
      if (std::holds_alternative<std::function<double()>>(series.metric)) reject(name, "callback registered twice");
      return series;
    }
  } else {
    const std::vector<std::string> names = sample_names_of(name, request.type);
    for (const std::string& sample_name : names) {
      if (sample_names_.contains(sample_name)) reject(name, "sample name " + sample_name + " taken by another family");
    }
    auto created = std::make_unique<Family>();
    created->name = std::string(name);
    created->help = std::string(request.help);
    created->type = request.type;
    if (histogram != nullptr) {
      created->bounds.assign(histogram->bounds().begin(), histogram->bounds().end());
      for (double bound : created->bounds) {
        std::string le;
        append_value(le, bound);
        created->le_values.push_back(std::move(le));
      }
      created->le_values.emplace_back("+Inf");
    }
    // Everything that can throw for a reason other than memory is behind us.
    family = created.get();
    families_.push_back(std::move(created));
    families_by_name_.emplace(family->name, family);
    sample_names_.insert(names.begin(), names.end());
  }

  auto series = std::make_unique<Series>(Series{std::move(key), std::move(request.metric)});
  Series& added = *series;
  family->series.push_back(std::move(series));
  family->series_by_labels.emplace(added.labels, &added);
  return added;
}

std::string Registry::render() const {
  // Copy the structure under the lock, then read values outside it: a
  // callback (code we do not control) never runs under a lock, and a slow
  // scrape never holds up registration.
  struct FamilyView {
    const Family* family;
    std::vector<const Series*> series;
  };
  std::vector<FamilyView> families;
  {
    std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& family : families_) {
      FamilyView& view = families.emplace_back(FamilyView{family.get(), {}});
      view.series.reserve(family->series.size());
      for (const auto& series : family->series) view.series.push_back(series.get());
    }
  }

  std::string out;
  for (const FamilyView& view : families) {
    const Family& family = *view.family;
    append_family_header(out, family.name, family.help, family.type);
    for (const Series* series : view.series) {
      const auto append_sample = [&](std::string_view suffix, std::string_view le, auto value) {
        append_sample_prefix(out, family.name, suffix, series->labels, le);
        append_value(out, value);
        out += '\n';
      };
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&series->metric)) {
        append_sample({}, {}, (*counter)->value());
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&series->metric)) {
        append_sample({}, {}, (*gauge)->value());
      } else if (const auto* read = std::get_if<std::function<double()>>(&series->metric)) {
        append_sample({}, {}, (*read)());
      } else {
        const Histogram::Snapshot snapshot = std::get<std::unique_ptr<Histogram>>(series->metric)->snapshot();
        for (std::size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
          append_sample("_bucket", family.le_values[i], snapshot.cumulative_counts[i]);
        }
        append_sample("_sum", {}, snapshot.sum);
        append_sample("_count", {}, snapshot.count);
      }
    }
  }
  return out;
}

}  // namespace switchboard::metrics
