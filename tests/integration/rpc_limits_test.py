#!/usr/bin/python3
"""How much an rpc may hold: `switchboard serve --rpc-proxy-url` in front of
an HTTP backend (http.server here) that keeps calls waiting until the test
lets them go, or answers 50 MB.

- Pending rpcs are capped per connection and per node (count and request
  bytes): the call over a cap gets error 122 at once, naming the cap, while
  other connections keep their own room; answers free the room again.
- An answer over hub.max_rpc_answer_size is error 115 saying so: the client
  never gets the 50 MB frame, and the server stops reading the backend's
  answer at the limit instead of holding it all (its peak RSS barely moves).
- Each refusal is counted in /metrics, and the pending rpcs are gauged.
"""
import asyncio
import json
import os
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

import protocol_client
from protocol_client import PROTOCOL, STEP, Client, metric_samples, refused, run, stop_server

HUGE = 50 * 1000 * 1000
WAIT = 60.0  # how long a held call may wait for the test to release it


class Backend(BaseHTTPRequestHandler):
    release = threading.Event()  # set: held calls answer

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method = body["method"]
        try:
            if method == "hold":
                Backend.release.wait(WAIT)
                self.answer(200, b'"released"')
            elif method == "echo":
                self.answer(200, json.dumps({"echo": body["data"]}).encode())
            elif method == "huge":
                self.answer(200, b'"' + b"x" * (HUGE - 2) + b'"')
            elif method == "hugeError":
                self.answer(500, b"e" * HUGE)
            else:
                self.answer(404, b"no such method")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what a too large answer should get

    def answer(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        view = memoryview(data)
        for start in range(0, len(data), 1 << 16):
            self.wfile.write(view[start:start + (1 << 16)])

    def log_message(self, *arguments):
        pass


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


async def send_rpc(client, method, data=None):
    """Sends an rpc without waiting for its answer; returns its id."""
    client.next_id += 1
    await client.ws.send(json.dumps({"id": client.next_id, "type": "rpc", "method": method, "data": data}))
    return client.next_id


async def answers_until_pong(client):
    """Every frame that comes before the answer to a ping sent now: commands
    run in order on a connection, so an rpc refused at once is answered
    before the pong, and one that is pending is not."""
    pong = await client.command("ping")
    assert pong["type"] == "pong", pong
    frames, client.backlog = client.backlog, []
    return frames


class RpcLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ThreadingHTTPServer.request_queue_size = 256
        ThreadingHTTPServer.daemon_threads = True
        cls.backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
        threading.Thread(target=cls.backend.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        Backend.release.set()
        cls.backend.shutdown()
        cls.backend.server_close()

    def setUp(self):
        Backend.release.clear()
        self.addCleanup(Backend.release.set)
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def start(self, *flags):
        """The hub with the proxy and a long rpc timeout (nothing held times
        out during a test): (process, port, url)."""
        config = os.path.join(self.directory.name, "serve.toml")
        with open(config, "w") as file:
            file.write("")
        server, port = protocol_client.start_server(
            config, "--workers", "2", "--insecure-user-query", "--rpc-timeout-ms", "60000",
            "--rpc-proxy-url", "http://127.0.0.1:%d/rpc" % self.backend.server_address[1], *flags)
        self.addCleanup(stop_server, server)
        return server, port, "ws://127.0.0.1:%d/" % port

    def test_the_default_cap_per_connection_refuses_the_129th_pending_rpc_at_once(self):
        _, port, url = self.start()

        async def scenario():
            client = await Client.open(url, user="ann")
            ids = [await send_rpc(client, "hold") for _ in range(129)]
            frames = await answers_until_pong(client)
            self.assertEqual(len(frames), 1, frames[:3])
            self.assertEqual((frames[0]["type"], frames[0]["id"], frames[0]["code"]), ("error", ids[-1], 122))
            self.assertIn("128 pending rpcs per connection", frames[0]["message"])
            Backend.release.set()
            answers = [await client.recv() for _ in range(128)]
            self.assertEqual(sorted(a["id"] for a in answers), ids[:-1])
            self.assertEqual({a["data"] for a in answers}, {"released"})
            await client.ws.close()
        run(scenario())
        self.assertEqual(refused(port, "rpc_pending_per_connection"), 1)

    def test_pending_cap_per_connection_leaves_other_connections_their_room(self):
        _, port, url = self.start("--max-pending-rpcs-per-connection", "4")

        async def scenario():
            ann = await Client.open(url, user="ann")
            bob = await Client.open(url, user="bob")
            held = [await send_rpc(ann, "hold") for _ in range(4)]
            self.assertEqual(await answers_until_pong(ann), [])
            over = await ann.command("rpc", method="hold")
            self.assertEqual((over["type"], over["code"]), ("error", 122), over)
            self.assertIn("4 pending rpcs per connection", over["message"])
            # ann's other commands run; bob has room of his own.
            self.assertEqual((await ann.command("publish", channel="c", data=1))["type"], "reply")
            self.assertEqual((await bob.command("rpc", method="echo", data=7))["data"], {"echo": 7})
            bob_held = [await send_rpc(bob, "hold") for _ in range(4)]
            self.assertEqual(await answers_until_pong(bob), [])
            self.assertEqual(metric_samples(port)[("switchboard_rpcs_pending", frozenset())], 8)
            # Answers give the room back.
            Backend.release.set()
            self.assertEqual(sorted([(await ann.recv())["id"] for _ in held]), held)
            self.assertEqual(sorted([(await bob.recv())["id"] for _ in bob_held]), bob_held)
            self.assertEqual((await ann.command("rpc", method="echo", data=8))["data"], {"echo": 8})
            await ann.ws.close()
            await bob.ws.close()
        run(scenario())
        self.assertEqual(refused(port, "rpc_pending_per_connection"), 1)
        self.assertEqual(metric_samples(port)[("switchboard_rpcs_pending", frozenset())], 0)
        self.assertEqual(metric_samples(port)[("switchboard_rpc_pending_bytes", frozenset())], 0)

    def test_pending_cap_per_node_counts_every_connection(self):
        _, port, url = self.start("--max-pending-rpcs-per-connection", "4", "--max-pending-rpcs", "6")

        async def scenario():
            ann = await Client.open(url, user="ann")
            bob = await Client.open(url, user="bob")
            for _ in range(4):
                await send_rpc(ann, "hold")
            self.assertEqual(await answers_until_pong(ann), [])
            for _ in range(2):
                await send_rpc(bob, "hold")
            self.assertEqual(await answers_until_pong(bob), [])
            over = await bob.command("rpc", method="echo", data=1)
            self.assertEqual((over["type"], over["code"]), ("error", 122), over)
            self.assertIn("6 pending rpcs on this server", over["message"])
            # A connection that leaves keeps its calls counted until they are
            # answered: the backend still holds them.
            await ann.ws.close()
            self.assertEqual((await bob.command("rpc", method="echo", data=2))["code"], 122)
            Backend.release.set()
            for _ in range(2):
                self.assertEqual((await bob.recv())["data"], "released")
            deadline = time.monotonic() + protocol_client.DEADLINE
            while True:
                answer = await bob.command("rpc", method="echo", data=3)
                if answer["type"] == "reply" or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.1)  # pacing the retries: ann's answers are still on their way
            self.assertEqual(answer["data"], {"echo": 3})
            await bob.ws.close()
        run(scenario())
        self.assertEqual(refused(port, "rpc_pending_per_node"), 2)

    def test_pending_request_bytes_per_node(self):
        _, port, url = self.start("--max-pending-rpc-bytes", "2500000")

        async def scenario():
            ann = await Client.open(url, user="ann")
            bob = await Client.open(url, user="bob")
            megabyte = "m" * 1000000
            await send_rpc(ann, "hold", megabyte)
            await send_rpc(bob, "hold", megabyte)
            self.assertEqual(await answers_until_pong(ann), [])
            self.assertEqual(await answers_until_pong(bob), [])
            self.assertGreaterEqual(metric_samples(port)[("switchboard_rpc_pending_bytes", frozenset())], 2000000)
            over = await ann.command("rpc", method="hold", data=megabyte)
            self.assertEqual((over["type"], over["code"]), ("error", 122), over)
            self.assertIn("2500000 bytes of pending rpcs on this server", over["message"])
            # Small calls still fit.
            self.assertEqual((await bob.command("rpc", method="echo", data=1))["data"], {"echo": 1})
            Backend.release.set()
            self.assertEqual((await ann.recv())["data"], "released")
            self.assertEqual((await bob.recv())["data"], "released")
            await ann.ws.close()
            await bob.ws.close()
        run(scenario())
        self.assertEqual(refused(port, "rpc_pending_per_node"), 1)

    def test_a_50_mb_answer_is_error_115_and_is_not_read_whole(self):
        server, port, url = self.start()

        async def scenario():
            # No size limit on this side: had the server forwarded the 50 MB
            # answer, the test would see it.
            ws = await websockets.connect(url + "?user=ann", subprotocols=[PROTOCOL], max_size=None)
            client = Client(ws)
            self.assertEqual((await client.command("rpc", method="echo", data=1))["type"], "reply")
            before = peak_rss_kib(server.pid)
            answer = await client.command("rpc", method="huge")
            self.assertEqual((answer["type"], answer.get("code")), ("error", 115), str(answer)[:200])
            self.assertIn("larger than 1048576 bytes", answer["message"])
            self.assertLess(peak_rss_kib(server.pid) - before, 16 * 1024, "the server held the answer")
            # A failing status with a huge body: its start is the message.
            answer = await client.command("rpc", method="hugeError")
            self.assertEqual((answer["type"], answer.get("code")), ("error", 115), str(answer)[:200])
            self.assertIn("HTTP 500: eeee", answer["message"])
            self.assertLess(len(answer["message"]), 300)
            self.assertLess(peak_rss_kib(server.pid) - before, 16 * 1024, "the server held the answer")
            self.assertEqual((await client.command("rpc", method="echo", data=2))["data"], {"echo": 2})
            await ws.close()
        run(scenario())
        self.assertEqual(metric_samples(port)[("switchboard_rpc_answers_too_large_total", frozenset())], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
