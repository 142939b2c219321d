#!/usr/bin/python3
"""History and recovery end to end with one node and the memory broker
(python3-websockets, a TCP proxy the test controls), counting every
message: a subscriber cut off for 2 s under 200 publishes/s ends with every
offset exactly once and in order; thousands of subscribe/unsubscribe
cycles racing a publisher never lose or repeat an offset between what is
recovered and what comes live; a restarted node gives a new epoch and
recovered:false; history pages and the HTTP API; TTL expiry frees the
stream; cache namespaces; the recovery metrics.
"""
import asyncio
import http.client
import json
import os
import tempfile
import time
import unittest
import urllib.parse

import websockets

import protocol_client
from protocol_client import PROTOCOL, STEP, Client, eventually, metric_samples, run, stop_server

KEY = "recovery-test-api-key"
# The namespaces with streams these tests use (redis_streams_test.py too).
STREAM_NAMESPACES = """
[[namespaces]]
pattern = "feed:*"
history_size = 100000
history_ttl = 300

[[namespaces]]
pattern = "small:*"
history_size = 5
history_ttl = 300

[[namespaces]]
pattern = "short:*"
history_size = 10
history_ttl = 1

[[namespaces]]
pattern = "state:*"
history_size = 1
history_ttl = 300
cache = true
"""
CONFIG = """
[api]
key = "%s"

[limits]
messages_per_s = 0
""" % KEY + STREAM_NAMESPACES


