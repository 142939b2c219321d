// [[namespaces]] tables and --namespace flags: every spelling each form
// accepts today, the ones it refuses, and --print-config writing what the
// file reads back.
#include "cli/namespace_options.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/serve_settings.h"
#include "cli/setting_names.h"
#include "result_checks.h"

namespace switchboard::cli {
namespace {

base::Result<NamespaceOptions> from_toml(const std::string& body) {
  const toml::table table = toml::parse("pattern = \"chat:*\"\n" + body);
  return namespace_from_toml(table, 0, "test.toml");
}

TEST(NamespaceOptions, EveryTomlPolicyWord) {
  const std::pair<const char*, SlowConsumerPolicy> words[] = {
      {"disconnect", SlowConsumerPolicy::kDisconnect},
      {"drop", SlowConsumerPolicy::kDrop},
      {"drop-oldest", SlowConsumerPolicy::kDropOldest},
      {"keep-latest", SlowConsumerPolicy::kKeepLatest},
  };
  for (const auto& [word, policy] : words) {
    const auto options = from_toml(std::string("slow_consumer = \"") + word + "\"\n");
    ASSERT_TRUE(options.ok()) << word << ": " << options.error();
    EXPECT_EQ(options->slow_consumer, policy) << word;
  }
}

TEST(NamespaceOptions, TheFileRefusesTheFlagWords) {
  for (const char* word : {"drop_slow", "drop_oldest", "keep_latest", "Drop", "dropoldest", ""}) {
    const auto options = from_toml(std::string("slow_consumer = \"") + word + "\"\n");
    ASSERT_FALSE(options.ok()) << word;
    EXPECT_EQ(options.error(),
              "test.toml: namespaces[0].slow_consumer: must be \"disconnect\", \"drop\", \"drop-oldest\" or "
              "\"keep-latest\"");
  }
  EXPECT_FALSE(from_toml("slow_consumer = 2\n").ok());
}

TEST(NamespaceOptions, EveryFlagPolicyWord) {
  const std::pair<const char*, SlowConsumerPolicy> words[] = {
      {"drop_slow", SlowConsumerPolicy::kDrop},
      {"drop_oldest", SlowConsumerPolicy::kDropOldest},
      {"keep_latest", SlowConsumerPolicy::kKeepLatest},
  };
  for (const auto& [word, policy] : words) {
    const base::Result<NamespaceOptions> options = parse_namespace_flag(std::string("feed:*=") + word);
    ASSERT_TRUE(Succeeded(options)) << word;
    EXPECT_EQ(options->slow_consumer, policy) << word;
  }
  const base::Result<NamespaceOptions> plain = parse_namespace_flag("feed:*");
  ASSERT_TRUE(Succeeded(plain));
  EXPECT_EQ(plain->slow_consumer, SlowConsumerPolicy::kDisconnect);  // the flag's default: no word for it
}

TEST(NamespaceOptions, TheFlagRefusesTheFileWords) {
  for (const char* word : {"disconnect", "drop", "drop-oldest", "keep-latest"}) {
    EXPECT_TRUE(FailedWith(parse_namespace_flag(std::string("feed:*=") + word),
                           std::string("--namespace: unknown option '") + word +
                               "' (presence, join_leave, no_client_publish, cache, drop_slow, drop_oldest, "
                               "keep_latest, history_size:N, history_ttl:N, recover_limit:N)"));
  }
}

TEST(NamespaceOptions, FlagWordsForHistory) {
  const base::Result<NamespaceOptions> options =
      parse_namespace_flag("room:*=history_size:100,history_ttl:600,recover_limit:50,cache");
  ASSERT_TRUE(Succeeded(options));
  EXPECT_EQ(options->history_size, 100u);
  EXPECT_EQ(options->history_ttl_s, 600u);
  EXPECT_EQ(options->recover_limit, 50u);
  EXPECT_TRUE(options->cache);
  EXPECT_TRUE(FailedWith(parse_namespace_flag("room:*=history_size:100"),
                         "--namespace room:*: history_size and history_ttl go together: both > 0 keep history, both "
                         "0 keep none"));
  EXPECT_TRUE(FailedWith(parse_namespace_flag("room:*=history_size:x,history_ttl:1"),
                         "--namespace: history_size needs a number: history_size:x"));
  EXPECT_TRUE(FailedWith(parse_namespace_flag("room:*=history_size:,history_ttl:1"),
                         "--namespace: history_size needs a number: history_size:"));
}

TEST(NamespaceOptions, FlagWordsBesideThePolicies) {
  const base::Result<NamespaceOptions> options = parse_namespace_flag("room:*= presence , no_client_publish");
  ASSERT_TRUE(Succeeded(options));
  EXPECT_EQ(options->pattern, "room:*");
  EXPECT_TRUE(options->presence);
  EXPECT_FALSE(options->join_leave);
  EXPECT_FALSE(options->client_publish);
  const base::Result<NamespaceOptions> joined = parse_namespace_flag("room:*=join_leave");
  ASSERT_TRUE(Succeeded(joined));
  EXPECT_TRUE(joined->join_leave);
  EXPECT_TRUE(joined->presence);  // implied
  EXPECT_TRUE(
      FailedWith(parse_namespace_flag("bad pattern=presence"),
                 "--namespace: pattern 'bad pattern' must be a channel name, a namespace followed by :*, or *"));
}

TEST(NamespaceOptions, EveryTableKey) {
  const auto options = from_toml(
      "presence = true\njoin_leave = false\nclient_publish = false\nslow_consumer = \"drop-oldest\"\n"
      "slow_consumer_backlog = 7\npublish_per_s = 3\npublish_burst = 4\nhistory_size = 5\nhistory_ttl = 6\n");
  ASSERT_TRUE(options.ok()) << options.error();
  EXPECT_EQ(options->pattern, "chat:*");
  EXPECT_TRUE(options->presence);
  EXPECT_FALSE(options->client_publish);
  EXPECT_EQ(options->slow_consumer_backlog, 7u);
  EXPECT_EQ(options->publish_per_s, 3u);
  EXPECT_EQ(options->publish_burst, 4u);
  EXPECT_EQ(options->history_size, 5u);
  EXPECT_EQ(options->history_ttl_s, 6u);
  EXPECT_EQ(from_toml("join_leave = true\n")->presence, true);  // implied
}

TEST(NamespaceOptions, TableErrorsNameTheKey) {
  EXPECT_EQ(from_toml("presence = 1\n").error(), "test.toml: namespaces[0].presence: must be true or false");
  EXPECT_EQ(from_toml("publish_per_s = -1\n").error(),
            "test.toml: namespaces[0].publish_per_s: must be a non-negative integer");
  EXPECT_EQ(from_toml("slow_consumer_backlog = 100001\n").error(),
            "test.toml: namespaces[0].slow_consumer_backlog: must be an integer from 1 to 100000");
  EXPECT_EQ(from_toml("colour = 1\n").error(),
            "test.toml: namespaces[0].colour: unknown key (pattern, presence, join_leave, client_publish, "
            "slow_consumer, slow_consumer_backlog, publish_per_s, publish_burst, history_size, history_ttl, "
            "recover_limit, cache)");
  EXPECT_EQ(from_toml("history_size = 5\n").error(),
            "test.toml: namespaces[0]: history_size and history_ttl go together: both > 0 keep history, both 0 "
            "keep none");
  EXPECT_EQ(from_toml("cache = true\n").error(),
            "test.toml: namespaces[0]: cache needs history_size and history_ttl > 0");
  const toml::table no_pattern = toml::parse("presence = true\n");
  EXPECT_EQ(namespace_from_toml(no_pattern, 3, "f.toml").error(), "f.toml: namespaces[3].pattern: is required");
}

TEST(NamespaceOptions, PrintedAsTheFileWritesIt) {
  NamespaceOptions options;
  options.pattern = "tick:*";
  options.slow_consumer = SlowConsumerPolicy::kKeepLatest;
  EXPECT_EQ(namespace_as_toml(options),
            "[[namespaces]]\npattern = 'tick:*'\npresence = false\njoin_leave = false\nclient_publish = true\n"
            "slow_consumer = \"keep-latest\"\nslow_consumer_backlog = 100\npublish_per_s = 0\npublish_burst = 0\n"
            "history_size = 0\nhistory_ttl = 0\nrecover_limit = 0\ncache = false\n");
}

TEST(NamespaceOptions, EveryPolicyReadsBackFromPrintConfig) {
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    ServeSettings settings;
    settings.hub.namespaces.push_back({});
    settings.hub.namespaces.back().pattern = "feed:*";
    settings.hub.namespaces.back().slow_consumer = entry.policy;
    ServeSettings again;
    ASSERT_TRUE(Succeeded(apply_toml(again, to_toml(settings), "printed.toml"))) << entry.toml;
    ASSERT_EQ(again.hub.namespaces.size(), 1u);
    EXPECT_EQ(again.hub.namespaces[0].slow_consumer, entry.policy) << entry.toml;
  }
}

}  // namespace
}  // namespace switchboard::cli
