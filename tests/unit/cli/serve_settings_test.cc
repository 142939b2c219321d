// serve's settings: TOML file, environment and flag text, in that order of
// precedence, with an error that names the source and the key.
#include "cli/serve_settings.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "result_checks.h"

namespace switchboard::cli {
namespace {

TEST(ServeSettings, DefaultsMakeAUsefulSingleNode) {
  const ServeSettings settings;
  EXPECT_EQ(settings.server.port, 8080);
  EXPECT_EQ(settings.broker_url, "memory://");
  EXPECT_FALSE(settings.insecure_user_query);
  EXPECT_TRUE(Succeeded(validate(settings)));
}

TEST(ServeSettings, TomlFile) {
  ServeSettings settings;
  const char* text = R"(
[server]
port = 9000
workers = 2
allowed_origins = ["https://app.example"]

[hub]
rpc_timeout_ms = 2500

[broker]
url = "memory://"

[[namespaces]]
pattern = "chat:*"
join_leave = true

[[namespaces]]
pattern = "news"
client_publish = false
history_size = 100
history_ttl = 600
slow_consumer = "drop-oldest"
slow_consumer_backlog = 20
publish_per_s = 5
)";
  ASSERT_TRUE(Succeeded(apply_toml(settings, text, "test.toml")));
  EXPECT_EQ(settings.server.port, 9000);
  EXPECT_EQ(settings.server.workers, 2u);
  ASSERT_EQ(settings.server.allowed_origins.size(), 1u);
  EXPECT_EQ(settings.server.allowed_origins[0], "https://app.example");
  EXPECT_EQ(settings.hub.rpc_timeout_ms, 2500u);
  ASSERT_EQ(settings.hub.namespaces.size(), 2u);
  EXPECT_EQ(settings.hub.namespaces[0].pattern, "chat:*");
  EXPECT_TRUE(settings.hub.namespaces[0].join_leave);
  EXPECT_TRUE(settings.hub.namespaces[0].presence);  // implied by join_leave
  EXPECT_FALSE(settings.hub.namespaces[1].client_publish);
  EXPECT_EQ(settings.hub.namespaces[1].history_size, 100u);
  EXPECT_EQ(settings.hub.namespaces[1].history_ttl_s, 600u);
  EXPECT_EQ(settings.hub.namespaces[0].slow_consumer, SlowConsumerPolicy::kDisconnect);
  EXPECT_EQ(settings.hub.namespaces[1].slow_consumer, SlowConsumerPolicy::kDropOldest);
  EXPECT_EQ(settings.hub.namespaces[1].slow_consumer_backlog, 20u);
  EXPECT_EQ(settings.hub.namespaces[1].publish_per_s, 5u);
  EXPECT_EQ(settings.hub.namespaces[1].publish_burst, 0u);
  EXPECT_TRUE(Succeeded(validate(settings)));
}

TEST(ServeSettings, FileErrorsNameTheKey) {
  const std::map<std::string, std::string> cases{
      {"[server]\nport = 70000\n", "test.toml: server.port: must be at least 0 and at most 65535 (got 70000)"},
      {"[server]\nport = -1\n", "test.toml: server.port: must not be negative"},
      {"[server]\nport = \"80\"\n", "test.toml: server.port: must be an integer"},
      {"[server]\nprot = 80\n", "test.toml: server.prot: unknown key (see docs/CONFIG.md); did you mean server.port?"},
      {"[sever]\nport = 80\n", "test.toml: sever.port: unknown key (see docs/CONFIG.md)"},
      {"[hub]\nrequire_subprotocol = \"yes\"\n", "test.toml: hub.require_subprotocol: must be true or false"},
      {"[server]\nallowed_origins = \"x\"\n", "test.toml: server.allowed_origins: must be an array of strings"},
      {"[[namespaces]]\npresence = true\n", "test.toml: namespaces[0].pattern: is required"},
      {"[[namespaces]]\npattern = \"a\"\nhistroy = 1\n", "test.toml: namespaces[0].histroy: unknown key"},
      {"port = 80\n", "test.toml: port: must be a [port] table"},
      {"[[namespaces]]\npattern = \"a\"\nslow_consumer = \"drop_oldest\"\n",
       "test.toml: namespaces[0].slow_consumer: must be \"disconnect\", \"drop\", \"drop-oldest\" or \"keep-latest\""},
      {"[[namespaces]]\npattern = \"a\"\nslow_consumer_backlog = 0\n",
       "test.toml: namespaces[0].slow_consumer_backlog: must be an integer from 1 to 100000"},
  };
  for (const auto& [text, expected] : cases) {
    ServeSettings settings;
    EXPECT_TRUE(FailedWith(apply_toml(settings, text, "test.toml"), expected, ErrorMatch::kStartsWith)) << text;
  }
  ServeSettings settings;
  EXPECT_TRUE(
      FailedWith(apply_toml(settings, "[server\nport = 1\n", "test.toml"), "test.toml:1", ErrorMatch::kStartsWith));
}

TEST(ServeSettings, EnvironmentNamesAndValues) {
  EXPECT_EQ(environment_name("server.max_message_size"), "SWITCHBOARD_SERVER_MAX_MESSAGE_SIZE");
  const std::map<std::string, std::string> environment{
      {"SWITCHBOARD_SERVER_PORT", "7000"},
      {"SWITCHBOARD_SERVER_ALLOWED_ORIGINS", "https://a, https://b"},
      {"SWITCHBOARD_DEV_INSECURE_USER_QUERY", "yes"},
  };
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_environment(settings, [&](const char* name) -> const char* {
    auto it = environment.find(name);
    return it == environment.end() ? nullptr : it->second.c_str();
  })));
  EXPECT_EQ(settings.server.port, 7000);
  EXPECT_EQ(settings.server.allowed_origins, (std::vector<std::string>{"https://a", "https://b"}));
  EXPECT_TRUE(settings.insecure_user_query);
}

