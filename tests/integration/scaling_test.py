#!/usr/bin/python3
"""Several nodes over Redis, with real processes on loopback: a
redis-server this test starts on a free port, and `switchboard serve
--broker redis://...` nodes. Publishes cross nodes with one numbering; a
subscribe reply means the subscription is in place cluster-wide; messages
and disconnects reach a user on every node; presence and join/leave span
nodes, and a killed node's members leave within the presence TTL; Redis
going away makes the nodes not-ready and publishes local-only, and when it
comes back they recover by themselves, without any client reconnecting.
"""
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import protocol_client
import websockets
from protocol_client import STEP, Client, run, send_once_watched, stop_server

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
KEY = "scaling-api-key-0123456789"
PRESENCE_TTL_MS = 1500


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, port):
        self.port = port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)  # pacing the poll
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def command(self, *words):
        """One command in RESP; the raw reply (its first read)."""
        request = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=STEP) as link:
                link.sendall(request)
                return link.recv(65536)
        except OSError:
            return b""

    def numsub(self, channel):
        """How many connections (one per node) subscribe to channel."""
        reply = self.command("PUBSUB", "NUMSUB", channel).split(b"\r\n")
        return int(reply[-2][1:])

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
TLS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tls")


def free_cluster_port():
    """A port p with p + 10000 (the cluster bus) free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


class RedisCluster:
    """Three masters, no replicas, made with redis-cli --cluster create;
    with tls, the masters speak TLS only, to clients and to each other."""

    def __init__(self, directory, tls=False):
        self.directory = directory
        self.tls = tls
        self.ports = []
        self.processes = []

    def tls_args(self):
        return ["--tls", "--cacert", os.path.join(TLS_DIR, "ca.pem")] if self.tls else []

    def cli(self, index, *words):
        """redis-cli against master index: its output lines (raw, not a tty)."""
        done = subprocess.run([REDIS_CLI, *self.tls_args(), "-h", "127.0.0.1", "-p", str(self.ports[index]), *words],
                              capture_output=True, text=True, timeout=STEP)
        return done.stdout.splitlines()

    def start(self):
        for _ in range(3):
            port = free_cluster_port()
            listen = ["--port", str(port)]
            if self.tls:
                listen = ["--port", "0", "--tls-port", str(port), "--tls-cluster", "yes",
                          "--tls-cert-file", os.path.join(TLS_DIR, "server.pem"),
                          "--tls-key-file", os.path.join(TLS_DIR, "server.key"),
                          "--tls-ca-cert-file", os.path.join(TLS_DIR, "ca.pem"), "--tls-auth-clients", "no"]
            self.processes.append(subprocess.Popen(
                [REDIS, *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes-%d.conf" % port,
                 "--cluster-node-timeout", "5000", "--dir", self.directory],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.ports.append(port)
        for index in range(3):
            assert wait_until(lambda: self.cli(index, "PING") == ["PONG"], 10), "a master did not start"
        create = subprocess.run([REDIS_CLI, *self.tls_args(), "--cluster", "create",
                                 *("127.0.0.1:%d" % port for port in self.ports),
                                 "--cluster-replicas", "0", "--cluster-yes"],
                                capture_output=True, text=True, timeout=60)
        assert create.returncode == 0, create.stdout + create.stderr
        for index in range(3):
            assert wait_until(lambda: "cluster_state:ok" in self.cli(index, "CLUSTER", "INFO"), 20), \
                "the cluster did not come up"

    def move_slot(self, key, source, target):
        """Moves key's slot, with its keys, from master source to target (the
        steps redis-cli --cluster reshard takes, for one slot)."""
        slot = self.cli(source, "CLUSTER", "KEYSLOT", key)[0]
        source_id = self.cli(source, "CLUSTER", "MYID")[0]
        target_id = self.cli(target, "CLUSTER", "MYID")[0]
        assert self.cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == ["OK"]
        assert self.cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == ["OK"]
        keys = self.cli(source, "CLUSTER", "GETKEYSINSLOT", slot, "1000")
        if keys:
            moved = self.cli(source, "MIGRATE", "127.0.0.1", str(self.ports[target]), "", "0", "5000", "KEYS", *keys)
            assert moved == ["OK"], moved
        for index in range(3):
            assert self.cli(index, "CLUSTER", "SETSLOT", slot, "NODE", target_id) == ["OK"]

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def ready(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=STEP) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return False


def broker_errors(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=STEP) as response:
        text = response.read().decode()
    return int(float(re.search(r"^switchboard_broker_errors_total (\S+)$", text, re.M).group(1)))


def wait_until(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)  # pacing the poll
    return False


@unittest.skipUnless(os.path.exists(REDIS), "redis-server is not installed (scripts/bootstrap installs it)")
class ScalingTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.redis = RedisServer(free_port())
        self.redis.start()
        self.addCleanup(self.redis.kill)
        config = os.path.join(self.directory.name, "node.toml")
        with open(config, "w") as file:
            file.write('[broker]\nurl = "redis://127.0.0.1:%d"\npresence_ttl_ms = %d\n[api]\nkey = "%s"\n'
                       '[[namespaces]]\npattern = "lobby:*"\npresence = true\njoin_leave = true\n'
                       % (self.redis.port, PRESENCE_TTL_MS, KEY))
        self.nodes = []
        self.processes = []
        for _ in range(2):
            node, port = protocol_client.start_server(config, "--workers", "2", "--insecure-user-query",
                                                      "--drain-spread-ms", "200")
            self.addCleanup(stop_server, node)
            self.nodes.append(port)
            self.processes.append(node)
        for port in self.nodes:
            self.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)

    def url(self, node):
        return "ws://127.0.0.1:%d/" % self.nodes[node]

    def api(self, node, path, body=None):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.nodes[node], path),
                                         data=None if body is None else json.dumps(body).encode(),
                                         method="GET" if body is None else "POST",
                                         headers={"Authorization": "apikey " + KEY})
        try:
            with urllib.request.urlopen(request, timeout=STEP) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_publish_crosses_nodes_with_one_numbering(self):
        async def scenario():
            a = await Client.open(self.url(0), user="ann")
            b = await Client.open(self.url(1), user="ben")
            for client in (a, b):
                self.assertEqual((await client.command("subscribe", channel="room:1"))["type"], "reply")
            offsets = []
            for i in range(20):
                publisher = (a, b)[i % 2]
                reply = await publisher.command("publish", channel="room:1", data=i)
                self.assertEqual(reply["type"], "reply", reply)
                offsets.append(reply["data"]["offset"])
            self.assertEqual(offsets, list(range(offsets[0], offsets[0] + 20)))
            for client in (a, b):
                got = [await client.recv() for _ in range(20)]
                self.assertEqual([m["data"] for m in got], list(range(20)))
                self.assertEqual([m["offset"] for m in got], offsets)
            # exclude_self leaves out the publisher only, not a client on
            # another node that happens to have the same id.
            await a.command("publish", channel="room:1", data="x", exclude_self=True)
            self.assertEqual((await b.recv())["data"], "x")
            await a.ws.close()
            await b.ws.close()
        run(scenario())

    def test_a_subscribe_reply_means_publishes_from_any_node_arrive(self):
        async def scenario():
            publisher = await Client.open(self.url(0))
            for i in range(10):
                subscriber = await Client.open(self.url(1))
                # A channel new to node 1: its reply waits for Redis's SUBSCRIBE confirmation.
                self.assertEqual((await subscriber.command("subscribe", channel="fresh:%d" % i))["type"], "reply")
                await publisher.command("publish", channel="fresh:%d" % i, data=i)
                self.assertEqual((await subscriber.recv())["data"], i)
                await subscriber.ws.close()
            await publisher.ws.close()
        run(scenario())

    def test_send_to_user_reaches_every_node_the_user_is_on(self):
        async def scenario():
            # carol on both nodes, dave on node 1 only; no lookup table: each
            # node listens on carol's Redis channel while she is connected there.
            carol = [await Client.open(self.url(0), user="carol"), await Client.open(self.url(1), user="carol")]
            dave = await Client.open(self.url(1), user="dave")
            # Each node has the users' Redis channels a moment after their
            # first connection there (docs/SCALING.md, known windows).
            for channel, nodes in (("sb:user:{carol}", 2), ("sb:user:{dave}", 1)):
                self.assertTrue(await asyncio.to_thread(wait_until, lambda: self.redis.numsub(channel) == nodes),
                                "%s: %d nodes" % (channel, self.redis.numsub(channel)))
            reply = await dave.command("send", user="carol", data={"n": 1})
            self.assertEqual(reply["data"], {"online": True}, reply)
            for client in carol:
                direct = await client.recv()
                self.assertEqual((direct["type"], direct["from"], direct["data"]), ("direct", "dave", {"n": 1}))
            self.assertEqual((await dave.command("send", user="nobody", data=1))["data"], {"online": False})
            # The HTTP API of either node reaches both.
            self.assertEqual(await asyncio.to_thread(self.api, 1, "/api/send", {"user": "carol", "data": 2}),
                             (200, {"online": True}))
            for client in carol:
                self.assertEqual((await client.recv())["data"], 2)
            # Disconnect through a node that does not have the user.
            status, body = await asyncio.to_thread(self.api, 0, "/api/disconnect",
                                                   {"user": "dave", "code": 4010, "reason": "banned"})
            self.assertEqual((status, body), (200, {"disconnected": 0, "other_nodes": 1}))
            notice = await dave.recv()
            self.assertEqual(notice, {"type": "disconnect", "code": 4010, "reason": "banned", "reconnect": False})
            with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(dave.ws.recv(), STEP)
            self.assertEqual((closed.exception.code, closed.exception.reason), (4010, "banned"))
            # A node whose last connection of a user closed stops listening for her.
            self.assertEqual(self.redis.numsub("sb:user:{carol}"), 2)
            self.assertEqual(await asyncio.to_thread(self.api, 1, "/api/user?user=carol"),
                             (200, {"online": True, "connections": 2, "nodes": 2, "complete": True}))
            await carol[1].ws.close()
            self.assertTrue(await asyncio.to_thread(wait_until, lambda: self.redis.numsub("sb:user:{carol}") == 1, 5))
            # Where is carol: one connection, on one node, whichever node is asked.
            for node in (0, 1):
                self.assertEqual(await asyncio.to_thread(self.api, node, "/api/user?user=carol"),
                                 (200, {"online": True, "connections": 1, "nodes": 1, "complete": True}))
            status, body = await asyncio.to_thread(self.api, 1, "/api/disconnect", {"user": "carol", "reconnect": True})
            self.assertEqual((status, body), (200, {"disconnected": 0, "other_nodes": 1}))
            self.assertEqual((await carol[0].recv())["reconnect"], True)
            # Nobody left: offline everywhere.
            self.assertTrue(await asyncio.to_thread(wait_until, lambda: self.redis.numsub("sb:user:{carol}") == 0, 5))
            self.assertEqual(await asyncio.to_thread(self.api, 0, "/api/send", {"user": "carol", "data": 3}),
                             (200, {"online": False}))
            self.assertEqual(await asyncio.to_thread(self.api, 1, "/api/user?user=carol"),
                             (200, {"online": False, "connections": 0, "nodes": 0, "complete": True}))
        run(scenario())

    def test_presence_and_join_leave_span_nodes(self):
        async def scenario():
            ann = await Client.open(self.url(0), user="ann")
            ben = await Client.open(self.url(1), user="ben")
            await ann.command("subscribe", channel="lobby:1")
            await ben.command("subscribe", channel="lobby:1")
            join = await ann.recv()
            self.assertEqual((join["type"], join["user"]), ("join", "ben"), join)
            # Client ids carry their node's prefix: unique in the cluster.
            ann_id, ben_id = None, join["client"]
            for node, client in ((0, ann), (1, ben)):
                members = (await client.command("presence", channel="lobby:1"))["data"]["members"]
                self.assertEqual(sorted(m["user"] for m in members), ["ann", "ben"], members)
                ann_id = next(m["client"] for m in members if m["user"] == "ann")
                status, body = await asyncio.to_thread(self.api, node, "/api/presence?channel=lobby:1")
                self.assertEqual(status, 200, body)
                self.assertEqual(sorted(m["user"] for m in body["members"]), ["ann", "ben"], body)
            self.assertNotEqual(ann_id.split("-")[0], ben_id.split("-")[0])
            await ben.ws.close()
            leave = await ann.recv()
            self.assertEqual((leave["type"], leave["user"], leave["client"]), ("leave", "ben", ben_id))
            members = (await ann.command("presence", channel="lobby:1"))["data"]["members"]
            self.assertEqual([m["user"] for m in members], ["ann"])
            await ann.ws.close()
        run(scenario())

    def test_a_killed_nodes_members_leave_within_the_ttl_and_the_others_go_on(self):
        async def scenario():
            ann = await Client.open(self.url(0), user="ann")
            await ann.command("subscribe", channel="lobby:2")
            ben = await Client.open(self.url(1), user="ben")
            await ben.command("subscribe", channel="lobby:2")
            self.assertEqual((await ann.recv())["type"], "join")
            self.processes[1].kill()  # SIGKILL: no leave, no cleanup
            killed_at = time.monotonic()
            leave = await asyncio.wait_for(ann.recv(), PRESENCE_TTL_MS / 1000 * 3)
            waited = time.monotonic() - killed_at
            self.assertEqual((leave["type"], leave["user"]), ("leave", "ben"), leave)
            # Swept by the survivor's first refresh after the TTL: at most
            # TTL + a third after the kill (plus slack for a loaded machine).
            self.assertLess(waited, PRESENCE_TTL_MS / 1000 * 2)
            members = (await ann.command("presence", channel="lobby:2"))["data"]["members"]
            self.assertEqual([m["user"] for m in members], ["ann"])
            # The surviving node keeps working.
            self.assertTrue(ready(self.nodes[0]))
            self.assertEqual((await ann.command("publish", channel="lobby:2", data=1))["type"], "reply")
            self.assertEqual((await ann.recv())["data"], 1)
            await ann.ws.close()
        run(scenario())

    def test_a_node_that_stops_cleanly_removes_its_members_at_once(self):
        async def scenario():
            ann = await Client.open(self.url(0), user="ann")
            await ann.command("subscribe", channel="lobby:3")
            ben = await Client.open(self.url(1), user="ben")
            await ben.command("subscribe", channel="lobby:3")
            self.assertEqual((await ann.recv())["type"], "join")
            await asyncio.to_thread(stop_server, self.processes[1])  # SIGTERM: drain
            leave = await asyncio.wait_for(ann.recv(), 5)
            self.assertEqual((leave["type"], leave["user"]), ("leave", "ben"), leave)
            members = (await ann.command("presence", channel="lobby:3"))["data"]["members"]
            self.assertEqual([m["user"] for m in members], ["ann"])
            self.assertEqual(self.redis.command("HLEN", "sb:pm:{lobby:3}"), b":1\r\n")
            await ann.ws.close()
        run(scenario())

    def test_the_http_api_counts_every_node(self):
        async def scenario():
            clients = [await Client.open(self.url(i % 2), user="u%d" % i) for i in range(5)]
            clients.append(await Client.open(self.url(1), user="u0"))  # u0 on both nodes: one user
            for i, client in enumerate(clients[:5]):
                await client.command("subscribe", channel="room:count")
                if i < 2:
                    await client.command("subscribe", channel="room:pair")  # clients 0 and 1: nodes 0 and 1
            for node in (0, 1):
                status, body = await asyncio.to_thread(self.api, node, "/api/stats")
                self.assertEqual(status, 200, body)
                # Users and channels on both nodes count once.
                self.assertEqual(body, {"connections": 6, "users": 5, "channels": 2, "nodes": 2, "complete": True})
                status, body = await asyncio.to_thread(self.api, node, "/api/channels")
                self.assertEqual(status, 200, body)
                self.assertEqual(body["channels"], [{"channel": "room:count", "subscribers": 5},
                                                    {"channel": "room:pair", "subscribers": 2}])
                self.assertEqual((body["nodes"], body["complete"]), (2, True))
            for client in clients:
                await client.ws.close()
        run(scenario())

    def test_redis_restart_under_load_counts_local_only_publishes_then_recovers(self):
        async def scenario():
            publisher = await Client.open(self.url(0))
            subscribers = [await Client.open(self.url(1)) for _ in range(20)]
            for client in subscribers:
                await client.command("subscribe", channel="room:load")
            outcomes = {"reply": 0, "local_only": 0}
            accepted = []
            accepted_at = []
            stop = asyncio.Event()

            async def publish_forever():
                n = 0
                while not stop.is_set():
                    answer = await publisher.command("publish", channel="room:load", data=n)
                    self.assertEqual(answer["type"], "reply", answer)
                    if answer["data"].get("local_only"):
                        # Redis down: delivered on the publisher's node only (nobody there here).
                        self.assertEqual(answer["data"], {"offset": 0, "local_only": True})
                        outcomes["local_only"] += 1
                    else:
                        outcomes["reply"] += 1
                        accepted.append(answer["data"]["offset"])
                        accepted_at.append(time.monotonic())
                    n += 1
                    await asyncio.sleep(0.002)  # pacing the load

            errors_before = broker_errors(self.nodes[0])
            load = asyncio.create_task(publish_forever())
            await asyncio.sleep(0.5)  # scenario pacing: load before the outage
            self.redis.kill()
            await asyncio.sleep(1)  # scenario pacing: the outage lasts a while
            self.redis.start()
            for port in self.nodes:
                self.assertTrue(await asyncio.to_thread(wait_until, lambda: ready(port), 20), "not ready again")
            recovered_at = time.monotonic()
            # Load goes on until more than 10 publishes were accepted after
            # the recovery (asserted below), however slow the machine.
            deadline = time.monotonic() + protocol_client.DEADLINE
            while sum(at > recovered_at for at in accepted_at) <= 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)  # pacing the poll
            stop.set()
            await load
            self.assertGreater(outcomes["local_only"], 0, outcomes)
            self.assertGreater(outcomes["reply"], 0, outcomes)
            # Every publish Redis could not take was counted, nothing else was.
            self.assertEqual(broker_errors(self.nodes[0]) - errors_before, outcomes["local_only"])
            # Each subscriber: increasing offsets, no duplicates, and every
            # message accepted once both nodes were ready again (between
            # Redis coming back and a node's resubscribe, pub/sub is
            # at-most-once: docs/SCALING.md). A Redis that restarts empty (no
            # persistence here) numbers the channel from 1 again: one restart
            # of the numbering, at most.
            last = accepted[-1]
            restarts = [i for i in range(1, len(accepted)) if accepted[i] <= accepted[i - 1]]
            self.assertLessEqual(len(restarts), 1, accepted)
            after = [offset for offset, at in zip(accepted, accepted_at) if at > recovered_at]
            self.assertGreater(len(after), 10)
            for client in subscribers:
                offsets = []
                while not offsets or offsets[-1] != last:
                    offsets.append((await client.recv())["offset"])
                drops = [i for i in range(1, len(offsets)) if offsets[i] <= offsets[i - 1]]
                self.assertLessEqual(len(drops), 1, offsets)
                for run_ in ([offsets[:drops[0]], offsets[drops[0]:]] if drops else [offsets]):
                    self.assertEqual(run_, sorted(set(run_)))
                tail = offsets[drops[0]:] if drops else offsets
                missed = [offset for offset in after if offset not in tail]
                self.assertEqual(missed, [], "missed messages accepted after the recovery")
        run(scenario())

    def test_redis_restart_makes_nodes_unready_then_they_recover_without_reconnects(self):
        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            here = await Client.open(self.url(0))  # a subscriber on the publisher's node
            await b.command("subscribe", channel="room:2")
            await here.command("subscribe", channel="room:2")
            await a.command("publish", channel="room:2", data="before")
            self.assertEqual((await b.recv())["data"], "before")
            self.assertEqual((await here.recv())["data"], "before")
            self.redis.kill()
            self.assertTrue(await asyncio.to_thread(wait_until, lambda: not ready(self.nodes[0]), 10))
            # Local channels go on: the publisher's node delivers, unnumbered,
            # and says no other node got it.
            local = await a.command("publish", channel="room:2", data="local")
            self.assertEqual(local["data"], {"offset": 0, "local_only": True}, local)
            self.assertEqual(await here.recv(), {"type": "message", "channel": "room:2", "offset": 0, "data": "local"})
            # Local work goes on: pings, subscriptions.
            self.assertEqual((await b.command("ping"))["type"], "pong")
            self.redis.start()
            for port in self.nodes:
                self.assertTrue(await asyncio.to_thread(wait_until, lambda: ready(port), 20), "not ready again")
            # Resubscribed by the node itself: the same connections, no new subscribe.
            deadline = time.monotonic() + 10
            while True:
                reply = await a.command("publish", channel="room:2", data="after")
                self.assertEqual(reply["type"], "reply", reply)
                try:
                    frame = await asyncio.wait_for(b.recv(), 0.5)
                    break
                except asyncio.TimeoutError:
                    self.assertLess(time.monotonic(), deadline, "no delivery after Redis came back")
            self.assertEqual(frame["data"], "after")
            await a.ws.close()
            await b.ws.close()
        run(scenario())


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(REDIS_CLI), "needs redis-server and redis-cli")
class RedisClusterTest(unittest.TestCase):
    """Two nodes over a Redis Cluster of three masters, sharded pub/sub."""
    TLS = False

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.cluster = RedisCluster(self.directory.name, tls=self.TLS)
        self.addCleanup(self.cluster.stop)
        self.cluster.start()
        config = os.path.join(self.directory.name, "node.toml")
        scheme = "rediss" if self.TLS else "redis"
        with open(config, "w") as file:
            file.write('[broker]\nurl = "%s://127.0.0.1:%d"\ncluster = true\npresence_ttl_ms = %d\ntls_ca_file = "%s"\n'
                       '[api]\nkey = "%s"\n[[namespaces]]\npattern = "lobby:*"\npresence = true\njoin_leave = true\n'
                       % (scheme, self.cluster.ports[0], PRESENCE_TTL_MS, os.path.join(TLS_DIR, "ca.pem"), KEY))
        self.nodes = []
        for _ in range(2):
            node, port = protocol_client.start_server(config, "--workers", "2", "--insecure-user-query")
            self.addCleanup(stop_server, node)
            self.nodes.append(port)
        for port in self.nodes:
            self.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)

    def url(self, node):
        return "ws://127.0.0.1:%d/" % self.nodes[node]

    def shard_channels(self):
        """Per master: the sharded channels subscribed on it."""
        return [sorted(self.cluster.cli(index, "PUBSUB", "SHARDCHANNELS", "sb:*")) for index in range(3)]

    def test_channels_users_and_presence_work_through_the_masters_that_own_them(self):
        async def scenario():
            channels = ["room:%d" % i for i in range(12)]  # spread over the three masters' slots
            a = await Client.open(self.url(0), user="ann")
            b = await Client.open(self.url(1), user="ben")
            for channel in channels:
                self.assertEqual((await b.command("subscribe", channel=channel))["type"], "reply")
            for i, channel in enumerate(channels):
                reply = await a.command("publish", channel=channel, data=i)
                self.assertEqual(reply["type"], "reply", reply)
            # Channels on different masters come over different connections:
            # order holds per channel, not across them.
            got = {}
            for _ in channels:
                message = await b.recv()
                got[message["channel"]] = message["data"]
            self.assertEqual(got, {channel: i for i, channel in enumerate(channels)})
            # Each channel is subscribed on the master that owns its slot,
            # once (by node 1 only), and nowhere else: node 0 gets no
            # traffic for channels it does not serve.
            subscribed = self.shard_channels()
            owners = set()
            for channel in channels:
                redis_channel = "sb:ch:{%s}" % channel
                holders = [index for index, names in enumerate(subscribed) if redis_channel in names]
                self.assertEqual(len(holders), 1, (channel, subscribed))
                owners.add(holders[0])
                # That master serves the channel's slot: no MOVED (the probe is
                # not an envelope; the node drops it), one subscriber: node 1.
                self.assertEqual(self.cluster.cli(holders[0], "SPUBLISH", redis_channel, "probe"), ["1"], channel)
                self.assertEqual(self.cluster.cli(holders[0], "PUBSUB", "SHARDNUMSUB", redis_channel),
                                 [redis_channel, "1"])
            self.assertEqual(len(owners), 3, "12 channels all on fewer than three masters: %r" % subscribed)
            # Users and presence across nodes, through their masters.
            self.assertEqual((await send_once_watched(a, "ben", "hi"))["data"], {"online": True})
            self.assertEqual((await b.recv())["data"], "hi")
            await a.command("subscribe", channel="lobby:c")
            await b.command("subscribe", channel="lobby:c")
            self.assertEqual((await a.recv())["type"], "join")
            members = (await a.command("presence", channel="lobby:c"))["data"]["members"]
            self.assertEqual(sorted(m["user"] for m in members), ["ann", "ben"])
            status, body = await asyncio.to_thread(self.api, 0, "/api/stats")
            self.assertEqual((status, body["connections"], body["users"], body["nodes"]), (200, 2, 2, 2), body)
            await a.ws.close()
            await b.ws.close()
        run(scenario())

    def test_a_slot_that_moves_to_another_master_is_followed(self):
        if self.TLS:
            self.skipTest("the same with TLS adds nothing but time")

        async def scenario():
            a = await Client.open(self.url(0))
            b = await Client.open(self.url(1))
            await b.command("subscribe", channel="room:moving")
            self.assertEqual((await a.command("publish", channel="room:moving", data="before"))["type"], "reply")
            self.assertEqual((await b.recv())["data"], "before")
            channel = "sb:ch:{room:moving}"
            [source] = [i for i, names in enumerate(self.shard_channels()) if channel in names]
            target = (source + 1) % 3
            await asyncio.to_thread(self.cluster.move_slot, channel, source, target)
            # The nodes follow: node 0 after its next publish is answered
            # MOVED (local_only until then), node 1 on its refresh timer.
            deadline = time.monotonic() + 20
            n = 0
            while True:
                self.assertLess(time.monotonic(), deadline, "no delivery after the slot moved")
                n += 1
                reply = await a.command("publish", channel="room:moving", data=n)
                if not reply["data"].get("local_only"):
                    try:
                        if (await asyncio.wait_for(b.recv(), 0.3))["data"] == n:
                            break
                    except asyncio.TimeoutError:
                        pass
                await asyncio.sleep(0.1)  # pacing the retries
            subscribed = self.shard_channels()
            self.assertIn(channel, subscribed[target])
            self.assertNotIn(channel, subscribed[source])
            for port in self.nodes:
                self.assertTrue(ready(port))
            await a.ws.close()
            await b.ws.close()
        run(scenario())

    api = ScalingTest.api


class RedisClusterOverTlsTest(RedisClusterTest):
    """The same over TLS: rediss:// to masters that speak TLS only."""
    TLS = True


