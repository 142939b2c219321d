#!/usr/bin/python3
"""The server HTTP API end to end (docs/HTTP_API.md): `switchboard serve`
with api.key, requests made with Python's http.client, and subscribers on
python3-websockets. Every endpoint with good input and with bad input (no
key, wrong key, bad JSON, missing and wrong fields, wrong method).
"""
import asyncio
import http.client
import json
import os
import tempfile
import unittest

import websockets.exceptions

import protocol_client
from protocol_client import STEP, Client, run, stop_server

KEY = "test-api-key-0123456789"


class HttpApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        config = os.path.join(cls.directory.name, "serve.toml")
        with open(config, "w") as file:
            file.write('[api]\nkey = "%s"\n[[namespaces]]\npattern = "room:*"\npresence = true\n' % KEY)
        cls.server, cls.port = protocol_client.start_server(config, "--workers", "2", "--insecure-user-query")
        cls.url = "ws://127.0.0.1:%d/" % cls.port

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.server)
        cls.directory.cleanup()

    def request(self, method, path, body=None, key=KEY, raw=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=STEP)
        headers = {}
        if key is not None:
            headers["Authorization"] = "apikey " + key
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        content = json.loads(text) if response.getheader("Content-Type", "").startswith("application/json") else text
        return response.status, content, response

    def test_publish_reaches_subscribers_and_returns_the_offset(self):
        async def scenario():
            client = await Client.open(self.url, user="alice")
            self.assertEqual((await client.command("subscribe", channel="room:1"))["type"], "reply")
            status, body, _ = await asyncio.to_thread(self.request, "POST", "/api/publish",
                                                      {"channel": "room:1", "data": {"text": "hi"}})
            self.assertEqual((status, body), (200, {"offset": 1}))
            message = await client.recv()
            self.assertEqual((message["channel"], message["offset"], message["data"]), ("room:1", 1, {"text": "hi"}))
            await client.ws.close()
        run(scenario())

    def test_broadcast_to_several_channels(self):
        async def scenario():
            a = await Client.open(self.url, user="a")
            b = await Client.open(self.url, user="b")
            await a.command("subscribe", channel="room:a")
            await b.command("subscribe", channel="room:b")
            status, body, _ = await asyncio.to_thread(self.request, "POST", "/api/broadcast",
                                                      {"channels": ["room:a", "room:b", "room:none"], "data": 7})
            self.assertEqual(status, 200)
            self.assertEqual(body["results"], [{"channel": "room:a", "offset": 1}, {"channel": "room:b", "offset": 1},
                                               {"channel": "room:none", "offset": 0}])
            self.assertEqual((await a.recv())["data"], 7)
            self.assertEqual((await b.recv())["data"], 7)
            await a.ws.close()
            await b.ws.close()
        run(scenario())

    def test_send_to_user_and_disconnect_user(self):
        async def scenario():
            first = await Client.open(self.url, user="carol")
            second = await Client.open(self.url, user="carol")
            await first.command("ping")
            await second.command("ping")
            status, body, _ = await asyncio.to_thread(self.request, "POST", "/api/send",
                                                      {"user": "carol", "data": "psst"})
            self.assertEqual((status, body), (200, {"online": True}))
            for client in (first, second):
                direct = await client.recv()
                self.assertEqual((direct["type"], direct["from"], direct["data"]), ("direct", None, "psst"))
            status, body, _ = await asyncio.to_thread(self.request, "POST", "/api/send", {"user": "nobody", "data": 1})
            self.assertEqual((status, body), (200, {"online": False}))
            status, body, _ = await asyncio.to_thread(self.request, "POST", "/api/disconnect",
                                                      {"user": "carol", "reason": "banned", "code": 4010})
            self.assertEqual((status, body), (200, {"disconnected": 2, "other_nodes": 0}))
            for client in (first, second):
                notice = await client.recv()
                self.assertEqual(notice, {"type": "disconnect", "code": 4010, "reason": "banned", "reconnect": False})
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    await asyncio.wait_for(client.ws.recv(), STEP)
                self.assertEqual((closed.exception.code, closed.exception.reason), (4010, "banned"))
        run(scenario())

    def test_presence_channels_and_stats(self):
        async def scenario():
            client = await Client.open(self.url, user="dave")
            await client.command("subscribe", channel="room:p")
            status, body, _ = await asyncio.to_thread(self.request, "GET", "/api/presence?channel=room:p")
            self.assertEqual(status, 200)
            self.assertEqual([m["user"] for m in body["members"]], ["dave"])
            status, body, _ = await asyncio.to_thread(self.request, "GET", "/api/channels")
            self.assertEqual(status, 200)
            self.assertIn({"channel": "room:p", "subscribers": 1}, body["channels"])
            self.assertEqual((body["nodes"], body["complete"]), (1, True))
            status, body, _ = await asyncio.to_thread(self.request, "GET", "/api/stats")
            self.assertEqual(status, 200)
            self.assertGreaterEqual(body["connections"], 1)
            self.assertGreaterEqual(body["users"], 1)
            self.assertGreaterEqual(body["channels"], 1)
            self.assertEqual((body["nodes"], body["complete"]), (1, True))
            status, body, _ = await asyncio.to_thread(self.request, "GET", "/api/user?user=dave")
            self.assertEqual((status, body), (200, {"online": True, "connections": 1, "nodes": 1, "complete": True}))
            status, body, _ = await asyncio.to_thread(self.request, "GET", "/api/user?user=nobody")
            self.assertEqual((status, body), (200, {"online": False, "connections": 0, "nodes": 0, "complete": True}))
            await client.ws.close()
        run(scenario())

    def test_bad_requests_get_4xx_with_a_json_error(self):
        cases = [
            ("POST", "/api/publish", {"channel": "c", "data": 1}, None, None, 401),
            ("POST", "/api/publish", {"channel": "c", "data": 1}, "wrong-key", None, 401),
            ("GET", "/api/stats", None, KEY[:-1], None, 401),
            ("POST", "/api/publish", None, KEY, "{not json", 400),
            ("POST", "/api/publish", None, KEY, "[1,2]", 400),
            ("POST", "/api/publish", {"data": 1}, KEY, None, 400),
            ("POST", "/api/publish", {"channel": "bad name", "data": 1}, KEY, None, 400),
            ("POST", "/api/publish", {"channel": "c"}, KEY, None, 400),
            ("POST", "/api/broadcast", {"channels": [], "data": 1}, KEY, None, 400),
            ("POST", "/api/broadcast", {"channels": ["ok", 5], "data": 1}, KEY, None, 400),
            ("POST", "/api/send", {"user": "a b", "data": 1}, KEY, None, 400),
            ("POST", "/api/disconnect", {"user": "x", "code": 1000}, KEY, None, 400),
            ("POST", "/api/disconnect", {"user": "x", "reconnect": "yes"}, KEY, None, 400),
            ("GET", "/api/presence", None, KEY, None, 400),
            ("GET", "/api/presence?channel=nopresence", None, KEY, None, 400),
            ("GET", "/api/user", None, KEY, None, 400),
            ("GET", "/api/user?user=a%20b", None, KEY, None, 400),
            ("GET", "/api/user?user=x", None, "wrong-key", None, 401),
            ("GET", "/api/publish", None, KEY, None, 405),
            ("POST", "/api/nothing", {}, KEY, None, 404),
        ]
        for method, path, body, key, raw, expected in cases:
            status, content, response = self.request(method, path, body, key=key, raw=raw)
            self.assertEqual(status, expected, (method, path, body, key, raw, content))
            if expected in (400, 401):
                self.assertIsInstance(content, dict, (method, path))
                self.assertIn("error", content)
            if expected == 401:
                self.assertEqual(response.getheader("WWW-Authenticate"), "apikey")

    def test_without_a_key_there_is_no_api(self):
        config = os.path.join(self.directory.name, "no-key.toml")
        with open(config, "w") as file:
            file.write("")
        server, port = protocol_client.start_server(config, "--workers", "1")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=STEP)
            connection.request("POST", "/api/publish", body="{}", headers={"Authorization": "apikey "})
            self.assertEqual(connection.getresponse().status, 404)
            connection.close()
        finally:
            stop_server(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