class CuttableProxy:
    """Forwards loopback TCP connections to the server's port; cut() drops
    every connection it carries, and while refusing, new ones are closed at
    once (what a client sees when its network is gone)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.refusing = False
        self.pipes = set()

    async def start(self):
        self.server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _carry(self, client_reader, client_writer):
        if self.refusing:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        writers = (client_writer, server_writer)
        self.pipes.add(writers)

        async def pump(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for each in writers:
                    each.transport.abort()

        await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer))
        self.pipes.discard(writers)

    def cut(self):
        for writers in list(self.pipes):
            for writer in writers:
                writer.transport.abort()

    async def close(self):
        self.cut()
        self.server.close()
        await self.server.wait_closed()


class Subscriber:
    """One channel's subscriber that counts what it gets and, after its
    connection is lost, comes back and recovers from its position."""

    def __init__(self, url, channel):
        self.url = url
        self.channel = channel
        self.offsets = []  # every offset handed to the "application", in order
        self.data = []
        self.epoch = None
        self.recoveries = []  # (recovered, publications) of each resubscribe

    def position(self):
        return self.offsets[-1] if self.offsets else self.start_offset

    async def subscribe(self):
        self.client = await Client.open(self.url)
        fields = {"channel": self.channel}
        if self.epoch is not None:
            fields.update(recover=True, since={"offset": self.position(), "epoch": self.epoch})
        reply = await self.client.command("subscribe", **fields)
        assert reply["type"] == "reply", reply
        data = reply["data"]
        if self.epoch is None:
            self.epoch, self.start_offset = data["epoch"], data["offset"]
        else:
            self.recoveries.append((data["recovered"], len(data.get("publications", []))))
            assert data["epoch"] == self.epoch, data
            for publication in data.get("publications", []):
                self.take(publication["offset"], publication["data"])
        for frame in self.client.backlog:
            self.take(frame["offset"], frame["data"])
        self.client.backlog.clear()

    def take(self, offset, data):
        self.offsets.append(offset)
        self.data.append(data)

    async def read_until_lost(self):
        try:
            while True:
                frame = json.loads(await self.client.ws.recv())
                if frame.get("type") == "message":
                    self.take(frame["offset"], frame["data"])
        except websockets.exceptions.ConnectionClosed:
            return


async def latest_and_cache_replies(subscriber, publisher):
    """The subscribe replies that show `latest` and a `cache` namespace
    (state:*): before and after publishes, asked and not, and on a channel
    without a stream. subscriber and publisher may be one client, or two on
    different nodes (redis_streams_test.py)."""
    empty = (await subscriber.command("subscribe", channel="state:price"))["data"]
    await subscriber.command("unsubscribe", channel="state:price")
    for price in (10, 11, 12):
        await publisher.command("publish", channel="state:price", data={"price": price})
    cached = (await subscriber.command("subscribe", channel="state:price"))["data"]
    asked = (await subscriber.command("subscribe", channel="feed:latest", latest=True))["data"]
    await publisher.command("publish", channel="feed:latest", data="now")
    await subscriber.recv()
    await subscriber.command("unsubscribe", channel="feed:latest")
    asked_again = (await subscriber.command("subscribe", channel="feed:latest", latest=True))["data"]
    plain = (await subscriber.command("subscribe", channel="plain", latest=True))["data"]
    return empty, cached, asked, asked_again, plain


def check_latest_and_cache(test, replies):
    empty, cached, asked, asked_again, plain = replies
    test.assertIsNone(empty["latest"])
    test.assertEqual(cached["latest"], {"offset": 3, "data": {"price": 12}})
    test.assertEqual(cached["offset"], 3)
    test.assertIsNone(asked["latest"])
    test.assertEqual(asked_again["latest"], {"offset": 1, "data": "now"})
    test.assertEqual(plain, {"recoverable": False})


class RecoveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.config = os.path.join(cls.directory.name, "serve.toml")
        with open(cls.config, "w") as file:
            file.write(CONFIG)
        cls.server, cls.port = protocol_client.start_server(cls.config, "--workers", "2")
        cls.url = "ws://127.0.0.1:%d/" % cls.port

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.server)
        cls.directory.cleanup()

    def request(self, method, path, body=None, key=KEY):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=STEP)
        headers = {"Authorization": "apikey " + key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, json.loads(text)

    def recoveries(self, outcome):
        return metric_samples(self.port).get(("switchboard_recoveries_total", frozenset({("outcome", outcome)})), 0)

    def test_a_subscriber_cut_off_for_two_seconds_gets_every_offset_once_and_in_order(self):
        channel, count, per_second = "feed:cut", 1000, 200
        recovered_before = self.recoveries("recovered")

        async def scenario():
            proxy = CuttableProxy(self.port)
            await proxy.start()
            subscriber = Subscriber("ws://127.0.0.1:%d/" % proxy.port, channel)
            await subscriber.subscribe()
            reading = asyncio.create_task(subscriber.read_until_lost())
            publisher = await Client.open(self.url)
            accepted = []

            async def publish_all():
                started = time.monotonic()
                for sequence in range(count):
                    # Paced to per_second from the start, not per message.
                    delay = started + sequence / per_second - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    reply = await publisher.command("publish", channel=channel, data={"seq": sequence})
                    accepted.append(reply["data"]["offset"])

            publishing = asyncio.create_task(publish_all())
            await protocol_client.eventually_async(lambda: len(accepted), lambda n: n >= 300)
            # The network goes for 2 s: the connection dies, and coming back
            # is refused until it returns.
            proxy.refusing = True
            proxy.cut()
            await reading
            cut_at = len(accepted)
            await asyncio.sleep(2)  # the outage the test simulates, not a wait for a result
            self.assertGreater(len(accepted), cut_at, "publishes go on during the outage")
            proxy.refusing = False
            await subscriber.subscribe()
            reading = asyncio.create_task(subscriber.read_until_lost())
            await publishing
            await protocol_client.eventually_async(lambda: subscriber.position(), lambda top: top >= accepted[-1])
            await subscriber.client.ws.close()
            await reading
            await publisher.ws.close()
            await proxy.close()
            return subscriber, accepted

        subscriber, accepted = run(scenario())
        self.assertEqual(accepted, list(range(1, count + 1)))
        self.assertEqual(subscriber.offsets, accepted, "every offset exactly once, in order")
        self.assertEqual([data["seq"] for data in subscriber.data], list(range(count)))
        self.assertEqual(len(subscriber.recoveries), 1)
        recovered, publications = subscriber.recoveries[0]
        self.assertTrue(recovered)
        self.assertGreaterEqual(publications, 200, "2 s at 200/s were recovered, not delivered live")
        print("\n  cut for 2 s: %d offsets, %d of them recovered" % (len(subscriber.offsets), publications))
        self.assertEqual(self.recoveries("recovered"), recovered_before + 1)

    def test_subscribes_racing_publishes_never_lose_or_repeat_an_offset(self):
        # Every cycle subscribes recovering from the last offset seen, reads
        # what comes live until its unsubscribe is answered, and so on: the
        # offsets seen over all cycles must be exactly 1..top, in order,
        # while a publisher keeps publishing without pause.
        channel, connections, cycles = "feed:race", 8, 400

        async def scenario():
            publisher = await Client.open(self.url)
            done = asyncio.Event()
            published = [0]

            async def publish_until_done():
                while not done.is_set():
                    reply = await publisher.command("publish", channel=channel, data=published[0])
                    published[0] = reply["data"]["offset"]

            async def cycle_many():
                client = await Client.open(self.url)
                seen = []
                epoch = None
                last = 0
                for _ in range(cycles):
                    fields = {"channel": channel}
                    if epoch is not None:
                        fields.update(recover=True, since={"offset": last, "epoch": epoch})
                    reply = await client.command("subscribe", **fields)
                    data = reply["data"]
                    if epoch is None:
                        epoch, last = data["epoch"], data["offset"]
                    else:
                        assert data["recovered"] is True and data["epoch"] == epoch, data
                        for publication in data["publications"]:
                            seen.append(publication["offset"])
                        last = data["offset"]
                    # What arrives before the unsubscribe's answer is live.
                    await client.command("unsubscribe", channel=channel)
                    for frame in client.backlog:
                        seen.append(frame["offset"])
                        last = frame["offset"]
                    client.backlog.clear()
                await client.ws.close()
                return seen, last

            publishing = asyncio.create_task(publish_until_done())
            await protocol_client.eventually_async(lambda: published[0], lambda top: top >= 50)
            results = await asyncio.gather(*(cycle_many() for _ in range(connections)))
            done.set()
            await publishing
            await publisher.ws.close()
            return results

        results = run(scenario(), seconds=240)
        for seen, last in results:
            if not seen:
                continue
            first = seen[0]
            self.assertEqual(seen, list(range(first, last + 1)), "no gap, no duplicate, in order")
        total = sum(len(seen) for seen, _ in results)
        self.assertGreater(total, 0, "the cycles raced real publishes")
        print("\n  %d subscribes racing a publisher: %d offsets seen, none lost or repeated"
              % (connections * cycles, total))

    def test_a_restarted_node_gives_a_new_epoch_and_recovered_false(self):
        directory = tempfile.TemporaryDirectory()
        config = os.path.join(directory.name, "serve.toml")
        with open(config, "w") as file:
            file.write(CONFIG)
        server, port = protocol_client.start_server(config)
        url = "ws://127.0.0.1:%d/" % port

        async def before():
            client = await Client.open(url)
            reply = await client.command("subscribe", channel="feed:restart")
            for n in range(3):
                await client.command("publish", channel="feed:restart", data=n)
            await client.ws.close()
            return reply["data"]["epoch"]

        async def after(epoch):
            client = await Client.open(url)
            reply = await client.command("subscribe", channel="feed:restart", recover=True,
                                         since={"offset": 3, "epoch": epoch})
            await client.ws.close()
            return reply["data"]

        try:
            epoch = run(before())
            stop_server(server)
            server, port = protocol_client.start_server(config)
            url = "ws://127.0.0.1:%d/" % port
            data = run(after(epoch))
        finally:
            stop_server(server)
            directory.cleanup()
        self.assertEqual(data["recovered"], False)
        self.assertNotEqual(data["epoch"], epoch)
        self.assertEqual(data["offset"], 0)
        self.assertNotIn("publications", data)

    def test_recovery_fails_whole_never_partial_when_the_stream_trimmed_the_position(self):
        async def scenario():
            client = await Client.open(self.url)
            first = (await client.command("subscribe", channel="small:trim"))["data"]
            await client.command("unsubscribe", channel="small:trim")
            for n in range(8):  # 8 > history_size 5: offsets 1..3 are trimmed
                await client.command("publish", channel="small:trim", data=n)
            gone = await client.command("subscribe", channel="small:trim", recover=True,
                                        since={"offset": first["offset"], "epoch": first["epoch"]})
            await client.command("unsubscribe", channel="small:trim")
            kept = await client.command("subscribe", channel="small:trim", recover=True,
                                        since={"offset": 3, "epoch": first["epoch"]})
            await client.ws.close()
            return first, gone["data"], kept["data"]

        failed_before = self.recoveries("failed")
        first, gone, kept = run(scenario())
        self.assertEqual(first["offset"], 0)
        self.assertEqual(gone, {"recoverable": True, "epoch": first["epoch"], "offset": 8, "recovered": False})
        self.assertEqual([p["offset"] for p in kept["publications"]], [4, 5, 6, 7, 8])
        self.assertEqual([p["data"] for p in kept["publications"]], [3, 4, 5, 6, 7])
        self.assertEqual(self.recoveries("failed"), failed_before + 1)

    def test_history_pages_and_errors(self):
        async def scenario():
            client = await Client.open(self.url)
            replies = []
            for n in range(4):
                replies.append((await client.command("publish", channel="feed:pages", data={"n": n}))["data"])
            epoch = replies[0]["epoch"]
            pages = [
                await client.command("history", channel="feed:pages"),
                await client.command("history", channel="feed:pages", limit=2),
                await client.command("history", channel="feed:pages", limit=2, reverse=True),
                await client.command("history", channel="feed:pages", since={"offset": 2, "epoch": epoch}),
                await client.command("history", channel="feed:pages", reverse=True, limit=1,
                                     since={"offset": 2, "epoch": epoch}),
                await client.command("history", channel="feed:pages", limit=0),
                await client.command("history", channel="feed:pages", since={"offset": 2, "epoch": "other"}),
                await client.command("history", channel="feed:pages", since={"offset": 9, "epoch": epoch}),
                await client.command("history", channel="plain"),
            ]
            await client.ws.close()
            return replies, pages

        replies, pages = run(scenario())
        self.assertEqual([reply["offset"] for reply in replies], [1, 2, 3, 4])
        epoch = replies[0]["epoch"]
        self.assertTrue(all(reply["epoch"] == epoch for reply in replies))
        offsets = [[p["offset"] for p in page["data"]["publications"]] for page in pages[:6]]
        self.assertEqual(offsets, [[1, 2, 3, 4], [1, 2], [4, 3], [3, 4], [1], []])
        self.assertEqual(pages[0]["data"]["publications"][0]["data"], {"n": 0})
        self.assertEqual((pages[5]["data"]["epoch"], pages[5]["data"]["offset"]), (epoch, 4))
        self.assertEqual([page["code"] for page in pages[6:]], [124, 124, 123])

    def test_the_http_api_publishes_with_the_epoch_and_reads_history(self):
        status, published = self.request("POST", "/api/publish", {"channel": "feed:api", "data": "one"})
        self.assertEqual(status, 200)
        self.assertEqual(published["offset"], 1)
        epoch = published["epoch"]
        self.request("POST", "/api/publish", {"channel": "feed:api", "data": "two"})
        status, page = self.request("GET", "/api/history?channel=feed:api")
        self.assertEqual(status, 200)
        self.assertEqual(page, {"epoch": epoch, "offset": 2,
                                "publications": [{"offset": 1, "data": "one"}, {"offset": 2, "data": "two"}]})
        query = urllib.parse.urlencode({"channel": "feed:api", "limit": 1, "reverse": "true"})
        self.assertEqual(self.request("GET", "/api/history?" + query)[1]["publications"], [{"offset": 2, "data": "two"}])
        query = urllib.parse.urlencode({"channel": "feed:api", "since_offset": 1, "since_epoch": epoch})
        self.assertEqual(self.request("GET", "/api/history?" + query)[1]["publications"], [{"offset": 2, "data": "two"}])
        query = urllib.parse.urlencode({"channel": "feed:api", "since_offset": 1, "since_epoch": "gone"})
        self.assertEqual(self.request("GET", "/api/history?" + query)[0], 410)
        self.assertEqual(self.request("GET", "/api/history?channel=feed:api&since_offset=1")[0], 400)
        self.assertEqual(self.request("GET", "/api/history?channel=feed:api&limit=-1")[0], 400)
        self.assertEqual(self.request("GET", "/api/history?channel=plain")[0], 400)
        self.assertEqual(self.request("GET", "/api/history?channel=feed:api", key="wrong")[0], 401)

    def test_the_ttl_lets_the_stream_go_and_its_memory_with_it(self):
        # A node of its own, so that only this test's stream is counted.
        server, port = protocol_client.start_server(self.config)
        url = "ws://127.0.0.1:%d/" % port

        def gauge(name):
            return metric_samples(port)[(name, frozenset())]

        async def publish():
            client = await Client.open(url)
            first = (await client.command("publish", channel="short:ttl", data="x" * 2000))["data"]
            await client.ws.close()
            return first

        async def recover(first):
            client = await Client.open(url)
            reply = await client.command("subscribe", channel="short:ttl", recover=True,
                                         since={"offset": first["offset"], "epoch": first["epoch"]})
            await client.ws.close()
            return reply["data"]

        try:
            first = run(publish())
            self.assertGreater(gauge("switchboard_history_bytes"), 2000)
            self.assertEqual(gauge("switchboard_history_publications"), 1)
            # history_ttl = 1: the publication expires, and the idle stream
            # goes with its epoch and its memory.
            self.assertEqual(eventually(lambda: gauge("switchboard_history_bytes"), lambda n: n == 0), 0)
            self.assertEqual(gauge("switchboard_history_publications"), 0)
            data = run(recover(first))
        finally:
            stop_server(server)
        self.assertEqual(data["recovered"], False)
        self.assertNotEqual(data["epoch"], first["epoch"])

    def test_latest_and_cache_give_the_current_state_with_the_reply(self):
        async def scenario():
            client = await Client.open(self.url)
            replies = await latest_and_cache_replies(client, client)
            await client.ws.close()
            return replies

        check_latest_and_cache(self, run(scenario()))

    def test_old_clients_see_no_new_fields_on_channels_without_history(self):
        async def scenario():
            client = await Client.open(self.url)
            subscribed = await client.command("subscribe", channel="plain")
            published = await client.command("publish", channel="plain", data=1)
            await client.ws.close()
            return subscribed["data"], published["data"]

        self.assertEqual(run(scenario()), ({}, {"offset": 1}))


if __name__ == "__main__":
    unittest.main(verbosity=2)
