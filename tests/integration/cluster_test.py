#!/usr/bin/python3
"""Three nodes act as one: a real redis-server, three `switchboard
serve --broker redis://...` nodes, and real nginx in front running the
shipped deploy/nginx.conf (rewritten like proxy_test.py, one upstream line
per node). Clients connect through nginx from 12 source addresses, so the
hash spreads them over the nodes; channel publish, presence, send-to-user
and the HTTP API then work across all of them and the counts match each
node's own /metrics. Then one node is killed with SIGKILL: its clients'
connections drop, they reconnect through nginx to the others, its members
leave presence within the TTL, and the survivors keep working.

A rolling restart of the three nodes through each shipped config, nginx and
HAProxy (their timers as shipped), with 30 clients from three /24s that
reconnect as the SDKs do (proxy_test.ReconnectingClient): each /24 starts
spread over the nodes, and every client is subscribed again within 5 s of
each loss. The killed-node test reconnects its dropped clients by hand.
"""
import asyncio
import http.client
import json
import os
import re
import signal
import tempfile
import time
import unittest

import websockets.exceptions

import protocol_client
from protocol_client import run, send_once_watched, stop_server
from proxy_test import (API_KEY, HAPROXY, NGINX, PING_MS, ROLL_NODE_FLAGS, Proxy, RestartableNode, api,
                        check_roll, http_get, open_from, roll_through_proxy, slash24)
from scaling_test import REDIS, RedisServer, free_port, ready, wait_until

PRESENCE_TTL_MS = 1500
SOURCES = ["127.0.%d.1" % k for k in range(1, 13)]
# A rolling restart's clients: ten from each of three /24s.
ROLL_SOURCES = (["127.0.0.%d" % k for k in range(2, 12)] + ["127.0.1.%d" % k for k in range(1, 11)]
                + ["127.0.2.%d" % k for k in range(1, 11)])


def connections_on(port):
    """The node's own count (its /metrics), not the cluster's."""
    status, body = http_get(port, "/metrics")
    assert status == 200, status
    return sum(int(float(value)) for value in re.findall(r"^switchboard_connections\{[^}]*\} (\S+)$", body, re.M))


async def drain_events(client, quiet=0.3):
    """Drops the join and leave events that arrived; returns anything else."""
    kept = [frame for frame in client.backlog if frame["type"] not in ("join", "leave")]
    client.backlog = []
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(client.ws.recv(), quiet))
            if frame["type"] not in ("join", "leave"):
                kept.append(frame)
    except asyncio.TimeoutError:
        pass
    return kept


