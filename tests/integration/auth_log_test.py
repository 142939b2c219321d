#!/usr/bin/python3
"""Authentication failures in the server's log: a 401 at the upgrade, a bad
`connect` (4001), a bad `refresh` or subscription token, and an HTTP API
request with a wrong key each write one warn line with the client's address
and the reason, never the token or the key; a flood of them writes a burst
and then one summary line, so it cannot fill the disk.
"""
import asyncio
import os
import re
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import jwt

import protocol_client
from protocol_client import Client, run, stop_server
from auth_test import SECRET, server_log, upgrade_status, wait_for_log_lines

API_KEY = "the-api-key-of-this-test-0123456789"
LINE = "event=auth_failure "
# The burst logged before lines are counted instead (src/hub/auth_failure_log.h).
BURST = 20


def token(user, **extra):
    now = int(time.time())
    body = {"sub": user, "iat": now, "exp": now + 300}
    body.update(extra)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, SECRET, algorithm="HS256")


def api_status(port, key):
    request = urllib.request.Request("http://127.0.0.1:%d/api/stats" % port,
                                     headers={"Authorization": "apikey " + key})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class AuthFailureLogTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        config = os.path.join(self.directory.name, "serve.toml")
        with open(config, "w") as file:
            file.write('[auth]\nrequired = true\nhmac_secret = "%s"\n[api]\nkey = "%s"\n' % (SECRET, API_KEY))
        self.server, self.port = protocol_client.start_server(config, "--workers", "2")
        self.addCleanup(stop_server, self.server)
        self.url = "ws://127.0.0.1:%d/" % self.port

    def assert_logged(self, count, where, reason, secret):
        """The count-th failure line: at warn, with the address and the
        reason, and without the secret it was about."""
        line = wait_for_log_lines(self.server, LINE, count)[count - 1]
        self.assertRegex(line, r" warn ")
        self.assertIn("peer=127.0.0.1", line)
        self.assertIn("where=" + where, line)
        self.assertIn('reason="%s"' % reason, line)
        self.assertNotIn(secret, server_log(self.server))

    def test_each_failure_is_logged_with_address_and_reason_never_the_token(self):
        forged = token("mallory")[:-3] + "AAA"
        expired = token("nina", exp=int(time.time()) - 60)
        subscription = token("nina", channel="$room")

        async def scenario():
            self.assertEqual(await upgrade_status(self.url, forged), 401)
            self.assert_logged(1, "upgrade", "bad signature", forged)
            self.assertEqual(await upgrade_status(self.url, headers={"Authorization": "Bearer " + subscription}),
                             401)
            self.assert_logged(2, "upgrade", "a subscription token is not a connection token", subscription)
            client = await Client.open(self.url)
            self.assertEqual((await client.command("connect", token=expired))["code"], 120)
            self.assertEqual(await client.closed_with(), (4001, "invalid token"))
            self.assert_logged(3, "connect", "token expired", expired)
            client = await Client.open(self.url, token("nina"))
            self.assertEqual((await client.command("refresh", token=forged))["code"], 120)
            self.assert_logged(4, "refresh", "bad signature", forged)
            reply = await client.command("subscribe", channel="$room", token=expired)
            self.assertEqual(reply["code"], 120)
            self.assert_logged(5, "subscribe", "token expired", expired)
            await client.ws.close()

        run(scenario())
        self.assertEqual(api_status(self.port, "wrong-key"), 401)
        self.assert_logged(6, "api", "wrong API key", "wrong-key")
        self.assertEqual(api_status(self.port, API_KEY), 200)
        self.assertNotIn(API_KEY, server_log(self.server))

    def test_a_flood_writes_a_burst_then_a_summary(self):
        flood = 200

        async def scenario():
            for _ in range(flood):
                self.assertEqual(await upgrade_status(self.url, "not-a-token"), 401)

        run(scenario())
        # The summary comes when the window ends, without another failure.
        deadline = time.monotonic() + 30
        while True:
            log = server_log(self.server).splitlines()
            lines = [line for line in log if LINE in line]
            summaries = [line for line in log if "event=auth_failures_suppressed" in line]
            suppressed = sum(int(re.search(r" count=(\d+)", line).group(1)) for line in summaries)
            if len(lines) + suppressed >= flood or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # pacing the poll
        self.assertEqual(len(lines) + suppressed, flood, summaries)
        self.assertGreaterEqual(len(lines), BURST)
        self.assertLessEqual(len(lines), BURST * len(summaries))
        for line in summaries:
            self.assertIn(" warn ", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
