// How `switchboard client` splits a line of input into a command.
#include "cli/client_session.h"

#include <gtest/gtest.h>

namespace switchboard::cli {
namespace {

TEST(SplitInputLine, VerbArgumentAndTheRestAsWritten) {
  const std::optional<InputLine> line = split_input_line(R"(pub chat:lobby {"text": "hi  there"})");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->verb, "pub");
  EXPECT_EQ(line->argument, "chat:lobby");
  EXPECT_EQ(line->rest, R"({"text": "hi  there"})");  // inner spaces kept
}

TEST(SplitInputLine, SpacesTabsAndACarriageReturnAroundAreDropped) {
  const std::optional<InputLine> line = split_input_line(" \tsend\tbob   \"psst\" \r");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->verb, "send");
  EXPECT_EQ(line->argument, "bob");
  EXPECT_EQ(line->rest, "\"psst\"");
}

TEST(SplitInputLine, MissingPartsAreEmpty) {
  const std::optional<InputLine> ping = split_input_line("ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->verb, "ping");
  EXPECT_EQ(ping->argument, "");
  EXPECT_EQ(ping->rest, "");
  const std::optional<InputLine> rpc = split_input_line("rpc getUser");
  ASSERT_TRUE(rpc);
  EXPECT_EQ(rpc->argument, "getUser");
  EXPECT_EQ(rpc->rest, "");
}

TEST(SplitInputLine, BlankLinesAndCommentsAreNotCommands) {
  EXPECT_FALSE(split_input_line(""));
  EXPECT_FALSE(split_input_line("   \t"));
  EXPECT_FALSE(split_input_line("# sub chat:lobby"));
  EXPECT_FALSE(split_input_line("  # indented comment"));
}

}  // namespace
}  // namespace switchboard::cli