TEST(ServeSettings, FragmentTimeout) {
  ServeSettings settings;
  EXPECT_EQ(settings.server.fragment_timeout_ms, 10'000u);
  ASSERT_TRUE(Succeeded(apply_toml(settings, "[server]\nfragment_timeout_ms = 0\n", "f.toml")));
  EXPECT_EQ(settings.server.fragment_timeout_ms, 0u);  // no limit
  ASSERT_TRUE(Succeeded(apply_text(settings, "server.fragment_timeout_ms", "2500", "--fragment-timeout-ms")));
  EXPECT_EQ(settings.server.fragment_timeout_ms, 2500u);
  EXPECT_EQ(environment_name("server.fragment_timeout_ms"), "SWITCHBOARD_SERVER_FRAGMENT_TIMEOUT_MS");
}

TEST(ServeSettings, LaterSourcesWin) {
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings, "[server]\nport = 1000\nworkers = 3\n", "f.toml")));
  ASSERT_TRUE(Succeeded(apply_text(settings, "server.port", "2000", "SWITCHBOARD_SERVER_PORT")));
  ASSERT_TRUE(Succeeded(apply_text(settings, "server.port", "3000", "--port")));
  EXPECT_EQ(settings.server.port, 3000);
  EXPECT_EQ(settings.server.workers, 3u);  // only the file set it
}

