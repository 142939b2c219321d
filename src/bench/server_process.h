// What the load tool reads about a server process on the same host
// (--server-pid): its resident memory and the CPU time it has used, from
// /proc. CPU seconds per message do not depend on how fast the loader is,
// which matters when loader and server share a small machine.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchboard::bench {

// VmRSS of process `pid` in bytes, from /proc/<pid>/status; -1 when it
// cannot be read.
std::int64_t read_vm_rss(std::int64_t pid);

// The VmRSS value of a /proc/<pid>/status text in bytes, -1 if absent.
std::int64_t parse_vm_rss(std::string_view status);

// VmHWM, the most VmRSS the process has had since it started, in bytes; -1
// when it cannot be read. The recover scenario's peak: the replies a storm
// queues at once.
std::int64_t read_vm_hwm(std::int64_t pid);
std::int64_t parse_vm_hwm(std::string_view status);

// User plus system CPU seconds used so far by all threads of process `pid`
// (live and exited), from /proc/<pid>/stat; -1 when it cannot be read.
// The kernel counts in clock ticks (usually 10 ms).
double read_cpu_seconds(std::int64_t pid);

// utime + stime, in clock ticks, of a /proc/<pid>/stat line; -1 if
// malformed. The command name in parentheses may hold spaces and ')', so the
// fields are counted from the last ')'.
std::int64_t parse_cpu_ticks(std::string_view stat);

}  // namespace switchboard::bench
