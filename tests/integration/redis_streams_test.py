#!/usr/bin/python3
"""Streams with the Redis broker, with real processes on loopback: a
redis-server this test starts, two `switchboard serve --broker redis://`
nodes, python3-websockets and a TCP proxy the test cuts. A subscriber on one
node, cut off for 2 s while another node publishes 200/s, ends with every
offset exactly once and in order; subscribes on one node racing publishes
on the other never lose or repeat an offset; history, epoch and numbering
are the same through either node; publications missed while a node's
pub/sub link was down are filled in from the stream, and a subscriber that
stays connected through a Redis restarted empty gets `reset`, and then
what the new epoch numbered before its node's link came back; the stream
keeps at most history_size
entries in Redis and goes with its TTL; a Redis restarted empty gives a new
epoch and recovered:false; Redis down makes reads fail plainly. The first
three also over a three-master Redis Cluster, where each stream lives on its
slot's master and keeps its numbering and epoch when the slot moves, and a
subscriber whose node follows the move after the last publish still gets
what was published meanwhile (read from the stream).
"""
import asyncio
import json
import os
import re
import signal
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import protocol_client
from protocol_client import STEP, Client, eventually, metric_samples, run, stop_server
from recovery_test import (STREAM_NAMESPACES, CuttableProxy, Subscriber, check_latest_and_cache,
                           latest_and_cache_replies)
from scaling_test import REDIS, RedisCluster, RedisServer, free_port, ready, wait_until

KEY = "redis-streams-test-api-key"
CONFIG = """
[broker]
%s

[api]
key = "%s"

[limits]
messages_per_s = 0
""" + STREAM_NAMESPACES


def resp_integer(reply):
    """The integer of a RESP ':N' reply."""
    assert reply.startswith(b":"), reply
    return int(reply[1:].split(b"\r\n")[0])


def write_config(directory, broker):
    path = os.path.join(directory, "node.toml")
    with open(path, "w") as file:
        file.write(CONFIG % (broker, KEY))
    return path


def start_nodes(test, config):
    """Two nodes on config, stopped at the test's end; their ports (and
    their processes in test.processes)."""
    ports = []
    test.processes = []
    for _ in range(2):
        node, port = protocol_client.start_server(config, "--workers", "2")
        test.addCleanup(stop_server, node)
        test.processes.append(node)
        ports.append(port)
    for port in ports:
        test.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)
    return ports