// A token without exp would never expire: refused unless the operator says
// otherwise, in the file, the environment or a flag.
TEST(ServeSettings, RequireExpIsOnByDefaultAndCanBeSwitchedOff) {
  ServeSettings settings;
  EXPECT_TRUE(settings.hub.auth.require_exp);
  ASSERT_TRUE(Succeeded(apply_toml(settings, "[auth]\nrequire_exp = false\n", "f.toml")));
  EXPECT_FALSE(settings.hub.auth.require_exp);
  ASSERT_TRUE(Succeeded(apply_text(settings, "auth.require_exp", "true", "SWITCHBOARD_AUTH_REQUIRE_EXP")));
  EXPECT_TRUE(settings.hub.auth.require_exp);
  EXPECT_EQ(environment_name("auth.require_exp"), "SWITCHBOARD_AUTH_REQUIRE_EXP");
  const std::vector<KeyInfo>& keys = setting_keys();
  const auto key = std::find_if(keys.begin(), keys.end(),
                                [](const KeyInfo& info) { return std::string_view(info.key) == "auth.require_exp"; });
  ASSERT_NE(key, keys.end());
  EXPECT_STREQ(key->flag, "--auth-require-exp");
}

TEST(ServeSettings, TextErrors) {
  ServeSettings settings;
  EXPECT_TRUE(FailedWith(apply_text(settings, "server.port", "80x", "--port"),
                         "--port: server.port: must be a non-negative integer"));
  EXPECT_TRUE(FailedWith(apply_text(settings, "server.workers", "5000", "--workers"),
                         "--workers: server.workers: must be at least 0 and at most 1024 (got 5000)"));
  EXPECT_TRUE(FailedWith(apply_text(settings, "hub.require_subprotocol", "maybe", "X"),
                         "X: hub.require_subprotocol: must be true or false"));
  EXPECT_TRUE(FailedWith(apply_text(settings, "nope.key", "1", "X"), "X: nope.key: unknown key"));
}

TEST(ServeSettings, Validate) {
  ServeSettings settings;
  settings.broker_url = "redis://127.0.0.1:6379/2";
  EXPECT_TRUE(Succeeded(validate(settings)));
  settings.broker_url = "redis://127.0.0.1:99999";
  EXPECT_TRUE(FailedWith(validate(settings), "bad port", ErrorMatch::kMentions));
  settings.broker_url = "kafka://x";
  EXPECT_TRUE(FailedWith(validate(settings), "not a broker URL", ErrorMatch::kMentions));
  settings.broker_url = "memory://";
  settings.hub.namespaces.push_back({});
  settings.hub.namespaces.back().pattern = "bad pattern";
  EXPECT_TRUE(FailedWith(validate(settings), "bad pattern", ErrorMatch::kMentions));
}

TEST(ServeSettings, NamespaceFlag) {
  const base::Result<NamespaceOptions> options = parse_namespace_flag("chat:*=join_leave,no_client_publish");
  ASSERT_TRUE(Succeeded(options));
  EXPECT_EQ(options->pattern, "chat:*");
  EXPECT_TRUE(options->presence);
  EXPECT_TRUE(options->join_leave);
  EXPECT_FALSE(options->client_publish);
  const base::Result<NamespaceOptions> ticker = parse_namespace_flag("ticker:*=keep_latest");
  ASSERT_TRUE(Succeeded(ticker));
  EXPECT_EQ(ticker->slow_consumer, SlowConsumerPolicy::kKeepLatest);
  const base::Result<NamespaceOptions> log = parse_namespace_flag("log:*=drop_oldest");
  ASSERT_TRUE(Succeeded(log));
  EXPECT_EQ(log->slow_consumer, SlowConsumerPolicy::kDropOldest);
  const base::Result<NamespaceOptions> plain = parse_namespace_flag("*");
  ASSERT_TRUE(Succeeded(plain));
  EXPECT_FALSE(plain->presence);
  EXPECT_FALSE(parse_namespace_flag("x=fly").ok());
  EXPECT_FALSE(parse_namespace_flag("a b=presence").ok());
}

