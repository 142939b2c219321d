#!/usr/bin/python3
"""`serve --rpc-proxy-url`: rpc methods without a C++ handler go to an HTTP
backend (a small http.server here) as JSON POSTs; the backend's answer, its
failures, its silence and its absence each reach the client as the reply or
the error protocol v1 promises.
"""
import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")
SLOW_BACKEND_S = 4  # well past the server's --rpc-timeout-ms 1000


class Backend(BaseHTTPRequestHandler):
    requests = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Backend.requests.append((self.path, self.headers["Content-Type"], body))
        method = body["method"]
        if method == "getUser":
            self.answer(200, json.dumps({"name": "Ada", "asked": body}))
        elif method == "broken":
            self.answer(500, "database on fire")
        elif method == "notJson":
            self.answer(200, "<html>")
        elif method == "slow":
            time.sleep(SLOW_BACKEND_S)  # the slow backend under test, not a wait for a result
            self.answer(200, "1")
        else:
            self.answer(404, "no such method")

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RpcProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ThreadingHTTPServer.request_queue_size = 128
        cls.backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
        threading.Thread(target=cls.backend.serve_forever, daemon=True).start()
        cls.servers = []
        cls.url = cls.start_server("http://127.0.0.1:%d/rpc" % cls.backend.server_address[1])

    @classmethod
    def start_server(cls, proxy_url):
        server = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2", "--insecure-user-query",
             "--rpc-proxy-url", proxy_url, "--rpc-timeout-ms", "1000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.servers.append(server)
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
        if not match:
            raise RuntimeError("server did not start")
        return "ws://127.0.0.1:%s/" % match.group(1)

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.terminate()
            server.wait(timeout=15)
            server.stdout.close()
        cls.backend.shutdown()
        cls.backend.server_close()

    def rpc(self, url, method, data=None, user="alice"):
        async def body():
            async with websockets.connect(url + "?user=" + user, subprotocols=["switchboard.v1.json"]) as ws:
                command = {"id": 1, "type": "rpc", "method": method}
                if data is not None:
                    command["data"] = data
                await ws.send(json.dumps(command))
                return json.loads(await asyncio.wait_for(ws.recv(), 10))
        return asyncio.run(body())

    def test_answer_becomes_the_reply(self):
        reply = self.rpc(self.url, "getUser", {"id": 42})
        self.assertEqual(reply["type"], "reply", reply)
        self.assertEqual(reply["data"]["name"], "Ada")
        asked = reply["data"]["asked"]
        self.assertEqual(asked["user"], "alice")
        self.assertEqual(asked["method"], "getUser")
        self.assertEqual(asked["data"], {"id": 42})
        self.assertTrue(asked["client"])
        path, content_type, _ = Backend.requests[-1]
        self.assertEqual((path, content_type), ("/rpc", "application/json"))

    def test_backend_error_status(self):
        reply = self.rpc(self.url, "broken")
        self.assertEqual((reply["type"], reply["code"]), ("error", 115))
        self.assertIn("HTTP 500", reply["message"])
        self.assertIn("database on fire", reply["message"])

    def test_backend_answer_that_is_not_json(self):
        reply = self.rpc(self.url, "notJson")
        self.assertEqual((reply["type"], reply["code"]), ("error", 100))

    def test_slow_backend_times_out(self):
        started = time.monotonic()
        reply = self.rpc(self.url, "slow")
        self.assertEqual((reply["type"], reply["code"]), ("error", 114))
        # The 1 s rpc timeout answered, not the backend: with room for a loaded machine.
        self.assertLess(time.monotonic() - started, SLOW_BACKEND_S - 0.5)

    def test_unreachable_backend(self):
        url = self.start_server("http://127.0.0.1:%d/rpc" % free_port())
        reply = self.rpc(url, "getUser")
        self.assertEqual((reply["type"], reply["code"]), ("error", 115))
        self.assertIn("unreachable", reply["message"])

    def test_many_calls_in_flight(self):
        async def body():
            async with websockets.connect(self.url, subprotocols=["switchboard.v1.json"]) as ws:
                for i in range(1, 51):
                    await ws.send(json.dumps({"id": i, "type": "rpc", "method": "getUser", "data": i}))
                replies = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(50)]
            return replies
        replies = asyncio.run(body())
        self.assertEqual(sorted(r["id"] for r in replies), list(range(1, 51)))
        self.assertEqual([r for r in replies if r["type"] != "reply"], [])
        for reply in replies:
            self.assertEqual(reply["data"]["asked"]["data"], reply["id"])
            self.assertIsNone(reply["data"]["asked"]["user"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