class AcrossNodes:
    """What holds over a standalone Redis and a Redis Cluster alike (mixed
    into the TestCases below, which start Redis and self.nodes)."""

    def url(self, node):
        return "ws://127.0.0.1:%d/" % self.nodes[node]

    def get(self, node, path):
        """GET path on a node's HTTP API: (status, JSON body)."""
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.nodes[node], path),
                                         headers={"Authorization": "apikey " + KEY})
        try:
            with urllib.request.urlopen(request, timeout=STEP) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_a_subscriber_cut_off_on_one_node_recovers_what_another_node_published(self):
        channel, count, per_second = "feed:cut", 1000, 200

        async def scenario():
            proxy = CuttableProxy(self.nodes[1])
            await proxy.start()
            subscriber = Subscriber("ws://127.0.0.1:%d/" % proxy.port, channel)
            await subscriber.subscribe()
            reading = asyncio.create_task(subscriber.read_until_lost())
            publisher = await Client.open(self.url(0))
            accepted = []

            async def publish_all():
                started = time.monotonic()
                for sequence in range(count):
                    delay = started + sequence / per_second - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    reply = await publisher.command("publish", channel=channel, data={"seq": sequence})
                    accepted.append((reply["data"]["offset"], reply["data"]["epoch"]))

            publishing = asyncio.create_task(publish_all())
            await protocol_client.eventually_async(lambda: len(accepted), lambda n: n >= 300)
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
            top = accepted[-1][0]
            await protocol_client.eventually_async(lambda: subscriber.position(), lambda last: last >= top)
            await subscriber.client.ws.close()
            await reading
            await publisher.ws.close()
            await proxy.close()
            return subscriber, accepted

        subscriber, accepted = run(scenario())
        self.assertEqual([offset for offset, _ in accepted], list(range(1, count + 1)))
        self.assertEqual({epoch for _, epoch in accepted}, {subscriber.epoch}, "one epoch, on both nodes")
        self.assertEqual(subscriber.offsets, list(range(1, count + 1)), "every offset exactly once, in order")
        self.assertEqual([data["seq"] for data in subscriber.data], list(range(count)))
        recovered, publications = subscriber.recoveries[0]
        self.assertTrue(recovered)
        self.assertGreaterEqual(publications, 200, "2 s at 200/s were recovered from Redis, not delivered live")
        print("\n  cut for 2 s on node B, published on node A: %d offsets, %d recovered"
              % (len(subscriber.offsets), publications))

    def test_subscribes_on_one_node_racing_publishes_on_the_other_never_lose_or_repeat_an_offset(self):
        channel, connections, cycles = "feed:race", 8, 400

        async def scenario():
            publisher = await Client.open(self.url(0))
            done = asyncio.Event()
            published = [0]

            async def publish_until_done():
                while not done.is_set():
                    reply = await publisher.command("publish", channel=channel, data=published[0])
                    published[0] = reply["data"]["offset"]

            async def cycle_many():
                client = await Client.open(self.url(1))
                seen, epoch, last = [], None, 0
                for _ in range(cycles):
                    fields = {"channel": channel}
                    if epoch is not None:
                        fields.update(recover=True, since={"offset": last, "epoch": epoch})
                    data = (await client.command("subscribe", **fields))["data"]
                    if epoch is None:
                        epoch, last = data["epoch"], data["offset"]
                    else:
                        assert data["recovered"] is True and data["epoch"] == epoch, data
                        seen.extend(publication["offset"] for publication in data["publications"])
                        last = data["offset"]
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
        total = 0
        for seen, last in results:
            if seen:
                self.assertEqual(seen, list(range(seen[0], last + 1)), "no gap, no duplicate, in order")
            total += len(seen)
        self.assertGreater(total, 0, "the cycles raced real publishes")
        print("\n  %d subscribes on node B racing a publisher on node A: %d offsets, none lost or repeated"
              % (connections * cycles, total))

    def test_history_epoch_and_numbering_are_the_same_through_either_node(self):
        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            replies = []
            for n in range(6):
                replies.append((await (a, b)[n % 2].command("publish", channel="feed:pages", data={"n": n}))["data"])
            epoch = replies[0]["epoch"]
            pages = []
            for client in (a, b):
                pages.append([
                    await client.command("history", channel="feed:pages"),
                    await client.command("history", channel="feed:pages", limit=2),
                    await client.command("history", channel="feed:pages", limit=2, reverse=True),
                    await client.command("history", channel="feed:pages", since={"offset": 4, "epoch": epoch}),
                    await client.command("history", channel="feed:pages", reverse=True, limit=1,
                                         since={"offset": 2, "epoch": epoch}),
                    await client.command("history", channel="feed:pages", limit=0),
                    await client.command("history", channel="feed:pages", since={"offset": 6, "epoch": epoch}),
                    await client.command("history", channel="feed:pages", since={"offset": 2, "epoch": "other"}),
                    await client.command("history", channel="feed:pages", since={"offset": 9, "epoch": epoch}),
                    await client.command("history", channel="plain"),
                ])
            subscribed = [(await client.command("subscribe", channel="feed:pages"))["data"] for client in (a, b)]
            fresh = [(await client.command("subscribe", channel="feed:fresh"))["data"] for client in (a, b)]
            await a.ws.close()
            await b.ws.close()
            return replies, pages, subscribed, fresh

        replies, pages, subscribed, fresh = run(scenario())
        self.assertEqual([reply["offset"] for reply in replies], [1, 2, 3, 4, 5, 6])
        epoch = replies[0]["epoch"]
        self.assertTrue(all(reply["epoch"] == epoch for reply in replies), replies)
        self.assertEqual(pages[0], pages[1], "the same history through either node")
        for node in (0, 1):
            self.assertEqual(self.get(node, "/api/history?channel=feed:pages"), (200, pages[0][0]["data"]))
        node_pages = pages[0]
        offsets = [[p["offset"] for p in page["data"]["publications"]] for page in node_pages[:7]]
        self.assertEqual(offsets, [[1, 2, 3, 4, 5, 6], [1, 2], [6, 5], [5, 6], [1], [], []])
        self.assertEqual(node_pages[0]["data"]["publications"][0]["data"], {"n": 0})
        self.assertEqual((node_pages[5]["data"]["epoch"], node_pages[5]["data"]["offset"]), (epoch, 6))
        self.assertEqual([page.get("code") for page in node_pages[7:]], [124, 124, 123])
        self.assertEqual(subscribed, [{"recoverable": True, "epoch": epoch, "offset": 6}] * 2)
        # A channel nobody published to yet has its epoch from the first
        # read, and both nodes agree on it.
        self.assertEqual(fresh[0], fresh[1])
        self.assertEqual(fresh[0]["offset"], 0)
        self.assertTrue(fresh[0]["epoch"])


