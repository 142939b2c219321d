// parse_vm_rss: the VmRSS line of /proc/<pid>/status, in bytes.
#include "bench/connect_scenario.h"

#include <unistd.h>

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
}

}  // namespace
}  // namespace switchboard::bench