TEST(ServeSettings, PrintedConfigReadsBackTheSame) {
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings,
                                   "[server]\nhost = \"127.0.0.1\"\nallowed_origins = [\"it's \\\"quoted\\\"\"]\n"
                                   "[[namespaces]]\npattern = \"room:*\"\npresence = true\n"
                                   "[[namespaces]]\npattern = \"tick:*\"\nslow_consumer = \"keep-latest\"\n",
                                   "a.toml")));
  const std::string printed = to_toml(settings);
  ServeSettings again;
  ASSERT_TRUE(Succeeded(apply_toml(again, printed, "printed"))) << printed;
  EXPECT_EQ(to_toml(again), printed);
  EXPECT_EQ(again.server.allowed_origins[0], "it's \"quoted\"");
  EXPECT_EQ(value_as_toml(settings, "server.host"), "'127.0.0.1'");
}

TEST(ServeSettings, PrintedConfigHidesTheBrokerPassword) {
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings, "[broker]\nurl = \"redis://app:hunter2@db:6379/1\"\n", "a.toml")));
  const std::string printed = to_toml(settings);
  EXPECT_EQ(printed.find("hunter2"), std::string::npos) << printed;
  EXPECT_NE(printed.find("url = { redacted = 'from a.toml' }  # redis://app:***@db:6379/1"), std::string::npos)
      << printed;
  ServeSettings plain;
  ASSERT_TRUE(Succeeded(apply_toml(plain, "[broker]\nurl = \"redis://db:6379/1\"\n", "a.toml")));
  EXPECT_NE(to_toml(plain).find("url = 'redis://db:6379/1'"), std::string::npos);
}

TEST(ServeSettings, HeldBytesCaps) {
  ServeSettings settings;
  EXPECT_EQ(settings.hub.max_held_bytes_per_connection, 0u);  // twice server.max_buffered_bytes
  EXPECT_EQ(settings.hub.max_held_bytes, 256u << 20);
  ASSERT_TRUE(Succeeded(apply_toml(
      settings, "[hub]\nmax_held_bytes_per_connection = 1048576\nmax_held_bytes = 33554432\n", "test.toml")));
  EXPECT_EQ(settings.hub.max_held_bytes_per_connection, 1u << 20);
  EXPECT_EQ(settings.hub.max_held_bytes, 32u << 20);
  EXPECT_TRUE(Succeeded(apply_text(settings, "hub.max_held_bytes", "2048", "--max-held-bytes")));
  EXPECT_EQ(settings.hub.max_held_bytes, 2048u);
  EXPECT_TRUE(FailedWith(apply_text(settings, "hub.max_held_bytes", "0", "--max-held-bytes"),
                         "--max-held-bytes: hub.max_held_bytes: must be at least 1 and at most 1099511627776 (got 0)"));
}

TEST(ServeSettings, RpcLimits) {
  const ServeSettings defaults;
  EXPECT_EQ(defaults.hub.max_pending_rpcs_per_connection, 128u);
  EXPECT_EQ(defaults.hub.max_pending_rpcs, 4096u);
  EXPECT_EQ(defaults.hub.max_pending_rpc_bytes, 64u << 20);
  EXPECT_EQ(defaults.hub.max_rpc_answer_size, 1u << 20);
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings,
                                   "[hub]\nmax_pending_rpcs_per_connection = 4\nmax_pending_rpcs = 100\n"
                                   "max_pending_rpc_bytes = 5000000\nmax_rpc_answer_size = 65536\n",
                                   "a.toml")));
  EXPECT_EQ(settings.hub.max_pending_rpcs_per_connection, 4u);
  EXPECT_EQ(settings.hub.max_pending_rpcs, 100u);
  EXPECT_EQ(settings.hub.max_pending_rpc_bytes, 5000000u);
  EXPECT_EQ(settings.hub.max_rpc_answer_size, 65536u);
  ASSERT_TRUE(Succeeded(apply_text(settings, "hub.max_pending_rpcs", "7", "--max-pending-rpcs")));
  EXPECT_EQ(settings.hub.max_pending_rpcs, 7u);
  EXPECT_TRUE(FailedWith(apply_text(settings, "hub.max_pending_rpcs_per_connection", "0", "X"),
                         "X: hub.max_pending_rpcs_per_connection: must be at least 1 (got 0)"));
  EXPECT_TRUE(FailedWith(apply_text(settings, "hub.max_rpc_answer_size", "0", "X"),
                         "X: hub.max_rpc_answer_size: must be at least 1 and at most 1099511627776 (got 0)"));
}