@unittest.skipUnless(os.path.exists(REDIS), "redis-server is not installed (scripts/bootstrap installs it)")
class RedisStreamsTest(AcrossNodes, unittest.TestCase):
    """Two nodes over one redis-server."""

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.redis = RedisServer(free_port())
        self.redis.start()
        self.addCleanup(self.redis.kill)
        config = write_config(self.directory.name, 'url = "redis://127.0.0.1:%d"' % self.redis.port)
        self.nodes = start_nodes(self, config)

    def test_scripts_go_by_evalsha_and_come_back_after_a_script_flush(self):
        async def publish(count, node):
            client = await Client.open(self.url(node))
            replies = [(await client.command("publish", channel="feed:sha", data=n))["data"] for n in range(count)]
            page = (await client.command("history", channel="feed:sha"))["data"]
            await client.ws.close()
            return replies, page

        first, _ = run(publish(20, 0))
        self.assertIn(b"cmdstat_evalsha:", self.redis.command("INFO", "commandstats"))
        self.assertTrue(self.redis.command("SCRIPT", "FLUSH").startswith(b"+OK"))
        again, page = run(publish(20, 0))
        self.assertEqual([reply["offset"] for reply in first + again], list(range(1, 41)))
        self.assertEqual({reply["epoch"] for reply in first + again}, {first[0]["epoch"]})
        self.assertEqual([p["data"] for p in page["publications"]], list(range(20)) * 2)

    def test_publishes_without_a_stream_go_by_evalsha_too(self):
        def calls(command):
            stats = self.redis.command("INFO", "commandstats").decode()
            match = re.search(r"^cmdstat_%s:calls=(\d+)," % command, stats, re.M)
            return int(match.group(1)) if match else 0

        async def publish(count):
            client = await Client.open(self.url(0))
            replies = [(await client.command("publish", channel="plain:sha", data=n))["data"] for n in range(count)]
            await client.ws.close()
            return replies

        evals, evalshas = calls("eval"), calls("evalsha")
        first = run(publish(20))
        # The first on the channel's connection sends the text; the rest its SHA-1.
        self.assertLessEqual(calls("eval") - evals, 1)
        self.assertGreaterEqual(calls("evalsha") - evalshas, 19)
        self.assertTrue(self.redis.command("SCRIPT", "FLUSH").startswith(b"+OK"))
        again = run(publish(5))
        self.assertEqual([reply["offset"] for reply in first + again], list(range(1, 26)))

    def test_redis_keeps_at_most_history_size_entries_and_a_trimmed_position_fails_whole(self):
        async def scenario():
            client = await Client.open(self.url(0))
            first = (await client.command("subscribe", channel="small:trim"))["data"]
            await client.command("unsubscribe", channel="small:trim")
            for n in range(50):
                await client.command("publish", channel="small:trim", data=n)
            other = await Client.open(self.url(1))
            gone = (await other.command("subscribe", channel="small:trim", recover=True,
                                        since={"offset": 44, "epoch": first["epoch"]}))["data"]
            await other.command("unsubscribe", channel="small:trim")
            kept = (await other.command("subscribe", channel="small:trim", recover=True,
                                        since={"offset": 45, "epoch": first["epoch"]}))["data"]
            page = (await other.command("history", channel="small:trim"))["data"]
            over = (await other.command("history", channel="small:trim", since={"offset": 40, "epoch": first["epoch"]}))
            await client.ws.close()
            await other.ws.close()
            return first, gone, kept, page, over

        first, gone, kept, page, over = run(scenario())
        self.assertEqual(resp_integer(self.redis.command("XLEN", "sb:stream:{small:trim}")), 5)
        self.assertEqual(gone, {"recoverable": True, "epoch": first["epoch"], "offset": 50, "recovered": False})
        self.assertEqual([p["offset"] for p in kept["publications"]], [46, 47, 48, 49, 50])
        self.assertEqual([p["data"] for p in kept["publications"]], [45, 46, 47, 48, 49])
        self.assertEqual([p["offset"] for p in page["publications"]], [46, 47, 48, 49, 50])
        self.assertEqual(over.get("code"), 124, over)

    def test_the_ttl_lets_the_stream_go_but_not_the_epoch(self):
        async def publish():
            client = await Client.open(self.url(0))
            first = (await client.command("publish", channel="short:ttl", data="x" * 2000))["data"]
            await client.ws.close()
            return first

        async def recover(first):
            client = await Client.open(self.url(1))
            reply = await client.command("subscribe", channel="short:ttl", recover=True,
                                         since={"offset": first["offset"] - 1, "epoch": first["epoch"]})
            await client.ws.close()
            return reply["data"]

        first = run(publish())
        self.assertEqual(resp_integer(self.redis.command("EXISTS", "sb:stream:{short:ttl}")), 1)
        self.assertEqual(eventually(lambda: resp_integer(self.redis.command("EXISTS", "sb:stream:{short:ttl}")),
                                    lambda n: n == 0), 0)
        data = run(recover(first))
        # The numbering and its epoch outlive the stream: the position is
        # known, its publication is gone.
        self.assertEqual(data, {"recoverable": True, "epoch": first["epoch"], "offset": first["offset"],
                                "recovered": False})

    def test_latest_and_cache_read_from_redis(self):
        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            replies = await latest_and_cache_replies(b, a)
            await a.ws.close()
            await b.ws.close()
            return replies

        check_latest_and_cache(self, run(scenario()))

    def test_a_redis_restarted_empty_gives_a_new_epoch_and_recovered_false(self):
        async def before():
            client = await Client.open(self.url(0))
            for n in range(3):
                reply = (await client.command("publish", channel="feed:restart", data=n))["data"]
            await client.ws.close()
            return reply

        async def down():
            client = await Client.open(self.url(1))
            subscribed = (await client.command("subscribe", channel="feed:down", recover=True,
                                               since={"offset": 1, "epoch": "x"}))["data"]
            page = await client.command("history", channel="feed:down")
            await client.ws.close()
            return subscribed, page

        async def after(last):
            client = await Client.open(self.url(1))
            subscribed = (await client.command("subscribe", channel="feed:restart", recover=True,
                                               since={"offset": last["offset"], "epoch": last["epoch"]}))["data"]
            published = (await client.command("publish", channel="feed:restart", data="again"))["data"]
            await client.ws.close()
            return subscribed, published

        last = run(before())
        self.assertEqual(last["offset"], 3)
        self.redis.kill()
        self.assertTrue(wait_until(lambda: not ready(self.nodes[1])), "a node without Redis is not ready")
        errors_before = metric_samples(self.nodes[1]).get(("switchboard_stream_errors_total", frozenset()), 0)
        subscribed, page = run(down())
        self.assertEqual(subscribed, {"recoverable": False, "recovered": False})
        self.assertEqual(page.get("code"), 117, page)
        self.assertEqual(metric_samples(self.nodes[1])[("switchboard_stream_errors_total", frozenset())],
                         errors_before + 2, "the subscribe's read and the history's")
        self.redis.start()  # same port, empty
        for port in self.nodes:
            self.assertTrue(wait_until(lambda: ready(port)), "node on %d did not come back" % port)
        subscribed, published = run(after(last))
        self.assertEqual(subscribed["recovered"], False)
        self.assertNotEqual(subscribed["epoch"], last["epoch"])
        self.assertEqual(subscribed["offset"], 0)
        self.assertNotIn("publications", subscribed)
        self.assertEqual(published, {"offset": 1, "epoch": subscribed["epoch"]})

    def test_publications_missed_while_a_nodes_pubsub_link_was_down_are_filled_in_from_the_stream(self):
        # Redis drops the nodes' pub/sub connections mid-stream: what was
        # published until they resubscribed is read back from the stream
        # and delivered in order, so the subscriber sees no gap and no reset.
        def metric(node, name):
            return metric_samples(self.nodes[node]).get((name, frozenset()), 0)

        count = 300

        async def scenario():
            subscriber = await Client.open(self.url(1))
            await subscriber.command("subscribe", channel="feed:gap")
            publisher = await Client.open(self.url(0))
            offsets = []

            async def read_all():
                while len(offsets) < count:
                    frame = await subscriber.recv()
                    if frame.get("type") == "message":
                        offsets.append(frame["offset"])
                    else:
                        offsets.append(frame)  # a reset would show here

            reading = asyncio.create_task(read_all())
            for n in range(count):
                await publisher.command("publish", channel="feed:gap", data=n)
                if n == count // 3:
                    await asyncio.to_thread(self.redis.command, "CLIENT", "KILL", "TYPE", "pubsub")
                await asyncio.sleep(0.005)  # pacing the publisher, so that some fall in the outage
            await asyncio.wait_for(reading, 60)
            await publisher.ws.close()
            await subscriber.ws.close()
            return offsets

        catch_ups_before = metric(1, "switchboard_stream_catch_ups_total")
        offsets = run(scenario())
        self.assertEqual(offsets, list(range(1, count + 1)))
        self.assertGreater(metric(1, "switchboard_stream_catch_ups_total"), catch_ups_before)
        self.assertEqual(metric(1, "switchboard_stream_resets_total"), 0)
        print("\n  pub/sub cut mid-stream: %d publications filled in from the stream"
              % metric(1, "switchboard_stream_gap_publications_total"))

    def test_a_subscriber_connected_through_a_redis_restart_gets_a_reset_then_the_new_epoch(self):
        # Its node learns of the new epoch when its link comes back (it
        # reads the stream from its last offset), tells the subscriber
        # with `reset`, and the next publication follows it.
        def resets(node):
            return metric_samples(self.nodes[node]).get(("switchboard_stream_resets_total", frozenset()), 0)

        async def scenario():
            subscriber = await Client.open(self.url(1))
            first = (await subscriber.command("subscribe", channel="feed:live"))["data"]
            publisher = await Client.open(self.url(0))
            for n in range(3):
                await publisher.command("publish", channel="feed:live", data=n)
            before = [await subscriber.recv() for _ in range(3)]
            await publisher.ws.close()
            self.redis.kill()
            await protocol_client.eventually_async(lambda: ready(self.nodes[1]), lambda up: not up)
            self.redis.start()  # same port, empty
            for port in self.nodes:
                await protocol_client.eventually_async(lambda: ready(port), lambda up: up)
            await protocol_client.eventually_async(lambda: resets(1), lambda count: count >= 1)
            publisher = await Client.open(self.url(0))
            published = (await publisher.command("publish", channel="feed:live", data="after"))["data"]
            after = [await subscriber.recv() for _ in range(2)]
            await publisher.ws.close()
            await subscriber.ws.close()
            return first, before, published, after

        first, before, published, after = run(scenario())
        self.assertEqual([m["offset"] for m in before], [1, 2, 3])
        reset, message = after
        self.assertEqual(reset, {"type": "reset", "channel": "feed:live", "epoch": published["epoch"], "offset": 0})
        self.assertNotEqual(published["epoch"], first["epoch"])
        self.assertEqual((message["type"], message["offset"], message["data"]), ("message", 1, "after"))

    def test_what_a_new_epoch_numbered_before_a_nodes_link_came_back_follows_its_reset(self):
        # Node 1 is frozen (SIGSTOP) while Redis restarts empty and node 0
        # publishes five times under the new epoch. When node 1 runs again,
        # its link comes back, its read from the subscriber's place finds
        # the new epoch, and it reads that epoch from its start: `reset` at
        # 0, then offsets 1..5, then the live ones.
        async def scenario():
            subscriber = await Client.open(self.url(1))
            await subscriber.command("subscribe", channel="feed:frozen")
            publisher = await Client.open(self.url(0))
            for n in range(3):
                await publisher.command("publish", channel="feed:frozen", data=n)
            before = [(await subscriber.recv())["offset"] for _ in range(3)]
            await publisher.ws.close()
            self.processes[1].send_signal(signal.SIGSTOP)
            try:
                self.redis.kill()
                await protocol_client.eventually_async(lambda: ready(self.nodes[0]), lambda up: not up)
                self.redis.start()  # same port, empty
                await protocol_client.eventually_async(lambda: ready(self.nodes[0]), lambda up: up)
                publisher = await Client.open(self.url(0))
                published = [(await publisher.command("publish", channel="feed:frozen", data=10 + n))["data"]
                             for n in range(5)]
            finally:
                self.processes[1].send_signal(signal.SIGCONT)
            after = [await subscriber.recv() for _ in range(6)]
            published.append((await publisher.command("publish", channel="feed:frozen", data=15))["data"])
            after.append(await subscriber.recv())
            await publisher.ws.close()
            await subscriber.ws.close()
            return before, published, after

        before, published, after = run(scenario())
        self.assertEqual(before, [1, 2, 3])
        epoch = published[0]["epoch"]
        self.assertEqual([(reply["offset"], reply["epoch"]) for reply in published],
                         [(n, epoch) for n in range(1, 7)])
        self.assertEqual(after[0], {"type": "reset", "channel": "feed:frozen", "epoch": epoch, "offset": 0})
        self.assertEqual([(frame["type"], frame["offset"], frame["data"]) for frame in after[1:]],
                         [("message", n, 9 + n) for n in range(1, 7)])


