#!/usr/bin/python3
"""The chat example (examples/chat) end to end: the page, its script and the
SDK build (from a stand-in build made here; tests/browser runs the real SDK in
a browser) are served, nothing else under /sdk/ is, two people chat in the
room and see each other come and go, the getUser rpc answers, a visitor
without a name is refused (401), and a second chat_server on the same port
refuses to start.
CHAT_SERVER_BIN names the binary, CHAT_DIR the example's folder.
"""
import asyncio
import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

import websockets
import websockets.exceptions

BINARY = os.environ.get("CHAT_SERVER_BIN", "chat_server")
DIRECTORY = os.environ.get("CHAT_DIR", "examples/chat")


def start_chat_server(*args):
    """Starts chat_server with args after the port; returns (process, port)."""
    server = subprocess.Popen([BINARY, "0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.match(r"listening on [0-9.]+:(\d+)", server.stdout.readline())
    if not match:
        server.kill()
        server.wait()
        raise RuntimeError("chat_server did not start")
    return server, int(match.group(1))


def stop_chat_server(server):
    server.terminate()
    server.wait(timeout=15)
    server.stdout.close()


def get(port, path):
    """GET path exactly as written (no normalisation of '..' or %2e): (status, content type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers["Content-Type"], response.read().decode()
    finally:
        connection.close()


# A stand-in for the SDK build (clients/js/dist): what chat_server must serve
# and what it must not.
FAKE_SDK = {
    "index.js": "export { Client } from './client.js';\n",
    "client.js": "export class Client {}\n",
    "index.js.map": '{"version":3,"file":"index.js","sources":[],"mappings":""}\n',
    "index.d.ts": "export declare class Client {}\n",
    ".hidden.js": "secret\n",
    "sub/deeper.js": "deeper\n",
}


class ChatExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sdk = tempfile.mkdtemp(prefix="chat-sdk-")
        for name, text in FAKE_SDK.items():
            path = pathlib.Path(cls.sdk, name)
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        cls.server, cls.port = start_chat_server(DIRECTORY, cls.sdk)
        cls.http = "http://127.0.0.1:%s" % cls.port
        cls.ws = "ws://127.0.0.1:%s/" % cls.port

    @classmethod
    def tearDownClass(cls):
        stop_chat_server(cls.server)
        shutil.rmtree(cls.sdk)

    def test_page_and_script_are_served(self):
        with urllib.request.urlopen(self.http + "/", timeout=5) as response:
            self.assertEqual(response.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertIn('<script type="module" src="/chat.js">', response.read().decode())
        with urllib.request.urlopen(self.http + "/chat.js", timeout=5) as response:
            self.assertEqual(response.headers["Content-Type"], "text/javascript; charset=utf-8")
            script = response.read().decode()
            self.assertIn("from '/sdk/index.js'", script)
            self.assertIn("room:lobby", script)

    def test_the_sdk_build_is_served(self):
        for name in ("index.js", "client.js"):
            self.assertEqual(get(self.port, "/sdk/" + name), (200, "text/javascript; charset=utf-8", FAKE_SDK[name]))
        self.assertEqual(get(self.port, "/sdk/index.js.map"),
                         (200, "application/json; charset=utf-8", FAKE_SDK["index.js.map"]))
        # Read at each request: a rebuilt file is served as it is now.
        pathlib.Path(self.sdk, "client.js").write_text("export class Client { rebuilt() {} }\n")
        self.assertIn("rebuilt", get(self.port, "/sdk/client.js")[2])

    def test_nothing_else_under_sdk_is_served(self):
        for path in ("/sdk/", "/sdk/missing.js", "/sdk/index.d.ts", "/sdk/.hidden.js", "/sdk/sub/deeper.js",
                     "/sdk/../chat.js", "/sdk/%2e%2e/chat.js", "/sdk/..%2fchat.js", "/sdk/../../../../etc/passwd",
                     "/sdk//index.js", "/sdk/index.js/", "/sdk/./index.js", "/sdk/index.js%00.map"):
            with self.subTest(path=path):
                self.assertEqual(get(self.port, path)[0], 404)

    def test_the_sdk_build_defaults_to_clients_js_dist(self):
        with tempfile.TemporaryDirectory(prefix="chat-tree-") as tree:
            chat = pathlib.Path(tree, "examples", "chat")
            chat.mkdir(parents=True)
            for name in ("index.html", "chat.js"):
                shutil.copy(os.path.join(DIRECTORY, name), chat)
            dist = pathlib.Path(tree, "clients", "js", "dist")
            dist.mkdir(parents=True)
            (dist / "index.js").write_text("// the default build\n")
            server, port = start_chat_server(str(chat))
            try:
                self.assertEqual(get(port, "/sdk/index.js"), (200, "text/javascript; charset=utf-8",
                                                              "// the default build\n"))
            finally:
                stop_chat_server(server)

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

    def test_a_second_server_on_the_same_port_is_refused(self):
        second = subprocess.run([BINARY, str(self.port), DIRECTORY, self.sdk], capture_output=True, text=True,
                                timeout=15)
        self.assertEqual(second.returncode, 2, second.stdout + second.stderr)
        self.assertIn(":%d is already in use" % self.port, second.stderr)
        self.assertEqual(second.stdout, "")
        self.assertIsNone(self.server.poll())
        self.assertEqual(get(self.port, "/")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
