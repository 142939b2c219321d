// How `switchboard client` splits a line of input into a command, and
// reads the options of `history`.
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

TEST(ParseHistoryOptions, LimitReverseAndSinceInAnyOrder) {
  const std::optional<HistoryOptions> none = parse_history_options("");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->limit);
  EXPECT_FALSE(none->since);
  EXPECT_EQ(none->order, HistoryOrder::kOldestFirst);
  const std::optional<HistoryOptions> all = parse_history_options("reverse since=12:ep:och  5");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->limit, std::optional<std::uint64_t>(5));
  EXPECT_EQ(all->order, HistoryOrder::kNewestFirst);
  EXPECT_EQ(all->since, (std::optional<StreamPosition>(StreamPosition{"ep:och", 12})));
}

TEST(ParseHistoryOptions, AnythingElseIsNotUnderstood) {
  EXPECT_FALSE(parse_history_options("backwards"));
  EXPECT_FALSE(parse_history_options("-1"));
  EXPECT_FALSE(parse_history_options("since=E"));
  EXPECT_FALSE(parse_history_options("since=:E"));
  EXPECT_FALSE(parse_history_options("since=x:E"));
  EXPECT_FALSE(parse_history_options("99999999999999999999999"));
}

}  // namespace
}  // namespace switchboard::cli