TEST(ServeSettings, SendPermissionsAndRate) {
  const ServeSettings defaults;
  EXPECT_EQ(defaults.send_permission, "authenticated");
  EXPECT_EQ(defaults.hub.send_permission, SendPermission::kAuthenticated);
  EXPECT_FALSE(defaults.hub.hide_online);
  EXPECT_EQ(defaults.hub.limits.sends_per_s, 10u);
  EXPECT_EQ(defaults.hub.limits.sends_burst, 50u);
  EXPECT_EQ(send_permission_from_name("authenticated"), SendPermission::kAuthenticated);
  EXPECT_EQ(send_permission_from_name("anyone"), SendPermission::kAnyone);
  EXPECT_EQ(send_permission_from_name("token"), SendPermission::kListedUsers);
  EXPECT_EQ(send_permission_from_name("everyone"), std::nullopt);
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings,
                                   "[hub]\nsend_permission = \"token\"\nhide_online = true\n"
                                   "[limits]\nsends_per_s = 2\nsends_burst = 4\n",
                                   "a.toml")));
  EXPECT_EQ(settings.send_permission, "token");
  EXPECT_TRUE(settings.hub.hide_online);
  EXPECT_EQ(settings.hub.limits.sends_per_s, 2u);
  EXPECT_EQ(settings.hub.limits.sends_burst, 4u);
  EXPECT_TRUE(Succeeded(validate(settings)));
  ASSERT_TRUE(Succeeded(apply_text(settings, "hub.send_permission", "everyone", "--send-permission")));
  EXPECT_TRUE(FailedWith(validate(settings), "hub.send_permission: 'everyone' is not authenticated, anyone or token"));
  EXPECT_TRUE(FailedWith(apply_text(settings, "limits.sends_burst", "0", "X"),
                         "X: limits.sends_burst: must be at least 1 (got 0)"));
}

// The environment of a test: a map, looked up like getenv.
struct FakeEnvironment {
  std::map<std::string, std::string> variables;
  EnvironmentLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = variables.find(name);
      return it == variables.end() ? nullptr : it->second.c_str();
    };
  }
};

// A file in the temporary directory that is removed with this object.
struct TemporaryFile {
  explicit TemporaryFile(const std::string& text) {
    char name[] = "/tmp/serve_settings_test_XXXXXX";
    const int fd = ::mkstemp(name);
    path = name;
    ::close(fd);
    std::ofstream(path) << text;
  }
  ~TemporaryFile() { std::remove(path.c_str()); }
  std::string path;
};

const std::string kGoodSecret(32, 's');

TEST(ServeSettings, InsecureUserQueryWithAuthRequiredNeedsTheOverride) {
  ServeSettings settings;
  settings.hub.auth.required = true;
  settings.hub.auth.hmac_secret = kGoodSecret;
  EXPECT_TRUE(Succeeded(validate(settings)));
  settings.insecure_user_query = true;
  const base::Result<void> refused = validate(settings);
  EXPECT_TRUE(FailedWith(refused, "dev.insecure_user_query", ErrorMatch::kMentions));
  EXPECT_TRUE(FailedWith(refused, "auth.required", ErrorMatch::kMentions));
  EXPECT_TRUE(FailedWith(refused, "dev.insecure_user_query_bypasses_auth", ErrorMatch::kMentions));
  ASSERT_TRUE(Succeeded(
      apply_text(settings, "dev.insecure_user_query_bypasses_auth", "true", "--insecure-user-query-bypasses-auth")));
  EXPECT_TRUE(Succeeded(validate(settings)));
  // Without auth.required there is nothing to bypass.
  ServeSettings development;
  development.insecure_user_query = true;
  EXPECT_TRUE(Succeeded(validate(development)));
}

