#!/usr/bin/python3
"""The chat example (examples/chat) end to end: the page and its script are
served, two people chat in the room and see each other come and go, the
getUser rpc answers, and a visitor without a name is refused (401).
CHAT_SERVER_BIN names the binary, CHAT_DIR the example's folder.
"""
import asyncio
import json
import os
import re
import subprocess
import unittest
import urllib.request

import websockets
import websockets.exceptions

BINARY = os.environ.get("CHAT_SERVER_BIN", "chat_server")
DIRECTORY = os.environ.get("CHAT_DIR", "examples/chat")


class ChatExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen([BINARY, "0", DIRECTORY], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True)
        match = re.match(r"listening on [0-9.]+:(\d+)", cls.server.stdout.readline())
        if not match:
            cls.server.kill()
            raise RuntimeError("chat_server did not start")
        cls.http = "http://127.0.0.1:%s" % match.group(1)
        cls.ws = "ws://127.0.0.1:%s/" % match.group(1)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=15)
        cls.server.stdout.close()

    def test_page_and_script_are_served(self):
        with urllib.request.urlopen(self.http + "/", timeout=5) as response:
            self.assertEqual(response.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertIn('<script src="/chat.js">', response.read().decode())
        with urllib.request.urlopen(self.http + "/chat.js", timeout=5) as response:
            self.assertIn("switchboard.v1.json", response.read().decode())

    def test_two_people_chat(self):
        async def recv(ws):
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

        async def body():
            protocol = ["switchboard.v1.json"]
            ada = await websockets.connect(self.ws + "?user=ada", subprotocols=protocol)
            await ada.send(json.dumps({"id": 1, "type": "subscribe", "channel": "room:lobby"}))
            self.assertEqual((await recv(ada))["type"], "reply")
            bob = await websockets.connect(self.ws + "?user=bob", subprotocols=protocol)
            await bob.send(json.dumps({"id": 1, "type": "subscribe", "channel": "room:lobby"}))
            self.assertEqual((await recv(bob))["type"], "reply")
            self.assertEqual((await recv(ada))["user"], "bob")  # join
            await bob.send(json.dumps({"id": 2, "type": "presence", "channel": "room:lobby"}))
            members = (await recv(bob))["data"]["members"]
            self.assertEqual(sorted(m["user"] for m in members), ["ada", "bob"])
            await ada.send(json.dumps({"id": 2, "type": "publish", "channel": "room:lobby",
                                       "data": {"from": "ada", "text": "hi bob"}}))
            for ws in (ada, bob):
                frames = [await recv(ws) for _ in range(2 if ws is ada else 1)]
                message = next(f for f in frames if f["type"] == "message")
                self.assertEqual(message["data"], {"from": "ada", "text": "hi bob"})
            await bob.send(json.dumps({"id": 3, "type": "rpc", "method": "getUser"}))
            reply = await recv(bob)
            self.assertEqual(reply["data"]["user"], "bob")
            await bob.close()
            leave = await recv(ada)
            self.assertEqual((leave["type"], leave["user"]), ("leave", "bob"))
            await ada.close()

        asyncio.run(body())

    def test_a_visitor_without_a_name_is_refused(self):
        async def body():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                await websockets.connect(self.ws, subprotocols=["switchboard.v1.json"])
            self.assertEqual(caught.exception.status_code, 401)

        asyncio.run(body())


if __name__ == "__main__":
    unittest.main(verbosity=2)