def start_redis_and_node_config(test, extra_toml=""):
    """A redis-server on a free port and a node config file pointing at it
    (with the API key and extra_toml), both cleaned up after the test:
    (directory, config path). Sets test.redis."""
    directory = tempfile.TemporaryDirectory()
    test.addCleanup(directory.cleanup)
    os.chmod(directory.name, 0o755)
    test.redis = RedisServer(free_port())
    test.redis.start()
    test.addCleanup(test.redis.kill)
    config = os.path.join(directory.name, "node.toml")
    with open(config, "w") as file:
        file.write('[broker]\nurl = "redis://127.0.0.1:%d"\n%s[api]\nkey = "%s"\n'
                   % (test.redis.port, extra_toml, API_KEY))
    return directory, config


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(NGINX), "needs redis-server and nginx (scripts/bootstrap)")
class ThreeNodesBehindNginxTest(unittest.TestCase):
    def setUp(self):
        directory, config = start_redis_and_node_config(
            self, 'presence_ttl_ms = %d\n' % PRESENCE_TTL_MS)
        with open(config, "a") as file:
            file.write('[[namespaces]]\npattern = "lobby:*"\npresence = true\njoin_leave = true\n')
        self.nodes = []
        for _ in range(3):
            # Pings keep idle tunnels alive through the test copy's short proxy timeouts.
            node, port = protocol_client.start_server(config, "--workers", "1", "--insecure-user-query",
                                                      "--drain-spread-ms", "200", "--ping-interval-ms", str(PING_MS))
            self.addCleanup(stop_server, node)
            self.nodes.append((node, port))
        self.ports = [port for _, port in self.nodes]
        for port in self.ports:
            self.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)
        self.proxy = Proxy("nginx", directory.name, self.ports)
        self.addCleanup(self.proxy.stop)
        self.proxy.start()

    async def connect_all(self):
        """One client per source address through nginx, user u<k>; each
        subscribed to lobby:main. Returns the clients and, per node, how
        many landed there."""
        clients = [await open_from(self.proxy.port, source, user="u%d" % k) for k, source in enumerate(SOURCES)]
        for client in clients:
            self.assertEqual((await client.command("subscribe", channel="lobby:main"))["type"], "reply")
        # Join events of those who subscribed later: not what this test reads.
        for client in clients:
            self.assertEqual(await drain_events(client), [])
        per_node = [await asyncio.to_thread(connections_on, port) for port in self.ports]
        return clients, per_node

    def test_clients_on_three_nodes_act_as_one(self):
        async def scenario():
            clients, per_node = await self.connect_all()
            self.assertEqual(sum(per_node), len(SOURCES), per_node)
            self.assertGreaterEqual(sum(1 for count in per_node if count > 0), 2, "ip_hash used one node: %r" % per_node)
            # The HTTP API of every node sees the whole cluster, and it matches the nodes' own counts.
            for port in self.ports:
                status, stats = await asyncio.to_thread(api, port, "GET", "/api/stats")
                self.assertEqual(status, 200, stats)
                self.assertEqual(stats, {"connections": len(SOURCES), "users": len(SOURCES), "channels": 1,
                                         "nodes": 3, "complete": True})
                status, body = await asyncio.to_thread(api, port, "GET", "/api/presence?channel=lobby:main")
                self.assertEqual(status, 200, body)
                self.assertEqual(sorted(m["user"] for m in body["members"]), sorted("u%d" % k for k in range(12)))
            # A client's publish reaches everyone, in one order.
            reply = await clients[0].command("publish", channel="lobby:main", data="from u0")
            self.assertEqual(reply["type"], "reply", reply)
            for client in clients:
                message = await client.recv()
                self.assertEqual((message["data"], message["offset"]), ("from u0", reply["data"]["offset"]))
            # An API publish through any node, and a send from every user to the next.
            status, _ = await asyncio.to_thread(api, self.ports[2], "POST", "/api/publish",
                                                {"channel": "lobby:main", "data": "from the API"})
            self.assertEqual(status, 200)
            for client in clients:
                self.assertEqual((await client.recv())["data"], "from the API")
            for k, client in enumerate(clients):
                target = "u%d" % ((k + 1) % len(clients))
                self.assertEqual((await send_once_watched(client, target, k))["data"], {"online": True})
            for k, client in enumerate(clients):
                direct = await client.recv()
                self.assertEqual((direct["type"], direct["from"], direct["data"]),
                                 ("direct", "u%d" % ((k - 1) % len(clients)), (k - 1) % len(clients)))
            for client in clients:
                await client.ws.close()
        run(scenario(), 90)

    def test_a_killed_node_leaves_the_rest_working(self):
        async def scenario():
            clients, per_node = await self.connect_all()
            victim = max(range(3), key=lambda index: per_node[index])
            self.nodes[victim][0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            # Its clients' connections drop (no close handshake: the process is gone).
            dropped, kept = [], []
            for source, client in zip(SOURCES, clients):
                try:
                    pong = await asyncio.wait_for(client.command("ping"), 2)
                    self.assertEqual(pong["type"], "pong")
                    kept.append(client)
                except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError):
                    dropped.append((source, client))
            self.assertEqual(len(dropped), per_node[victim])
            # Their members leave the survivors' presence, with leave events, within the TTL.
            left = set()
            while len(left) < len(dropped):
                self.assertLess(time.monotonic() - killed_at, PRESENCE_TTL_MS / 1000 * 3, "no leave for %r" % left)
                event = await asyncio.wait_for(kept[0].recv(), PRESENCE_TTL_MS / 1000 * 3)
                if event["type"] == "leave":
                    left.add(event["user"])
            survivor = self.ports[(victim + 1) % 3]
            status, body = await asyncio.to_thread(api, survivor, "GET", "/api/presence?channel=lobby:main")
            self.assertEqual(status, 200, body)
            self.assertEqual(len(body["members"]), len(kept))
            # The dropped clients come back through nginx, from the same
            # addresses, and land on the other nodes.
            back = []
            for k, (source, _) in enumerate(dropped):
                deadline = time.monotonic() + protocol_client.DEADLINE
                while True:
                    try:
                        back.append(await open_from(self.proxy.port, source, user="again%d" % k))
                        break
                    except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake):
                        self.assertLess(time.monotonic(), deadline, "nginx did not take %s elsewhere" % source)
                        await asyncio.sleep(0.2)  # a client's backoff between retries
            for client in back:
                self.assertEqual((await client.command("subscribe", channel="lobby:main"))["type"], "reply")
            for client in kept:
                self.assertEqual(await drain_events(client), [])  # the newcomers' joins
            reply = await back[0].command("publish", channel="lobby:main", data="after")
            self.assertEqual(reply["type"], "reply", reply)
            for client in kept + back:
                message = await client.recv()
                while message["type"] == "join":
                    message = await client.recv()
                self.assertEqual(message["data"], "after")
            status, stats = await asyncio.to_thread(api, survivor, "GET", "/api/stats")
            self.assertEqual(status, 200, stats)
            self.assertEqual((stats["connections"], stats["nodes"], stats["complete"]), (len(SOURCES), 2, True))
            for client in kept + back:
                await client.ws.close()
        run(scenario(), 90)


