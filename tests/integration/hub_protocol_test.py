#!/usr/bin/python3
"""Protocol v1 end to end: `switchboard serve` (the hub, two workers) and
Debian's python3-websockets as the client.

Covers every command and every error path a client can hit, with the
connection still working afterwards; pub/sub across workers; send to a
user; presence with join/leave; and that a client leaving mid-burst leaves
no subscription or presence entry behind. SWITCHBOARD_BIN names the binary.
"""
import asyncio
import json
import os
import re
import subprocess
import time
import unittest

import websockets
import websockets.exceptions

import protocol_client

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")
PROTOCOL = "switchboard.v1.json"
STEP = 10.0  # seconds any single expected frame may take (a loaded 2-core machine)


def start_server(*extra):
    server = subprocess.Popen(
        [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2", "--insecure-user-query",
         "--namespace", "room:*=join_leave", "--namespace", "quiet:*=presence",
         "--namespace", "news=no_client_publish", "--max-subscriptions", "4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline()
    match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        stop_server(server)
        raise RuntimeError("server did not start: %r" % line)
    return server, "ws://127.0.0.1:%s/" % match.group(1)


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    server.stdout.close()


class Client:
    """One protocol connection: numbered commands, and frames kept in
    arrival order so a test can wait for the one it expects."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.client = None
        self.user = None

    @classmethod
    async def open(cls, url, user=None):
        target = url + ("?user=" + user if user else "")
        # max_queue=None: the client library must not stop reading while a
        # test is busy elsewhere (its default of 32 frames would stall TCP).
        client = cls(await websockets.connect(target, subprotocols=[PROTOCOL], compression=None, max_queue=None))
        reply = await client.command("connect")
        client.client = reply["data"]["client"]
        client.user = reply["data"]["user"]
        return client

    async def recv(self):
        return json.loads(await asyncio.wait_for(self.ws.recv(), STEP))

    async def send_command(self, kind, **fields):
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "type": kind, **fields}))
        return self.next_id

    async def answer(self, command_id):
        """The reply or error for command_id; other frames are returned too
        when they come first, so callers that expect none can check."""
        while True:
            frame = await self.recv()
            if frame.get("type") in ("reply", "error", "pong") and frame.get("id") == command_id:
                return frame
            raise AssertionError("unexpected frame before the answer to %d: %r" % (command_id, frame))

    async def command(self, kind, **fields):
        return await self.answer(await self.send_command(kind, **fields))

    async def expect_nothing(self, seconds=0.3):
        try:
            frame = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError("unexpected frame: %r" % frame)

    def worker(self):
        return int(self.client) % 256

    async def close(self):
        await self.ws.close()


async def open_on_both_workers(url, count, user=None):
    """At least `count` clients, and more until both workers have one: the
    kernel spreads connections over the SO_REUSEPORT listeners by hash."""
    clients = []
    while len(clients) < count or len({c.worker() for c in clients}) < 2:
        if len(clients) >= 64:
            raise AssertionError("64 connections all landed on worker %d" % clients[0].worker())
        clients.append(await Client.open(url, user))
    return clients


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


class HubProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server, cls.url = start_server()

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.server)

    def test_subprotocol_is_required(self):
        async def body():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                await websockets.connect(self.url)
            self.assertEqual(caught.exception.status_code, 400)
            client = await Client.open(self.url)
            self.assertEqual(client.ws.subprotocol, PROTOCOL)
            self.assertIsNone(client.user)
            await client.close()
        run(body())

    def test_ping_and_connect(self):
        async def body():
            client = await Client.open(self.url, "carol")
            self.assertEqual(client.user, "carol")
            self.assertEqual(await client.command("ping"), {"type": "pong", "id": 2})
            error = await client.command("connect", token="abc")
            self.assertEqual(error["code"], 117)
            await client.close()
        run(body())

    def test_every_bad_command_gets_its_error_and_the_connection_keeps_working(self):
        cases = [
            ("not json", None, 101),
            ("[1,2,3]", None, 101),
            ('{"type":"ping"}', None, 102),
            ('{"id":-4,"type":"ping"}', None, 102),
            ('{"id":9007199254740992,"type":"ping"}', None, 102),
            ('{"id":1.5,"type":"ping"}', None, 102),
            ('{"id":7}', 7, 104),
            ('{"id":8,"type":"fly"}', 8, 103),
            ('{"id":9,"type":["subscribe"]}', 9, 105),
            ('{"id":10,"type":"subscribe"}', 10, 104),
            ('{"id":11,"type":"subscribe","channel":42}', 11, 105),
            ('{"id":12,"type":"subscribe","channel":"bad name"}', 12, 106),
            ('{"id":13,"type":"subscribe","channel":"%s"}' % ("x" * 256), 13, 106),
            ('{"id":14,"type":"publish","channel":"c"}', 14, 104),
            ('{"id":15,"type":"send","user":"a b","data":1}', 15, 107),
            ('{"id":16,"type":"rpc","method":"no such"}', 16, 108),
            ('{"id":17,"type":"rpc","method":"nosuch"}', 17, 113),
            ('{"id":18,"type":"unsubscribe","channel":"never"}', 18, 111),
            ('{"id":19,"type":"publish","channel":"news","data":1}', 19, 109),
            ('{"id":20,"type":"presence","channel":"plain"}', 20, 116),
            ('{"id":21,"type":"history","channel":"plain"}', 21, 123),
        ]

        async def body():
            client = await Client.open(self.url)
            for text, expected_id, code in cases:
                await client.ws.send(text)
                frame = await client.recv()
                self.assertEqual(frame["type"], "error", text)
                self.assertEqual(frame["id"], expected_id, text)
                self.assertEqual(frame["code"], code, "%s: %s" % (text, frame["message"]))
                self.assertTrue(frame["message"])
            await client.ws.send(b"\x01binary")
            frame = await client.recv()
            self.assertEqual((frame["type"], frame["id"], frame["code"]), ("error", None, 101))
            # Still a working connection.
            client.next_id = 100
            self.assertEqual((await client.command("ping"))["type"], "pong")
            await client.close()
        run(body())

    def test_subscription_errors(self):
        async def body():
            client = await Client.open(self.url)
            self.assertEqual((await client.command("subscribe", channel="s1"))["type"], "reply")
            self.assertEqual((await client.command("subscribe", channel="s1"))["code"], 110)
            for name in ("s2", "s3", "s4"):
                self.assertEqual((await client.command("subscribe", channel=name))["type"], "reply")
            self.assertEqual((await client.command("subscribe", channel="s5"))["code"], 112)
            self.assertEqual((await client.command("unsubscribe", channel="s1"))["type"], "reply")
            self.assertEqual((await client.command("unsubscribe", channel="s1"))["code"], 111)
            self.assertEqual((await client.command("subscribe", channel="s5"))["type"], "reply")
            await client.close()
        run(body())

    def test_publish_reaches_subscribers_on_both_workers_in_order(self):
        async def body():
            clients = await open_on_both_workers(self.url, 8)
            for client in clients:
                self.assertEqual((await client.command("subscribe", channel="chat:all"))["data"], {})
            publisher = clients[0]
            ids = [await publisher.send_command("publish", channel="chat:all", data={"n": n}) for n in range(50)]
            offsets = []
            messages = []
            while len(offsets) < len(ids) or len(messages) < 50:
                frame = await publisher.recv()
                if frame["type"] == "reply":
                    offsets.append((frame["id"], frame["data"]["offset"]))
                else:
                    messages.append(frame)
            self.assertEqual([offset for _, offset in sorted(offsets)], list(range(1, 51)))
            for client in clients[1:] + [None]:
                received = messages if client is None else [await client.recv() for _ in range(50)]
                self.assertEqual([m["data"]["n"] for m in received], list(range(50)))
                self.assertEqual([m["offset"] for m in received], list(range(1, 51)))
                self.assertTrue(all(m["type"] == "message" and m["channel"] == "chat:all" for m in received))
            for client in clients:
                await client.expect_nothing(0.1)
                await client.close()
        run(body())

    def test_exclude_self(self):
        async def body():
            a, b = await Client.open(self.url), await Client.open(self.url)
            for client in (a, b):
                await client.command("subscribe", channel="echo-less")
            reply = await a.command("publish", channel="echo-less", data="x", exclude_self=True)
            self.assertEqual(reply["data"], {"offset": 1})
            self.assertEqual((await b.recv())["data"], "x")
            await a.expect_nothing()
            await a.close()
            await b.close()
        run(body())

    def test_send_reaches_every_connection_of_the_user_and_nobody_else(self):
        async def body():
            alice = await open_on_both_workers(self.url, 4, "alice")
            bob = await Client.open(self.url, "bob")
            eve = await Client.open(self.url, "eve")
            reply = await bob.command("send", user="alice", data={"text": "hi"})
            self.assertEqual(reply["data"], {"online": True})
            for client in alice:
                self.assertEqual(await client.recv(), {"type": "direct", "from": "bob", "data": {"text": "hi"}})
            await eve.expect_nothing()
            await bob.expect_nothing(0.1)
            self.assertEqual((await bob.command("send", user="nobody", data=1))["data"], {"online": False})
            for client in alice:
                await client.close()
            # Once alice's connections are gone, she is offline.
            deadline = time.monotonic() + protocol_client.DEADLINE
            while (await bob.command("send", user="alice", data=1))["data"] != {"online": False}:
                if time.monotonic() >= deadline:
                    self.fail("alice still online after all her connections closed")
                await asyncio.sleep(0.05)  # pacing the poll
            await bob.close()
            await eve.close()
        run(body())

    def test_presence_join_and_leave(self):
        async def body():
            ann = await Client.open(self.url, "ann")
            ben = await Client.open(self.url, "ben")
            await ann.command("subscribe", channel="room:1")
            await ben.command("subscribe", channel="room:1")
            join = await ann.recv()
            self.assertEqual(join, {"type": "join", "channel": "room:1", "user": "ben", "client": ben.client,
                                    "info": None})
            members = (await ben.command("presence", channel="room:1"))["data"]["members"]
            self.assertEqual(sorted((m["user"], m["client"]) for m in members),
                             sorted([("ann", ann.client), ("ben", ben.client)]))
            await ben.command("unsubscribe", channel="room:1")
            self.assertEqual(await ann.recv(), {"type": "leave", "channel": "room:1", "user": "ben",
                                                "client": ben.client})
            await ben.expect_nothing(0.1)
            # presence without join/leave: members, but no events.
            await ann.command("subscribe", channel="quiet:1")
            await ben.command("subscribe", channel="quiet:1")
            await ann.expect_nothing()
            members = (await ann.command("presence", channel="quiet:1"))["data"]["members"]
            self.assertEqual(len(members), 2)
            await ann.close()
            await ben.close()
        run(body())

    def test_leaving_mid_burst_leaves_nothing_behind(self):
        async def body():
            watcher = await Client.open(self.url, "watcher")
            await watcher.command("subscribe", channel="room:burst")
            leavers = [await Client.open(self.url, "leaver%d" % i) for i in range(6)]
            for client in leavers:
                await client.command("subscribe", channel="room:burst")
                self.assertEqual((await watcher.recv())["type"], "join")
            publisher = await Client.open(self.url)
            for n in range(300):
                await publisher.send_command("publish", channel="room:burst", data=n)
            # Vanish without unsubscribing or a close handshake (TCP closed
            # under the server's feet) while messages are still flowing.
            for client in leavers:
                client.ws.transport.abort()
            seen = []
            leaves = set()
            while len(seen) < 300 or len(leaves) < 6:
                frame = await watcher.recv()
                if frame["type"] == "message":
                    seen.append(frame["data"])
                elif frame["type"] == "leave":
                    leaves.add(frame["user"])
            self.assertEqual(seen, list(range(300)))
            self.assertEqual(leaves, {"leaver%d" % i for i in range(6)})
            members = (await watcher.command("presence", channel="room:burst"))["data"]["members"]
            self.assertEqual([m["user"] for m in members], ["watcher"])
            await publisher.close()
            await watcher.close()
        run(body())

    def test_a_subscriber_gets_nothing_from_before_its_subscribe(self):
        """While a channel is busy, each new subscriber's first frame is its
        subscribe reply, then messages with consecutive offsets: the frames
        already on their way when it subscribed are not its to receive."""
        async def body():
            watchers = await open_on_both_workers(self.url, 2)
            for watcher in watchers:
                await watcher.command("subscribe", channel="flood:1")
            publisher = await Client.open(self.url)
            joiners = []
            for i in range(12):
                joiner = await Client.open(self.url, "joiner%d" % i)
                # A burst (within the rate limit) still on its way to the
                # joiner's worker when the subscribe arrives there.
                for n in range(40):
                    await publisher.send_command("publish", channel="flood:1", data="x" * 500)
                await joiner.command("subscribe", channel="flood:1")  # fails on any earlier frame
                joiners.append(joiner)
            # Published after every subscribe reply: each joiner gets it.
            last = await publisher.send_command("publish", channel="flood:1", data="end")
            while (await publisher.recv()).get("id") != last:
                pass
            for joiner in joiners:
                offsets = []
                while True:
                    frame = await joiner.recv()
                    offsets.append(frame["offset"])
                    if frame["data"] == "end":
                        break
                self.assertEqual(offsets, list(range(offsets[0], offsets[0] + len(offsets))))
                await joiner.close()
            for client in watchers + [publisher]:
                await client.close()
        run(body())


if __name__ == "__main__":
    unittest.main(verbosity=2)
