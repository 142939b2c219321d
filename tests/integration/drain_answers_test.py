#!/usr/bin/python3
"""A node's drain answers every command it read before its `disconnect`:
one node over a real redis-server, with an rpc backend (a small
http.server) whose method "slow" answers after SLOW_RPC_S. A protocol
client sends that rpc and a `history`, then pipelines numbered publishes
(every PUBLISH_EVERY_S) while the node gets SIGTERM. What the client reads
before the `disconnect` must answer exactly the first k commands it sent
(the node reads in order and stops running commands where the drain came),
the rpc included, and nothing after it; the `disconnect` says answered:
true. A second node over the same Redis then reads the channel's history:
it holds exactly the publishes that were answered, so none of the
unanswered ones ran. With --drain-answer-ms 0 the node closes at once as it
used to: the rpc stays unanswered and the `disconnect` says answered: false.
"""
import asyncio
import json
import os
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets
import websockets.exceptions

import protocol_client
from cluster_test import start_redis_and_node_config
from protocol_client import PROTOCOL, run, stop_server
from scaling_test import REDIS, ready, wait_until

SLOW_RPC_S = 1.0  # the slow rpc under test: the drain must wait for it
PUBLISH_EVERY_S = 0.002  # the pipelining publisher's pace (the scenario)
PUBLISHING_BEFORE_SIGTERM_S = 0.3  # the drain comes while publishes are on their way (the scenario)
CHANNEL = "feed:drain"


class SlowBackend(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        SlowBackend.calls += 1
        time.sleep(SLOW_RPC_S)  # the slow handler under test, not a wait for a result
        body = b'"slow done"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


@unittest.skipUnless(os.path.exists(REDIS), "needs redis-server (scripts/bootstrap)")
class DrainAnswersTest(unittest.TestCase):
    def setUp(self):
        self.backend = ThreadingHTTPServer(("127.0.0.1", 0), SlowBackend)
        threading.Thread(target=self.backend.serve_forever, daemon=True).start()
        self.addCleanup(self.backend.server_close)
        self.addCleanup(self.backend.shutdown)
        SlowBackend.calls = 0
        _, self.config = start_redis_and_node_config(
            self, '[[namespaces]]\npattern = "feed:*"\nhistory_size = 100000\nhistory_ttl = 600\n')

    def start_node(self, *flags):
        node, port = protocol_client.start_server(
            self.config, "--workers", "1", "--drain-spread-ms", "0", "--drain-timeout-ms", "20000",
            "--rpc-proxy-url", "http://127.0.0.1:%d/rpc" % self.backend.server_address[1], *flags)
        self.addCleanup(stop_server, node)
        self.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)
        return node, port

    async def pipeline_through_drain(self, node, port):
        """Sends the rpc, a history, then publishes until the node closes;
        returns (frames read before the close, commands sent, close code)."""
        ws = await websockets.connect("ws://127.0.0.1:%d/" % port, subprotocols=[PROTOCOL], compression=None,
                                      max_queue=None)
        sent = []

        async def send(command):
            sent.append(command)
            await ws.send(json.dumps(command))

        await send({"id": 1, "type": "rpc", "method": "slow", "data": None})
        await send({"id": 2, "type": "history", "channel": CHANNEL, "limit": 0})

        async def publisher():
            next_id = 3
            try:
                while True:
                    await send({"id": next_id, "type": "publish", "channel": CHANNEL, "data": next_id})
                    next_id += 1
                    await asyncio.sleep(PUBLISH_EVERY_S)
            except websockets.exceptions.ConnectionClosed:
                pass

        async def reader():
            frames = []
            try:
                while True:
                    frames.append(json.loads(await ws.recv()))
            except websockets.exceptions.ConnectionClosed:
                return frames

        reading = asyncio.ensure_future(reader())
        publishing = asyncio.ensure_future(publisher())
        await asyncio.get_running_loop().run_in_executor(None, wait_until, lambda: SlowBackend.calls == 1)
        await asyncio.sleep(PUBLISHING_BEFORE_SIGTERM_S)
        node.terminate()
        frames = await asyncio.wait_for(reading, 30)
        await asyncio.wait_for(publishing, 10)
        return frames, sent, ws.close_code

    async def history_data(self, port):
        client = await protocol_client.Client.open("ws://127.0.0.1:%d/" % port)
        reply = await client.command("history", channel=CHANNEL)
        await client.ws.close()
        return [publication["data"] for publication in reply["data"]["publications"]]

    def test_a_drained_node_answers_every_command_it_read_then_says_answered(self):
        node, port = self.start_node()
        frames, sent, close_code = run(self.pipeline_through_drain(node, port))
        self.assertEqual(close_code, 1001)
        self.assertEqual(frames[-1]["type"], "disconnect", frames[-3:])
        self.assertIs(frames[-1].get("answered"), True, frames[-1])
        answers = [frame for frame in frames[:-1] if frame["type"] in ("reply", "error")]
        answered = sorted(frame["id"] for frame in answers)
        # The node reads in order: what it answered is the first k commands sent.
        self.assertEqual(answered, list(range(1, len(answered) + 1)))
        self.assertEqual(len(answers), len(frames) - 1, "only answers before the disconnect")
        by_id = {frame["id"]: frame for frame in answers}
        self.assertEqual(by_id[1], {"type": "reply", "id": 1, "data": "slow done"})
        published = sorted(frame["id"] for frame in answers if frame["id"] >= 3 and frame["type"] == "reply")
        # Another node over the same Redis: the stream holds exactly the
        # answered publishes, so none that went unanswered ran.
        _, other = self.start_node()
        stored = run(self.history_data(other))
        self.assertEqual(sorted(stored), published)
        print("drain answered: %d commands sent, %d answered before disconnect (rpc after %.1f s), "
              "%d publishes stored, %d not run" % (len(sent), len(answered), SLOW_RPC_S, len(stored),
                                                   len(sent) - len(answered)), file=sys.stderr)

    def test_without_an_answer_bound_the_drain_closes_at_once_as_before(self):
        node, port = self.start_node("--drain-answer-ms", "0")
        frames, sent, close_code = run(self.pipeline_through_drain(node, port))
        self.assertEqual(close_code, 1001)
        self.assertEqual(frames[-1]["type"], "disconnect", frames[-3:])
        self.assertIs(frames[-1].get("answered"), False, frames[-1])
        answered = {frame["id"] for frame in frames if frame["type"] in ("reply", "error")}
        self.assertNotIn(1, answered, "the slow rpc was cut off by the close")
        print("drain_answer_ms=0: %d commands sent, %d answered, the rpc not" % (len(sent), len(answered)),
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
