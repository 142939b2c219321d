// Name rules of the Prometheus data model
// (https://prometheus.io/docs/concepts/data_model/), checked at registration
// so that render() never emits text a scraper rejects.
#pragma once

#include <string_view>

namespace switchboard::metrics {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for
// Prometheus' own labels such as __name__).
bool is_valid_label_name(std::string_view name);

}  // namespace switchboard::metrics