TEST(ServeSettings, UnknownSwitchboardVariablesAreRefused) {
  EXPECT_TRUE(FailedWith(check_environment_names({"PATH", "SWITCHBOARD_SERVER_PROT", "SWITCHBOARD_SERVER_PORT"}),
                         "SWITCHBOARD_SERVER_PROT: not a setting (did you mean SWITCHBOARD_SERVER_PORT?); settings are "
                         "SWITCHBOARD_<SECTION>_<KEY> as listed in docs/CONFIG.md"));
  const base::Result<void> unlike = check_environment_names({"SWITCHBOARD_COLOUR"});
  ASSERT_TRUE(FailedWith(unlike, "SWITCHBOARD_COLOUR: not a setting", ErrorMatch::kMentions));
  EXPECT_EQ(unlike.error().find("did you mean"), std::string::npos) << unlike.error();
  // Names that are not settings but are used: the config file, and the
  // binary the test harnesses run (they pass their environment on).
  EXPECT_TRUE(Succeeded(check_environment_names({"SWITCHBOARD_CONFIG", "SWITCHBOARD_BIN", "SWITCHBOARD_API_KEY",
                                                 "SWITCHBOARD_AUTH_HMAC_SECRET", "SWITCHBOARDS", "HOME"})));
  for (const KeyInfo& key : setting_keys())
    EXPECT_TRUE(Succeeded(check_environment_names({environment_name(key.key)})));
}

TEST(ServeSettings, ASecretTooShortForItsAlgorithmIsRefusedBeforeTheServerStarts) {
  ServeSettings settings;
  settings.hub.auth.hmac_secret = "abc";
  EXPECT_TRUE(FailedWith(validate(settings), "auth.hmac_secret: HS256 secret must be at least 32 bytes"));
  settings.hub.auth.hmac_algorithm = "HS512";
  settings.hub.auth.hmac_secret = std::string(63, 's');
  EXPECT_TRUE(FailedWith(validate(settings), "auth.hmac_secret: HS512 secret must be at least 64 bytes"));
  settings.hub.auth.hmac_secret.push_back('s');
  EXPECT_TRUE(Succeeded(validate(settings)));
  settings.hub.auth.hmac_algorithm = "none";
  EXPECT_TRUE(FailedWith(validate(settings), "auth.hmac_algorithm: unknown algorithm 'none'"));
  settings.hub.auth.hmac_algorithm = "RS256";
  EXPECT_TRUE(FailedWith(validate(settings), "auth.hmac_secret: RS256 needs a public key, not a secret"));
}

TEST(ServeSettings, SecretsFromTheEnvironmentAreReadBackByReference) {
  FakeEnvironment environment{{{"SWITCHBOARD_API_KEY", "api-key-1"},
                               {"SWITCHBOARD_AUTH_HMAC_SECRET", kGoodSecret},
                               {"SWITCHBOARD_BROKER_URL", "redis://:hunter2@db:6379/1"}}};
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_environment(settings, environment.lookup())));
  const std::string printed = to_toml(settings);
  EXPECT_EQ(printed.find("api-key-1"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("hunter2"), std::string::npos) << printed;
  EXPECT_NE(printed.find("key = { env = 'SWITCHBOARD_API_KEY' }"), std::string::npos) << printed;
  EXPECT_NE(printed.find("hmac_secret = { env = 'SWITCHBOARD_AUTH_HMAC_SECRET' }"), std::string::npos) << printed;
  EXPECT_NE(printed.find("url = { env = 'SWITCHBOARD_BROKER_URL' }  # redis://:***@db:6379/1"), std::string::npos)
      << printed;
  EXPECT_TRUE(redacted_secrets(settings).empty());
  ServeSettings again;
  ASSERT_TRUE(Succeeded(apply_toml(again, printed, "printed.toml", environment.lookup()))) << printed;
  EXPECT_EQ(again.api_key, "api-key-1");
  EXPECT_EQ(again.hub.auth.hmac_secret, kGoodSecret);
  EXPECT_EQ(again.broker_url, "redis://:hunter2@db:6379/1");
  EXPECT_EQ(to_toml(again), printed);
  // Read back where the variable is not set: refused, not silently empty.
  ServeSettings elsewhere;
  EXPECT_TRUE(FailedWith(apply_toml(elsewhere, "[api]\nkey = { env = \"SWITCHBOARD_API_KEY\" }\n", "printed.toml",
                                    FakeEnvironment{}.lookup()),
                         "printed.toml: api.key: the environment variable SWITCHBOARD_API_KEY is not set"));
}

