// The connect scenario: open C connections (at most K handshakes in
// progress), hold them idle for H seconds answering pings, close them all.
// Figures: handshake time per connection, handshakes per second and, with
// --server-pid, the server's resident memory per idle connection.
//
// Threading: see ThreadDriver.
#pragma once

#include <cstdint>
#include <string_view>

#include "bench/thread_driver.h"

namespace switchboard::bench {

class ConnectDriver final : public ThreadDriver {
 public:
  explicit ConnectDriver(const ThreadPlan& plan) : ThreadDriver(plan) {}

  // An idle connection expects no messages; one that comes is ignored.
  void on_message(LoadConnection&, Opcode, std::string_view) override {}
};

// VmRSS of process `pid` in bytes, from /proc/<pid>/status; -1 when it
// cannot be read.
std::int64_t read_vm_rss(std::int64_t pid);

// The VmRSS value of a /proc/<pid>/status text in bytes, -1 if absent.
std::int64_t parse_vm_rss(std::string_view status);

}  // namespace switchboard::bench