class RollingRestartTests:
    """Three nodes over Redis behind the shipped proxy config (timers as
    shipped): a rolling restart, with clients from three /24s that
    reconnect as the SDKs do, and a publication every 50 ms all along."""
    KIND = None

    def setUp(self):
        directory, config = start_redis_and_node_config(self)
        self.nodes = []
        for _ in range(3):
            self.nodes.append(RestartableNode(config, "--workers", "1", "--insecure-user-query",
                                              "--ping-interval-ms", str(PING_MS), *ROLL_NODE_FLAGS))
            self.addCleanup(self.nodes[-1].stop)
        for node in self.nodes:
            self.assertTrue(wait_until(lambda: ready(node.port)), "node on %d never became ready" % node.port)
        self.proxy = Proxy(self.KIND, directory.name, [node.port for node in self.nodes], check_timers="shipped")
        self.addCleanup(self.proxy.stop)
        self.proxy.start()

    def publish(self, data):
        """Through any node that takes it (Redis carries it to all); True
        when Redis numbered it."""
        for node in self.nodes:
            try:
                status, body = api(node.port, "POST", "/api/publish", {"channel": "roll", "data": data})
            except (OSError, http.client.HTTPException, ValueError):
                continue
            if status == 200 and body.get("offset", 0) > 0:
                return True
        return False

    def test_rolling_restart_from_several_slash24s(self):
        report = run(roll_through_proxy(self.proxy.port, self.nodes, ROLL_SOURCES, self.publish), 100)
        with self.subTest("every client back"):
            check_roll(self, report, self.KIND + ", 3 nodes over Redis")
        with self.subTest("each /24 spread"):
            # Before the roll, the clients of each /24 were spread over the
            # nodes (the hash takes the whole address, not the /24).
            first_node = {}
            for client in report.clients:
                first_node.setdefault(slash24(client.source), set()).add(client.nodes[0])
            for network, nodes in sorted(first_node.items()):
                self.assertGreater(len(nodes), 1, "every client of %s.x on one node" % network)


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(NGINX),
                     "needs redis-server and nginx (scripts/bootstrap)")
class RollingRestartThroughNginxTest(RollingRestartTests, unittest.TestCase):
    KIND = "nginx"


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(HAPROXY),
                     "needs redis-server and haproxy (scripts/bootstrap)")
class RollingRestartThroughHAProxyTest(RollingRestartTests, unittest.TestCase):
    KIND = "haproxy"


if __name__ == "__main__":
    unittest.main(verbosity=2)
