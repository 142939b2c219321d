// What --server-pid reads from /proc: VmRSS and VmHWM from status, utime + stime from
// stat.
#include "bench/server_process.h"

#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

TEST(VmRss, ParsesKibibytes) {
  EXPECT_EQ(parse_vm_rss("Name:\tswitchboard\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nRssAnon:\t 1 kB\n"),
            5120 * 1024);
  EXPECT_EQ(parse_vm_rss("VmRSS: 1 kB"), 1024);
}

TEST(VmRss, MissingOrMalformed) {
  EXPECT_EQ(parse_vm_rss(""), -1);
  EXPECT_EQ(parse_vm_rss("Name: x\n"), -1);
  EXPECT_EQ(parse_vm_rss("VmRSS:\t kB\n"), -1);
}

TEST(VmRss, ReadsThisProcess) {
  EXPECT_GT(read_vm_rss(getpid()), 0);
  EXPECT_EQ(read_vm_rss(0x7FFFFFFF), -1);
  EXPECT_EQ(read_vm_rss(0), -1);
}

TEST(VmHwm, ThePeakNotTheCurrent) {
  const char* status = "Name:\tswitchboard\nVmPeak:\t  9000 kB\nVmHWM:\t    7168 kB\nVmRSS:\t    5120 kB\n";
  EXPECT_EQ(parse_vm_hwm(status), 7168 * 1024);
  EXPECT_EQ(parse_vm_hwm("VmRSS: 1 kB"), -1);
  EXPECT_GE(read_vm_hwm(getpid()), read_vm_rss(getpid()) / 2);
  EXPECT_EQ(read_vm_hwm(0), -1);
}

TEST(CpuTicks, SumsUtimeAndStime) {
  EXPECT_EQ(parse_cpu_ticks("15289 (cat) R 15283 15283 14634 0 -1 4194304 99 0 0 0 70 12 0 0 20 0 1 0 3640924\n"), 82);
}

TEST(CpuTicks, CommandNameWithSpacesAndParentheses) {
  // A process may name itself anything, ") 1 2" included.
  EXPECT_EQ(parse_cpu_ticks("7 (a) 1 2 (b)) S 1 7 7 0 -1 0 5 0 0 0 300 45 0 0 20 0 4 0 100\n"), 345);
}

TEST(CpuTicks, Malformed) {
  EXPECT_EQ(parse_cpu_ticks(""), -1);
  EXPECT_EQ(parse_cpu_ticks("1 (x R 1 1 1 0 -1 0 0 0 0 0 1 1"), -1);   // no ')'
  EXPECT_EQ(parse_cpu_ticks("1 (x) R 1 1 1 0 -1 0 0 0 0"), -1);        // too short
  EXPECT_EQ(parse_cpu_ticks("1 (x) R 1 1 1 0 -1 0 0 0 0 0 a 1"), -1);  // not a number
  EXPECT_EQ(parse_cpu_ticks("1 (x) R 1 1 1 0 -1 0 0 0 0 0 5"), -1);    // no stime
}

TEST(CpuTicks, ReadsThisProcess) {
  // CPU time moves in clock ticks (10 ms): spin until one has passed, or
  // fail after two seconds of spinning. (A fixed spin was sometimes shorter
  // than a tick on a fast machine.)
  volatile unsigned spin = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (read_cpu_seconds(getpid()) <= 0.0 && std::chrono::steady_clock::now() < give_up) {
    for (unsigned i = 0; i < 1'000'000u; ++i) spin = spin + i;
  }
  EXPECT_GT(read_cpu_seconds(getpid()), 0.0);
  EXPECT_LT(read_cpu_seconds(0x7FFFFFFF), 0.0);
}

}  // namespace
}  // namespace switchboard::bench
