#!/usr/bin/python3
"""`switchboard serve` settings end to end: a TOML file, SWITCHBOARD_*
variables and flags, in that order of precedence (--print-config shows the
result); a bad setting stops startup with a message naming it; and a
namespace from the file takes effect on a running server.
"""
import asyncio
import json
import os
import re
import subprocess
import tempfile
import tomllib
import unittest
import urllib.request

import websockets

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") or k == "SWITCHBOARD_BIN"}


def serve(*arguments, env=None, timeout=15):
    return subprocess.run([BINARY, "serve", *arguments], capture_output=True, text=True, timeout=timeout,
                          env={**CLEAN_ENV, **(env or {})})


class ServeConfigTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def write(self, text, name="switchboard.toml"):
        path = os.path.join(self.directory.name, name)
        with open(path, "w") as file:
            file.write(text)
        return path

    def test_file_then_environment_then_flags(self):
        path = self.write('[server]\nport = 1000\nworkers = 3\nhost = "127.0.0.1"\n'
                          '[hub]\nrpc_timeout_ms = 1234\n'
                          '[[namespaces]]\npattern = "chat:*"\njoin_leave = true\n')
        result = serve("--config", path, "--port", "3000", "--print-config",
                       env={"SWITCHBOARD_SERVER_PORT": "2000", "SWITCHBOARD_SERVER_WORKERS": "4"})
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = tomllib.loads(result.stdout)
        self.assertEqual(printed["server"]["port"], 3000)      # flag over environment over file
        self.assertEqual(printed["server"]["workers"], 4)      # environment over file
        self.assertEqual(printed["server"]["host"], "127.0.0.1")  # file over default
        self.assertEqual(printed["hub"]["rpc_timeout_ms"], 1234)
        self.assertEqual(printed["namespaces"][0]["pattern"], "chat:*")
        self.assertTrue(printed["namespaces"][0]["presence"])

    def test_log_format_is_printed(self):
        self.assertEqual(tomllib.loads(serve("--print-config").stdout)["log"]["format"], "text")
        path = self.write('[log]\nformat = "json"\n')
        result = serve("--config", path, "--print-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(tomllib.loads(result.stdout)["log"]["format"], "json")
        result = serve("--config", path, "--log-format", "text", "--print-config")
        self.assertEqual(tomllib.loads(result.stdout)["log"]["format"], "text")

    def test_json_logs_are_one_object_per_line(self):
        server = subprocess.Popen([BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2",
                                   "--log-format", "json", "--insecure-user-query"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8", env=CLEAN_ENV)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            reason = 'bye "ann" \u00e9\\'

            async def body():
                async with websockets.connect("ws://127.0.0.1:%s/?user=ann" % match.group(1),
                                              subprotocols=["switchboard.v1.json"]) as ws:
                    await ws.send(json.dumps({"id": 1, "type": "ping"}))
                    await asyncio.wait_for(ws.recv(), 5)
                    await ws.close(code=1000, reason=reason)

            asyncio.run(body())
        finally:
            server.terminate()
            _, stderr = server.communicate(timeout=15)
            server.stdout.close()
        self.assertEqual(server.returncode, 0, stderr)
        self.assertTrue(stderr.endswith("\n"), stderr)
        lines = [json.loads(line) for line in stderr.splitlines()]  # every line, or the test fails here
        for line in lines:
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(line["level"], ("debug", "info", "warn", "error"))
        opened = [line for line in lines if line.get("event") == "open"]
        closed = [line for line in lines if line.get("event") == "close"]
        self.assertEqual(len(opened), 1, stderr)
        self.assertEqual(len(closed), 1, stderr)
        self.assertEqual(opened[0]["user"], "ann")
        self.assertTrue(opened[0]["peer"].startswith("127.0.0.1"), opened[0])
        self.assertNotIn("message", opened[0])
        self.assertEqual(closed[0]["client"], opened[0]["client"])
        self.assertEqual((closed[0]["user"], closed[0]["code"], closed[0]["reason"]), ("ann", "1000", reason))
        # Lines that are not key=value keep their text.
        self.assertIn("stopped", [line.get("message") for line in lines])
        self.assertTrue(any(line["level"] == "warn" and "dev.insecure_user_query" in line.get("message", "")
                            for line in lines), stderr)

    def test_config_path_from_the_environment(self):
        path = self.write("[server]\nport = 4321\n")
        result = serve("--print-config", env={"SWITCHBOARD_CONFIG": path})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(tomllib.loads(result.stdout)["server"]["port"], 4321)

    def test_no_config_at_all_is_a_useful_single_node(self):
        printed = tomllib.loads(serve("--print-config").stdout)
        self.assertEqual(printed["server"]["port"], 8080)
        self.assertEqual(printed["broker"]["url"], "memory://")

    def test_bad_settings_stop_startup_naming_the_key(self):
        cases = [
            (["--config", self.write("[server]\nprot = 1\n", "a.toml")], {}, "server.prot: unknown key"),
            (["--config", self.write("[server]\nport = 99999\n", "b.toml")], {}, "server.port: must be at least 0"),
            (["--config", self.write("[server\n", "c.toml")], {}, "c.toml:1"),
            (["--config", os.path.join(self.directory.name, "missing.toml")], {}, "cannot read the config file"),
            ([], {"SWITCHBOARD_SERVER_WORKERS": "many"}, "SWITCHBOARD_SERVER_WORKERS: server.workers"),
            (["--port", "http"], {}, "--port: server.port"),
            (["--broker", "redis://127.0.0.1:99999"], {}, "broker.url: bad port '99999'"),
            (["--broker", "kafka://x"], {}, "broker.url: 'kafka://x' is not a broker URL"),
            (["--namespace", "bad name=presence"], {}, "--namespace: pattern 'bad name'"),
            (["--log-format", "xml"], {}, "log.format: 'xml' is not text or json"),
            (["--config", self.write('[log]\nformat = "JSON"\n', "d.toml")], {}, "log.format: 'JSON' is not"),
            ([], {"SWITCHBOARD_LOG_FORMAT": "yaml"}, "log.format: 'yaml' is not text or json"),
        ]
        for arguments, env, expected in cases:
            result = serve(*arguments, env=env)
            self.assertEqual(result.returncode, 2, (arguments, env, result.stderr))
            self.assertIn(expected, result.stderr, (arguments, env))
            self.assertEqual(result.stdout, "", "started although the settings were bad")

    def test_secrets_are_never_printed(self):
        secret = "a-secret-that-is-long-enough-for-hs256!!"
        path = self.write('[auth]\nhmac_secret = "%s"\n[api]\nkey = "api-key-1"\n' % secret)
        result = serve("--config", path, "--print-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn(secret, result.stdout)
        self.assertNotIn("api-key-1", result.stdout)
        printed = tomllib.loads(result.stdout)
        self.assertEqual(printed["auth"]["hmac_secret"], {"redacted": "from %s" % path})
        self.assertEqual(printed["api"]["key"], {"redacted": "from %s" % path})
        self.assertIn("api.key", result.stderr)  # said loudly, on the terminal too

    def test_printed_secrets_read_back_by_reference_or_not_at_all(self):
        # From the environment: printed as a reference to the variable, so
        # the printed file starts a server whose API is still on.
        env = {"SWITCHBOARD_API_KEY": "api-key-2"}
        result = serve("--print-config", "--host", "127.0.0.1", "--port", "0", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("api-key-2", result.stdout)
        self.assertEqual(tomllib.loads(result.stdout)["api"]["key"], {"env": "SWITCHBOARD_API_KEY"})
        printed = self.write(result.stdout, "printed.toml")
        server = subprocess.Popen([BINARY, "serve", "--config", printed], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env={**CLEAN_ENV, **env})
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            request = urllib.request.Request("http://127.0.0.1:%s/api/publish" % match.group(1),
                                             data=b'{"channel": "news", "data": 1}',
                                             headers={"Authorization": "apikey api-key-2"})
            with urllib.request.urlopen(request, timeout=10) as response:
                self.assertEqual(response.status, 200)
        finally:
            server.terminate()
            server.wait(timeout=15)
            server.stdout.close()
        # The same file without the variable: refused, naming the key.
        result = serve("--config", printed)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("api.key: the environment variable SWITCHBOARD_API_KEY is not set", result.stderr)
        # Written in the file: the printed copy is refused, naming the key,
        # rather than starting a server without its API.
        source = self.write('[api]\nkey = "api-key-3"\n', "source.toml")
        result = serve("--config", source, "--print-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        copy = self.write(result.stdout, "copy.toml")
        result = serve("--config", copy)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("api.key: not printed by --print-config", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_insecure_user_query_with_auth_required_needs_the_override(self):
        env = {"SWITCHBOARD_AUTH_HMAC_SECRET": "x" * 32}
        result = serve("--insecure-user-query", "--auth-required", "--print-config", env=env)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("dev.insecure_user_query", result.stderr)
        self.assertIn("--insecure-user-query-bypasses-auth", result.stderr)
        self.assertEqual(result.stdout, "")
        result = serve("--insecure-user-query", "--auth-required", "--insecure-user-query-bypasses-auth",
                       "--print-config", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(tomllib.loads(result.stdout)["dev"]["insecure_user_query_bypasses_auth"])

    def test_unknown_switchboard_variables_are_refused(self):
        result = serve("--print-config", env={"SWITCHBOARD_SERVER_PROT": "9000"})
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("SWITCHBOARD_SERVER_PROT: not a setting (did you mean SWITCHBOARD_SERVER_PORT?)", result.stderr)
        self.assertEqual(result.stdout, "")
        # SWITCHBOARD_BIN (in CLEAN_ENV: the harness's) and SWITCHBOARD_CONFIG are not settings but allowed.
        path = self.write("[server]\nport = 4321\n")
        result = serve("--print-config", env={"SWITCHBOARD_CONFIG": path, "SWITCHBOARD_BIN": BINARY})
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_short_secret_is_refused_everywhere_with_the_same_message(self):
        expected = "auth.hmac_secret: HS256 secret must be at least 32 bytes"
        env = {"SWITCHBOARD_AUTH_HMAC_SECRET": "abc"}
        for arguments in (["--print-config"], ["--host", "127.0.0.1", "--port", "0"]):
            result = serve(*arguments, env=env)
            self.assertEqual(result.returncode, 2, (arguments, result.stdout))
            self.assertIn(expected, result.stderr)
            self.assertEqual(result.stdout, "")
        for arguments, token_env in ((["--secret", "abc"], {}), ([], env)):
            result = subprocess.run([BINARY, "token", "--user", "ann", *arguments], capture_output=True, text=True,
                                    timeout=15, env={**CLEAN_ENV, **token_env})
            self.assertEqual(result.returncode, 2, (arguments, result.stdout))
            self.assertIn(expected, result.stderr)
            self.assertEqual(result.stdout, "")
        result = subprocess.run([BINARY, "token", "--user", "ann", "--secret", "x" * 48, "--algorithm", "HS384"],
                                capture_output=True, text=True, timeout=15, env=CLEAN_ENV)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = subprocess.run([BINARY, "token", "--user", "ann", "--secret", "x" * 47, "--algorithm", "HS384"],
                                capture_output=True, text=True, timeout=15, env=CLEAN_ENV)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("auth.hmac_secret: HS384 secret must be at least 48 bytes", result.stderr)

    def test_bad_auth_settings_stop_startup(self):
        cases = [
            (["--auth-required"], {}, "auth.required: needs a key"),
            ([], {"SWITCHBOARD_AUTH_HMAC_SECRET": "short"}, "auth.hmac_secret:"),
            ([], {"SWITCHBOARD_AUTH_HMAC_SECRET": "x" * 40, "SWITCHBOARD_AUTH_HMAC_ALGORITHM": "none"},
             "auth.hmac_algorithm: unknown algorithm"),
            (["--auth-jwks-file", os.path.join(self.directory.name, "missing.json")], {}, "auth.jwks_file: cannot read"),
            (["--auth-jwks-file", self.write('{"keys":[{"kty":"oct"}]}', "bad.json")], {}, "auth.jwks_file:"),
            (["--auth-public-key-file", self.write("not a pem", "key.pem")], {}, "auth.public_key_file:"),
            ([], {"SWITCHBOARD_LOG_LEVEL": "loud"}, "log.level: 'loud' is not"),
        ]
        for arguments, env, expected in cases:
            result = serve("--host", "127.0.0.1", "--port", "0", *arguments, env=env)
            self.assertEqual(result.returncode, 2, (arguments, env, result.stderr))
            self.assertIn(expected, result.stderr, (arguments, env))
            self.assertEqual(result.stdout, "", "started although the settings were bad")

    def test_a_port_another_server_listens_on_is_refused(self):
        # Every worker's listener uses SO_REUSEPORT; without a check a second
        # server would start and the kernel would split connections between
        # the two processes.
        first = subprocess.Popen([BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=CLEAN_ENV)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", first.stdout.readline())
            self.assertIsNotNone(match)
            port = match.group(1)
            for arguments in (["--host", "127.0.0.1"], ["--host", "0.0.0.0", "--echo"]):
                second = serve(*arguments, "--port", port, "--workers", "2")
                self.assertEqual(second.returncode, 2, (arguments, second.stdout, second.stderr))
                self.assertIn(":%s" % port, second.stderr)
                self.assertIn("in use", second.stderr)
                self.assertEqual(second.stdout, "", "the second server started")
            # The first still answers every new connection (the second's
            # would have answered /metrics with 404 for --echo: no hub).
            for _ in range(20):
                with urllib.request.urlopen("http://127.0.0.1:%s/readyz" % port, timeout=10) as response:
                    self.assertEqual(response.status, 200)
            self.assertIsNone(first.poll())
        finally:
            first.terminate()
            first.wait(timeout=15)
            first.stdout.close()

    def test_namespace_from_the_file_applies(self):
        path = self.write('[server]\nhost = "127.0.0.1"\nport = 0\nworkers = 1\n'
                          '[[namespaces]]\npattern = "news"\nclient_publish = false\n')
        server = subprocess.Popen([BINARY, "serve", "--config", path], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=CLEAN_ENV)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)

            async def body():
                async with websockets.connect("ws://127.0.0.1:%s/" % match.group(1),
                                              subprotocols=["switchboard.v1.json"]) as ws:
                    await ws.send(json.dumps({"id": 1, "type": "publish", "channel": "news", "data": 1}))
                    return json.loads(await asyncio.wait_for(ws.recv(), 5))

            self.assertEqual(asyncio.run(body())["code"], 109)
        finally:
            server.terminate()
            server.wait(timeout=15)
            server.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
