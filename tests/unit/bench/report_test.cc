// The report: JSON strings escaped per RFC 8259, the JSON object's keys the
// smoke test reads, and human-friendly durations.
#include "bench/report.h"

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("line\nnext\r\ttab"), "\"line\\nnext\\r\\ttab\"");
  EXPECT_EQ(json_string(std::string_view("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_string(std::string_view("\0", 1)), "\"\\u0000\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 kept
  EXPECT_EQ(json_string("bad\xff"), "\"bad\xEF\xBF\xBD\"");  // U+FFFD
}

TEST(FormatJson, EchoHasTheDocumentedKeys) {
  RunResult result;
  result.options.scenario = Scenario::kEcho;
  result.options.url = "ws://127.0.0.1:1/\"quoted\"";
  result.messages = 10;
  result.window_seconds = 2;
  result.latency.record(1000);
  result.errors.add(ErrorKind::kMismatch);
  result.first_error = "mismatch";
  const std::string json = format_json(result);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
  for (const char* key : {"\"scenario\":\"echo\"", "\"messages\":10", "\"messages_per_second\":5.000", "\"errors\":1",
                          "\"connections_failed\":0", "\"mismatch\":1", "\"latency_ns\":{\"count\":1",
                          "\"p999\":", "\"mb_per_second\"", "\"url\":\"ws://127.0.0.1:1/\\\"quoted\\\"\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
}

TEST(FormatJson, PublishUrlOnlyWhenGiven) {
  RunResult result;
  result.options.scenario = Scenario::kPubsub;
  result.options.url = "ws://127.0.0.1:8102/";
  EXPECT_EQ(format_json(result).find("publish_url"), std::string::npos);
  result.options.publish_url = "ws://127.0.0.1:8101/";
  result.publish_target = "127.0.0.1:8101";
  const std::string json = format_json(result);
  EXPECT_NE(json.find("\"publish_url\":\"ws://127.0.0.1:8101/\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"publish_target\":\"127.0.0.1:8101\""), std::string::npos) << json;
  EXPECT_NE(format_human(result).find("publisher    ws://127.0.0.1:8101/"), std::string::npos);
}

TEST(FormatJson, ConnectHasRssPerConnection) {
  RunResult result;
  result.options.scenario = Scenario::kConnect;
  result.connections_open = 4;
  result.rss_before = 1000;
  result.rss_after = 5000;
  const std::string json = format_json(result);
  EXPECT_NE(json.find("\"server_rss_per_connection_bytes\":1000.000"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"messages\""), std::string::npos);
  result.rss_after = -1;
  EXPECT_NE(format_json(result).find("\"server_rss_per_connection_bytes\":null"), std::string::npos);
}

TEST(FormatJson, ServerCpuPerMillionMessagesAndPerHandshake) {
  RunResult result;
  result.options.scenario = Scenario::kEcho;
  result.options.server_pid = 99;
  result.messages = 2'000'000;
  result.window_seconds = 10;
  result.server_cpu_window_s = 5;
  result.connections_open = 100;
  result.server_cpu_connect_s = 0.01;
  std::string json = format_json(result);
  EXPECT_NE(json.find("\"server_cpu_seconds\":5.000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"server_cpu_seconds_per_million_messages\":2.500"), std::string::npos) << json;
  EXPECT_NE(json.find("\"server_cpu_connect_seconds\":0.010"), std::string::npos) << json;
  EXPECT_NE(format_human(result).find("2.500 s per million messages"), std::string::npos) << format_human(result);

  result.server_cpu_window_s = -1;  // /proc unreadable: null, not a made-up figure
  json = format_json(result);
  EXPECT_NE(json.find("\"server_cpu_seconds_per_million_messages\":null"), std::string::npos) << json;
  EXPECT_NE(format_human(result).find("could not read /proc/99/stat"), std::string::npos);

  result.options.scenario = Scenario::kConnect;
  json = format_json(result);
  EXPECT_NE(json.find("\"server_cpu_us_per_handshake\":100.000"), std::string::npos) << json;
  EXPECT_NE(format_human(result).find("100.0 us per handshake"), std::string::npos) << format_human(result);
}

TEST(FormatHuman, NamesErrorsAndFirstError) {
  RunResult result;
  result.options.scenario = Scenario::kBroadcast;
  result.errors.add(ErrorKind::kUnexpectedClose);
  result.first_error = "unexpected_close";
  result.missing_deliveries = 3;
  const std::string text = format_human(result);
  EXPECT_NE(text.find("unexpected_close 1"), std::string::npos) << text;
  EXPECT_NE(text.find("3 missing"), std::string::npos) << text;
}

TEST(FormatJson, PubsubCountsRefusedPublishesApartFromMissingDeliveries) {
  RunResult result;
  result.options.scenario = Scenario::kPubsub;
  result.publishes = 2001;
  result.refused_publishes = 4;
  result.first_refusal = R"({"type":"error","id":2002,"code":121,"message":"rate limit exceeded"})";
  result.window_seconds = 1;
  const std::string json = format_json(result);
  EXPECT_NE(json.find("\"refused_publishes\":4"), std::string::npos) << json;
  EXPECT_NE(json.find("\"missing_deliveries\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"first_refusal\":\"{\\\"type\\\":\\\"error\\\""), std::string::npos) << json;
  const std::string text = format_human(result);
  EXPECT_NE(text.find("2001 (2001/s) accepted; 4 refused by the server"), std::string::npos) << text;
  EXPECT_NE(text.find("code\":121"), std::string::npos) << text;
}

TEST(RunIsClean, MissingDeliveriesFailTheRunRefusalsDoNot) {
  RunResult result;
  result.options.scenario = Scenario::kPubsub;
  EXPECT_TRUE(run_is_clean(result));
  result.refused_publishes = 10;  // the server said no: reported, not lost
  EXPECT_TRUE(run_is_clean(result));
  result.missing_deliveries = 1;  // accepted and never delivered
  EXPECT_FALSE(run_is_clean(result));
  result.missing_deliveries = 0;
  result.errors.add(ErrorKind::kMismatch);
  EXPECT_FALSE(run_is_clean(result));
  RunResult cut_short;
  cut_short.interrupted = true;
  EXPECT_FALSE(run_is_clean(cut_short));
}

TEST(FormatDuration, PicksAUnit) {
  EXPECT_EQ(format_duration_ns(950), "950 ns");
  EXPECT_EQ(format_duration_ns(12'345), "12.3 us");
  EXPECT_EQ(format_duration_ns(4'560'000), "4.56 ms");
  EXPECT_EQ(format_duration_ns(1.2e9), "1.20 s");
}

TEST(FormatJson, RecoverHasTheStormsAndTheCpuPerRecoveredPublication) {
  RunResult result;
  result.options.scenario = Scenario::kRecover;
  result.options.url = "ws://127.0.0.1:1/";
  result.options.server_pid = 42;
  result.options.recover = 100;
  result.options.storms = 3;
  result.stream_epoch = "q3V_x9aZ";
  result.stream_top = 100;
  result.storms = {{0.030, 0.02}, {0.010, 0.01}, {0.020, 0.03}};
  result.window_seconds = 0.060;
  result.server_cpu_window_s = 0.06;
  result.messages = 300'000;
  result.recoveries = 3'000;
  const std::string json = format_json(result);
  for (const char* key :
       {"\"scenario\":\"recover\"", "\"channel\":\"bench.recover\"", "\"recover_publications\":100",
        "\"storms_asked\":3", "\"stream_epoch\":\"q3V_x9aZ\"", "\"stream_top\":100",
        "\"storms\":[{\"seconds\":0.030000,\"server_cpu_seconds\":0.020},{", "\"storm_seconds_median\":0.020000",
        "\"storm_seconds_min\":0.010000", "\"storm_seconds_max\":0.030000",
        "\"server_cpu_seconds_per_storm_median\":0.020", "\"recoveries\":3000", "\"recovered_publications\":300000",
        "\"server_cpu_us_per_recovered_publication\":0.200", "\"server_cpu_seconds_per_million_messages\":0.200"}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
  const std::string human = format_human(result);
  EXPECT_NE(human.find("0.200 us per recovered publication"), std::string::npos) << human;
  EXPECT_NE(human.find("median 20.00 ms"), std::string::npos) << human;
  // A storm whose CPU is unknown makes the figures unknown, not zero.
  result.storms[1].server_cpu_s = -1;
  result.server_cpu_window_s = -1;
  EXPECT_NE(format_json(result).find("\"server_cpu_us_per_recovered_publication\":null"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::bench
