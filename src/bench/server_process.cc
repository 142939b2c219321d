#include "bench/server_process.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace switchboard::bench {
namespace {

std::string read_proc_file(std::int64_t pid, const char* name) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/" + name);
  if (!file) return "";
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Reads a run of decimal digits at `at`; false if there is none.
bool parse_digits(std::string_view text, std::size_t* at, std::int64_t* value) {
  std::size_t i = *at;
  std::int64_t result = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') result = result * 10 + (text[i++] - '0');
  if (i == *at) return false;
  *at = i;
  *value = result;
  return true;
}

}  // namespace

std::int64_t parse_status_bytes(std::string_view status, std::string_view field) {
  std::size_t at = status.find(field);
  if (at == std::string_view::npos) return -1;
  at += field.size();
  while (at < status.size() && (status[at] == ' ' || status[at] == '\t')) ++at;
  std::int64_t kilobytes = 0;
  if (!parse_digits(status, &at, &kilobytes)) return -1;
  return kilobytes * 1024;  // the kernel writes "kB": KiB
}

std::int64_t parse_vm_rss(std::string_view status) { return parse_status_bytes(status, "VmRSS:"); }
std::int64_t parse_vm_hwm(std::string_view status) { return parse_status_bytes(status, "VmHWM:"); }

std::int64_t read_vm_rss(std::int64_t pid) { return pid > 0 ? parse_vm_rss(read_proc_file(pid, "status")) : -1; }
std::int64_t read_vm_hwm(std::int64_t pid) { return pid > 0 ? parse_vm_hwm(read_proc_file(pid, "status")) : -1; }

std::int64_t parse_cpu_ticks(std::string_view stat) {
  // proc(5): "pid (comm) state ppid ..."; utime and stime are fields 14 and
  // 15, that is the 12th and 13th after the one that closes the comm.
  std::size_t at = stat.rfind(')');
  if (at == std::string_view::npos) return -1;
  ++at;
  constexpr int kUtimeAfterComm = 12;
  for (int field = 1; field < kUtimeAfterComm; ++field) {
    if (at >= stat.size() || stat[at] != ' ') return -1;
    at = stat.find(' ', at + 1);
    if (at == std::string_view::npos) return -1;
  }
  std::int64_t utime = 0;
  std::int64_t stime = 0;
  if (stat[at] != ' ' || !parse_digits(stat, &++at, &utime)) return -1;
  if (at >= stat.size() || stat[at] != ' ' || !parse_digits(stat, &++at, &stime)) return -1;
  return utime + stime;
}

double read_cpu_seconds(std::int64_t pid) {
  if (pid <= 0) return -1;
  const std::int64_t ticks = parse_cpu_ticks(read_proc_file(pid, "stat"));
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks < 0 || ticks_per_second <= 0) return -1;
  return static_cast<double>(ticks) / static_cast<double>(ticks_per_second);
}

}  // namespace switchboard::bench
