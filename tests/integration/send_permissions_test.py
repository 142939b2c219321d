#!/usr/bin/python3
"""Who may `send` to a user, how often, and whether the reply tells that
the user is online: `switchboard serve` with tokens (PyJWT) but without
auth.required, so that anonymous and authenticated connections meet.

- hub.send_permission = "authenticated" (the default): an anonymous send is
  error 109 and nothing is delivered; "anyone" allows it; "token" allows
  only the users named in the token's `send_to` claim, which also narrows a
  token under the other settings.
- limits.sends_per_s / sends_burst: a send over the connection's bucket is
  error 121 and is not delivered; other commands are not limited by it.
- hub.hide_online: the reply is {} whether or not the user is connected;
  the HTTP API (backends) still says.
"""
import asyncio
import json
import os
import tempfile
import time
import unittest
import urllib.request

import jwt

import protocol_client
from protocol_client import Client, refused, run, stop_server

SECRET = "integration-test-secret-of-at-least-32-bytes"
API_KEY = "send-permissions-test-api-key"


def token(user, **extra):
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 300, **extra}, SECRET, algorithm="HS256")


def api_send(port, user, data):
    request = urllib.request.Request("http://127.0.0.1:%d/api/send" % port, method="POST",
                                     data=json.dumps({"user": user, "data": data}).encode(),
                                     headers={"Authorization": "apikey " + API_KEY,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


class SendPermissionsTest(unittest.TestCase):
    def start(self, *settings):
        """The hub with an HMAC key (tokens optional) and the HTTP API, plus
        settings (TOML lines after [hub] or a section of their own)."""
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        config = os.path.join(directory.name, "serve.toml")
        with open(config, "w") as file:
            file.write('[auth]\nhmac_secret = "%s"\n[api]\nkey = "%s"\n%s\n' % (SECRET, API_KEY, "\n".join(settings)))
        server, port = protocol_client.start_server(config, "--workers", "2")
        self.addCleanup(stop_server, server)
        return port, "ws://127.0.0.1:%d/" % port

    async def open(self, url, user_token=None):
        """A client closed when the scenario ends (an open one would make the
        server's drain wait for it)."""
        client = await Client.open(url, token=user_token)
        self.clients.append(client)
        return client

    def play(self, scenario):
        self.clients = []

        async def closing():
            try:
                await scenario()
            finally:
                for client in self.clients:
                    await client.ws.close()
        run(closing())

    async def expect_direct(self, client, sender, data):
        self.assertEqual(await client.recv(), {"type": "direct", "from": sender, "data": data})

    async def expect_nothing(self, client):
        """No frame for client: a ping's pong is the next thing it gets."""
        pong = await client.command("ping")
        self.assertEqual(pong["type"], "pong")
        self.assertEqual(client.backlog, [])

    def test_by_default_anonymous_connections_may_not_send(self):
        port, url = self.start()

        async def scenario():
            bob = await self.open(url, token("bob"))
            anonymous = await self.open(url)
            answer = await anonymous.command("send", user="bob", data="hi")
            self.assertEqual((answer["type"], answer.get("code")), ("error", 109), answer)
            self.assertIn("authenticated", answer["message"])
            # The same answer whether or not the user exists: nothing to learn.
            nobody = await anonymous.command("send", user="nobody", data="hi")
            self.assertEqual((nobody.get("code"), nobody.get("message")), (109, answer["message"]))
            await self.expect_nothing(bob)
            # An authenticated connection may.
            alice = await self.open(url, token("alice"))
            self.assertEqual((await alice.command("send", user="bob", data="hi"))["data"], {"online": True})
            await self.expect_direct(bob, "alice", "hi")
        self.play(scenario)
        self.assertEqual(refused(port, "permission_denied"), 2)

    def test_anyone_may_send_when_the_operator_says_so(self):
        _, url = self.start('[hub]\nsend_permission = "anyone"')

        async def scenario():
            bob = await self.open(url, token("bob"))
            anonymous = await self.open(url)
            self.assertEqual((await anonymous.command("send", user="bob", data=1))["data"], {"online": True})
            await self.expect_direct(bob, None, 1)
            self.assertEqual((await anonymous.command("send", user="nobody", data=1))["data"], {"online": False})
        self.play(scenario)

    def test_token_setting_allows_only_the_users_the_token_names(self):
        _, url = self.start('[hub]\nsend_permission = "token"')

        async def scenario():
            bob = await self.open(url, token("bob"))
            carol = await self.open(url, token("carol"))
            alice = await self.open(url, token("alice", send_to=["bob", "dave"]))
            self.assertEqual((await alice.command("send", user="bob", data=1))["data"], {"online": True})
            await self.expect_direct(bob, "alice", 1)
            self.assertEqual((await alice.command("send", user="dave", data=2))["data"], {"online": False})
            answer = await alice.command("send", user="carol", data=3)
            self.assertEqual((answer["type"], answer.get("code")), ("error", 109), answer)
            self.assertIn("send_to", answer["message"])
            await self.expect_nothing(carol)
            # A token without the claim may send to nobody; nor may an anonymous connection.
            plain = await self.open(url, token("erin"))
            self.assertEqual((await plain.command("send", user="bob", data=4)).get("code"), 109)
            anonymous = await self.open(url)
            self.assertEqual((await anonymous.command("send", user="bob", data=5)).get("code"), 109)
            await self.expect_nothing(bob)
        self.play(scenario)

    def test_send_to_claim_narrows_a_token_under_the_default_too(self):
        _, url = self.start()

        async def scenario():
            bob = await self.open(url, token("bob"))
            await self.open(url, token("carol"))
            alice = await self.open(url, token("alice", send_to=["bob"]))
            self.assertEqual((await alice.command("send", user="bob", data=1))["data"], {"online": True})
            await self.expect_direct(bob, "alice", 1)
            self.assertEqual((await alice.command("send", user="carol", data=2)).get("code"), 109)
        self.play(scenario)

    def test_a_malformed_send_to_claim_is_an_invalid_token(self):
        _, url = self.start()

        async def scenario():
            client = await self.open(url)
            answer = await client.command("connect", token=token("alice", send_to="bob"))
            self.assertEqual((answer["type"], answer.get("code")), ("error", 120), answer)
        self.play(scenario)

    def test_sends_are_rate_limited_per_connection(self):
        port, url = self.start("[limits]\nsends_per_s = 1\nsends_burst = 3")

        async def scenario():
            bob = await self.open(url, token("bob"))
            alice = await self.open(url, token("alice"))
            carol = await self.open(url, token("carol"))
            answers = [await alice.command("send", user="bob", data=i) for i in range(4)]
            self.assertEqual([a["type"] for a in answers[:3]], ["reply"] * 3)
            self.assertEqual((answers[3]["type"], answers[3].get("code")), ("error", 121), answers[3])
            self.assertIn("sends a second", answers[3]["message"])
            for i in range(3):
                await self.expect_direct(bob, "alice", i)
            await self.expect_nothing(bob)
            # Other commands, and other connections, are not limited by it.
            self.assertEqual((await alice.command("publish", channel="room", data=1))["type"], "reply")
            self.assertEqual((await carol.command("send", user="bob", data=9))["type"], "reply")
            await self.expect_direct(bob, "carol", 9)
        self.play(scenario)
        self.assertEqual(refused(port, "rate_limited"), 1)

    def test_hide_online_answers_the_same_for_everyone(self):
        port, url = self.start("[hub]\nhide_online = true")

        async def scenario():
            bob = await self.open(url, token("bob"))
            alice = await self.open(url, token("alice"))
            self.assertEqual(await alice.command("send", user="bob", data=1),
                             {"type": "reply", "id": 1, "data": {}})
            await self.expect_direct(bob, "alice", 1)
            self.assertEqual(await alice.command("send", user="nobody", data=1),
                             {"type": "reply", "id": 2, "data": {}})
            # Backends, which hold the API key, still learn it.
            self.assertEqual(await asyncio.to_thread(api_send, port, "bob", 2), {"online": True})
            self.assertEqual(await asyncio.to_thread(api_send, port, "nobody", 2), {"online": False})
        self.play(scenario)


if __name__ == "__main__":
    unittest.main(verbosity=2)