@unittest.skipUnless(os.path.exists(REDIS), "redis-server is not installed (scripts/bootstrap installs it)")
class RedisClusterStreamsTest(AcrossNodes, unittest.TestCase):
    """Two nodes over a Redis Cluster of three masters: each channel's
    stream, meta and Redis channel on the master of its slot."""

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.cluster = RedisCluster(self.directory.name)
        self.addCleanup(self.cluster.stop)
        self.cluster.start()
        config = write_config(self.directory.name,
                              'url = "redis://127.0.0.1:%d"\ncluster = true' % self.cluster.ports[0])
        self.nodes = start_nodes(self, config)

    def holders(self, key):
        """The masters that hold key (a wrong master answers MOVED)."""
        return [index for index in range(3) if self.cluster.cli(index, "EXISTS", key) == ["1"]]

    def test_each_stream_lives_with_its_channel_on_the_master_of_its_slot(self):
        channels = ["feed:spread:%d" % i for i in range(9)]

        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            for channel in channels:
                await b.command("subscribe", channel=channel)
            for channel in channels:
                for n in range(3):
                    reply = await a.command("publish", channel=channel, data=n)
                    self.assertEqual(reply["data"]["offset"], n + 1, reply)
            got = {}
            for _ in range(3 * len(channels)):
                message = await b.recv()
                got.setdefault(message["channel"], []).append(message["offset"])
            pages = [(await b.command("history", channel=channel))["data"] for channel in channels]
            await a.ws.close()
            await b.ws.close()
            return got, pages

        got, pages = run(scenario())
        self.assertEqual(got, {channel: [1, 2, 3] for channel in channels})
        self.assertEqual([[p["data"] for p in page["publications"]] for page in pages], [[0, 1, 2]] * len(channels))
        masters = set()
        for channel in channels:
            [stream_master] = self.holders("sb:stream:{%s}" % channel)
            self.assertEqual(self.holders("sb:meta:{%s}" % channel), [stream_master])
            # The channel's slot: the master that would take its SPUBLISH.
            self.assertEqual(self.cluster.cli(stream_master, "SPUBLISH", "sb:ch:{%s}" % channel, "probe"), ["0"])
            masters.add(stream_master)
        self.assertEqual(len(masters), 3, "9 channels on fewer than three masters")

    def test_a_stream_whose_slot_moves_keeps_its_numbering_and_epoch(self):
        channel = "feed:moving"

        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            accepted = []
            for n in range(10):
                accepted.append((await a.command("publish", channel=channel, data=n))["data"])
            [source] = self.holders("sb:stream:{%s}" % channel)
            await asyncio.to_thread(self.cluster.move_slot, "sb:stream:{%s}" % channel, source, (source + 1) % 3)
            # The nodes follow the move (local_only until they have).
            deadline = time.monotonic() + 20
            n = 10
            while len(accepted) < 20:
                self.assertLess(time.monotonic(), deadline, "no numbered publish after the slot moved")
                reply = (await a.command("publish", channel=channel, data=n))["data"]
                if reply.get("local_only"):
                    await asyncio.sleep(0.1)  # pacing the retries
                    continue
                accepted.append(reply)
                n += 1
            # Node 1 reads through the new master once it has followed too
            # (error 117 until then: a MOVED read is not answered).
            while True:
                self.assertLess(time.monotonic(), deadline, "history never read after the slot moved")
                page = await b.command("history", channel=channel)
                if page["type"] == "reply":
                    break
                self.assertEqual(page["code"], 117, page)
                await asyncio.sleep(0.1)  # pacing the retries
            await a.ws.close()
            await b.ws.close()
            return source, accepted, page["data"]

        source, accepted, page = run(scenario())
        self.assertEqual([reply["offset"] for reply in accepted], list(range(1, 21)))
        self.assertEqual({reply["epoch"] for reply in accepted}, {accepted[0]["epoch"]})
        self.assertEqual(page["epoch"], accepted[0]["epoch"])
        self.assertEqual([p["offset"] for p in page["publications"]], list(range(1, 21)))
        self.assertEqual(self.holders("sb:stream:{%s}" % channel), [(source + 1) % 3])

    def test_a_subscriber_whose_node_follows_the_move_after_the_last_publish_still_gets_it(self):
        # Node 1 follows the move on its refresh timer, after the last
        # publish: what its old master dropped and the new one published
        # before node 1 subscribed there is only in the stream, and no
        # later publication shows node 1 the gap.
        channel = "feed:quiet-move"

        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            await b.command("subscribe", channel=channel)
            for n in range(3):
                await a.command("publish", channel=channel, data=n)
            got = [(await b.recv())["offset"] for _ in range(3)]
            [source] = self.holders("sb:stream:{%s}" % channel)
            await asyncio.to_thread(self.cluster.move_slot, "sb:stream:{%s}" % channel, source, (source + 1) % 3)
            deadline = time.monotonic() + 20
            last = 3
            while last < 6:  # node 0 follows once answered MOVED (local_only until then)
                self.assertLess(time.monotonic(), deadline, "no numbered publish after the slot moved")
                reply = (await a.command("publish", channel=channel, data=last))["data"]
                if reply.get("local_only"):
                    await asyncio.sleep(0.1)  # pacing the retries
                    continue
                last = reply["offset"]
            try:
                while len(got) < last:
                    frame = json.loads(await asyncio.wait_for(b.ws.recv(), 15))  # node 1's refresh: 5 s
                    got.append(frame["offset"] if frame["type"] == "message" else frame)
            except asyncio.TimeoutError:
                pass  # the assertion says what is missing
            await a.ws.close()
            await b.ws.close()
            return got

        self.assertEqual(run(scenario()), [1, 2, 3, 4, 5, 6])


if __name__ == "__main__":
    unittest.main(verbosity=2)