@unittest.skipUnless(os.path.exists(REDIS), "redis-server is not installed (scripts/bootstrap installs it)")
class RedisTlsTest(unittest.TestCase):
    """Nodes that reach Redis over TLS only (rediss://), verified against the
    test CA; a node given the wrong CA never becomes ready."""

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        port = free_port()
        self.redis = subprocess.Popen(
            [REDIS, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--tls-cert-file", os.path.join(TLS_DIR, "server.pem"), "--tls-key-file", os.path.join(TLS_DIR, "server.key"),
             "--tls-ca-cert-file", os.path.join(TLS_DIR, "ca.pem"), "--tls-auth-clients", "no",
             "--requirepass", "tls-test-pass"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (self.redis.kill(), self.redis.wait()))
        def accepts():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                return True
            except OSError:
                return False
        self.assertTrue(wait_until(accepts, 10), "no TLS redis-server")
        self.configs = {}
        for name, ca in (("good", "ca.pem"), ("wrong", "other-ca.pem")):
            path = os.path.join(directory.name, name + ".toml")
            with open(path, "w") as file:
                file.write('[broker]\nurl = "rediss://:tls-test-pass@127.0.0.1:%d"\ntls_ca_file = "%s"\n'
                           % (port, os.path.join(TLS_DIR, ca)))
            self.configs[name] = path

    def start(self, config):
        node, port = protocol_client.start_server(self.configs[config], "--workers", "2", "--insecure-user-query")
        self.addCleanup(stop_server, node)
        return node, port

    def test_nodes_share_channels_over_tls(self):
        ports = [self.start("good")[1] for _ in range(2)]
        for port in ports:
            self.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)

        async def scenario():
            a = await Client.open("ws://127.0.0.1:%d/" % ports[0], user="ann")
            b = await Client.open("ws://127.0.0.1:%d/" % ports[1], user="ben")
            self.assertEqual((await b.command("subscribe", channel="room:tls"))["type"], "reply")
            self.assertEqual((await a.command("publish", channel="room:tls", data="sealed"))["type"], "reply")
            self.assertEqual((await b.recv())["data"], "sealed")
            self.assertEqual((await send_once_watched(a, "ben", 1))["data"], {"online": True})
            self.assertEqual((await b.recv())["data"], 1)
            await a.ws.close()
            await b.ws.close()
        run(scenario())

    def test_a_node_that_does_not_trust_the_certificate_is_not_ready_and_says_why(self):
        node, port = self.start("wrong")
        # Wait for the failed handshake itself, then ask /readyz.
        def log():
            return os.pread(node.log.fileno(), 1 << 24, 0).decode(errors="replace")
        self.assertTrue(wait_until(lambda: "certificate verify failed" in log(), protocol_client.DEADLINE), log())
        self.assertFalse(ready(port))
        stop_server(node)


if __name__ == "__main__":
    unittest.main(verbosity=2)
