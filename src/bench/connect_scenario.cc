#include "bench/connect_scenario.h"

#include <fstream>
#include <sstream>
#include <string>

namespace switchboard::bench {

std::int64_t parse_vm_rss(std::string_view status) {
  constexpr std::string_view kField = "VmRSS:";
  std::size_t at = status.find(kField);
  if (at == std::string_view::npos) return -1;
  at += kField.size();
  while (at < status.size() && (status[at] == ' ' || status[at] == '\t')) ++at;
  std::int64_t kilobytes = 0;
  bool digits = false;
  while (at < status.size() && status[at] >= '0' && status[at] <= '9') {
    kilobytes = kilobytes * 10 + (status[at] - '0');
    digits = true;
    ++at;
  }
  return digits ? kilobytes * 1024 : -1;  // the kernel writes "kB": KiB
}

std::int64_t read_vm_rss(std::int64_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  if (!file) return -1;
  std::ostringstream text;
  text << file.rdbuf();
  return parse_vm_rss(text.str());
}

}  // namespace switchboard::bench