TEST(ServeSettings, SecretsFromAFileAreReadBackByReference) {
  const TemporaryFile key("api-key-2\n");
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings, "[api]\nkey = { file = \"" + key.path + "\" }\n", "a.toml")));
  EXPECT_EQ(settings.api_key, "api-key-2");  // without the file's newline
  const std::string printed = to_toml(settings);
  EXPECT_NE(printed.find("key = { file = '" + key.path + "' }"), std::string::npos) << printed;
  ServeSettings again;
  ASSERT_TRUE(Succeeded(apply_toml(again, printed, "printed.toml"))) << printed;
  EXPECT_EQ(again.api_key, "api-key-2");
  const TemporaryFile empty("");
  ServeSettings bad;
  EXPECT_TRUE(FailedWith(apply_toml(bad, "[api]\nkey = { file = \"" + empty.path + "\" }\n", "a.toml"),
                         "a.toml: api.key: '" + empty.path + "' is empty"));
  EXPECT_TRUE(FailedWith(apply_toml(bad, "[api]\nkey = { file = \"/nonexistent/key\" }\n", "a.toml"),
                         "a.toml: api.key: cannot read '/nonexistent/key'"));
  EXPECT_TRUE(FailedWith(apply_toml(bad, "[api]\nkey = { path = \"x\" }\n", "a.toml"),
                         "a.toml: api.key: must be a string, { env = \"VARIABLE\" } or { file = \"PATH\" }"));
  EXPECT_TRUE(FailedWith(apply_toml(bad, "[server]\nhost = { env = \"HOST\" }\n", "a.toml"),
                         "a.toml: server.host: must be a string"));
}

TEST(ServeSettings, SecretsWrittenInTheFileAreRedactedAndRefusedWhenReadBack) {
  ServeSettings settings;
  ASSERT_TRUE(Succeeded(apply_toml(settings,
                                   "[api]\nkey = \"api-key-3\"\n[auth]\nhmac_secret = \"" + kGoodSecret +
                                       "\"\n[broker]\nurl = \"redis://app:hunter2@db:6379/1\"\n",
                                   "/etc/sb.toml")));
  const std::string printed = to_toml(settings);
  EXPECT_EQ(printed.find("api-key-3"), std::string::npos) << printed;
  EXPECT_EQ(printed.find(kGoodSecret), std::string::npos) << printed;
  EXPECT_NE(printed.find("key = { redacted = 'from /etc/sb.toml' }"), std::string::npos) << printed;
  EXPECT_NE(printed.find("WARNING"), std::string::npos) << printed;
  EXPECT_EQ(redacted_secrets(settings), (std::vector<std::string>{"auth.hmac_secret", "api.key", "broker.url"}));
  ServeSettings again;
  EXPECT_TRUE(
      FailedWith(apply_toml(again, printed, "printed.toml"),
                 "printed.toml: api.key: not printed by --print-config (from /etc/sb.toml): write the value here, or "
                 "{ env = \"VARIABLE\" } or { file = \"PATH\" }"));
}

}  // namespace
}  // namespace switchboard::cli
