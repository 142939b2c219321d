#!/usr/bin/python3
"""deploy/nginx.conf and deploy/haproxy.cfg in front of two `switchboard
serve` nodes, all real processes on loopback: protocol v1 through the proxy
(a 200 KiB message, an idle connection kept alive by the server's pings past
the proxy's idle timeout), clients from different source addresses spread
over the nodes and each address sticky to its node, the clients of one /24
spread too, /metrics refused to an outside address, a drain (SIGTERM) moving
a node's clients to the other, and a rolling restart of both nodes that
every client survives (back within 5 s each time). cluster_test.py runs the
rolling restart (roll_through_proxy) with three nodes over Redis.

The proxies run a copy of the shipped file with only ports, paths, sizes and
timeouts rewritten (rewrite_nginx, rewrite_haproxy): the shipped file is
what is tested. Which node a client is on is found by publishing through
each node's own HTTP API to a channel every client subscribed to: with the
memory broker a node reaches only its own clients.
"""
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import websockets
import websockets.exceptions

import protocol_client
from protocol_client import PROTOCOL, STEP, Client, run, stop_server

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")
API_KEY = "proxy-test-key-0123456789abcdef"
PING_MS = 300  # the nodes' ping interval: far below the proxies' idle timeout in the test copy
PROXY_IDLE_S = 2  # the test copy's proxy_read/send_timeout and timeout tunnel (75 s shipped)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def substitute(pattern, replacement, text, count):
    """re.subn that insists on `count` matches: a change to the shipped file
    that the rewrite no longer understands fails the test loudly."""
    out, found = re.subn(pattern, replacement, text, flags=re.M)
    assert found == count, "%r matched %d times, expected %d" % (pattern, found, count)
    return out


def one_server_line_per_node(text, pattern, node_ports, aim):
    """The shipped upstream's uncommented server lines replaced by one per
    node port, each a copy of the first (its parameters kept) that
    aim(line, index, port) points at the node."""
    found = list(re.finditer(pattern, text, flags=re.M))
    assert found, "no server line matches %r" % pattern
    template = found[0].group(0)
    for match in reversed(found[1:]):
        text = text[:match.start()] + text[match.end():]
    lines = "".join(aim(template, index, port) for index, port in enumerate(node_ports))
    return text[:found[0].start()] + lines + text[found[0].end():]


def rewrite_nginx(text, directory, listen_port, node_ports):
    text = substitute(r"^pid .*;$", "pid %s/nginx.pid;" % directory, text, 1)
    text = substitute(r"^error_log \S+", "error_log %s/error.log" % directory, text, 1)
    text = substitute(r"^(\s*)access_log \S+;", r"\1access_log %s/access.log;" % directory, text, 1)
    # Sizes for a test: the process limit here is 20,000 descriptors.
    text = substitute(r"^worker_processes .*;$", "worker_processes 1;", text, 1)
    text = substitute(r"^worker_rlimit_nofile .*;$", "worker_rlimit_nofile 4096;", text, 1)
    text = substitute(r"^(\s*)worker_connections .*;$", r"\1worker_connections 1024;", text, 1)
    # Temp files in the test's directory (an unprivileged nginx cannot write
    # the compiled-in ones).
    temp = "".join("    %s_temp_path %s/%s;\n" % (kind, directory, kind)
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = substitute(r"^http \{\n", "http {\n" + temp, text, 1)
    # The upstream servers (uncommented lines only) and the listen port.
    text = one_server_line_per_node(text, r"^[ \t]*server 127\.0\.0\.1:\d+.*\n", node_ports,
                                    lambda line, _, port: re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % port, line, 1))
    text = substitute(r"^(\s*)listen 80;$", r"\1listen 127.0.0.1:%d;" % listen_port, text, 1)
    text = substitute(r"^\s*listen \[::\]:80;\n", "", text, 1)
    # Idle timeouts well below the time the idle test waits, well above the
    # nodes' ping interval.
    for directive in ("proxy_read_timeout", "proxy_send_timeout", "send_timeout"):
        text = substitute(r"^(\s*)%s 75s;" % directive, r"\g<1>%s %ds;" % (directive, PROXY_IDLE_S), text, 1)
    return text


def rewrite_haproxy(text, listen_port, node_ports, check_timers="fast"):
    # Runs as whoever runs the test, with its descriptor limit.
    text = substitute(r"^\s*(user|group) haproxy\n", "", text, 2)
    text = substitute(r"^(\s*)maxconn 100000$", r"\1maxconn 2000", text, 1)
    text = substitute(r"maxconn 50000", "maxconn 1000", text, 1)
    text = substitute(r"^(\s*)bind :80$", r"\1bind 127.0.0.1:%d" % listen_port, text, 1)
    text = one_server_line_per_node(
        text, r"^[ \t]*server node\d+ 127\.0\.0\.1:\d+.*\n", node_ports,
        lambda line, index, port: re.sub(r"node\d+ 127\.0\.0\.1:\d+", "node%d 127.0.0.1:%d" % (index + 1, port),
                                         line, 1))
    text = substitute(r"^(\s*)timeout tunnel 75s$", r"\1timeout tunnel %ds" % PROXY_IDLE_S, text, 1)
    if check_timers == "fast":
        # Health checks fast enough for a drain notice of a second or two.
        text = substitute(r"\bcheck inter 2s\b", "check inter 100ms", text, 1)
        text = re.sub(r"\b(fastinter|downinter) \S+", r"\1 100ms", text)
    else:
        assert check_timers == "shipped", check_timers
    return text


class Proxy:
    """nginx or HAProxy in the foreground on a free loopback port, running a
    rewritten copy of the shipped config, in front of node_ports."""

    def __init__(self, kind, directory, node_ports, check_timers="fast"):
        self.kind = kind
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix=kind + "-", dir=directory)
        os.chmod(self.directory, 0o755)  # nginx's workers may run as another user when root starts it
        if kind == "nginx":
            with open(os.path.join(DEPLOY, "nginx.conf")) as file:
                text = rewrite_nginx(file.read(), self.directory, self.port, node_ports)
            self.config = os.path.join(self.directory, "nginx.conf")
            base = [NGINX, "-p", self.directory, "-e", os.path.join(self.directory, "error.log"),
                    "-c", self.config]
            self.check_command = base + ["-t"]
            self.command = base + ["-g", "daemon off;"]
        else:
            with open(os.path.join(DEPLOY, "haproxy.cfg")) as file:
                text = rewrite_haproxy(file.read(), self.port, node_ports, check_timers)
            self.config = os.path.join(self.directory, "haproxy.cfg")
            self.check_command = [HAPROXY, "-c", "-f", self.config]
            self.command = [HAPROXY, "-f", self.config, "-db"]
        with open(self.config, "w") as file:
            file.write(text)
        self.log = open(os.path.join(self.directory, "stderr.log"), "w+")
        self.process = None

    def check(self):
        """(exit status, output) of the proxy's own config check."""
        done = subprocess.run(self.check_command, capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout + done.stderr

    def start(self):
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.directory)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited: %s" % (self.kind, self.output()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # pacing the poll
        raise RuntimeError("%s did not listen: %s" % (self.kind, self.output()))

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_nodes(directory, count, *flags, ping_ms=PING_MS):
    config = os.path.join(directory, "node.toml")
    with open(config, "w") as file:
        file.write('[api]\nkey = "%s"\n' % API_KEY)
    return [protocol_client.start_server(config, "--workers", "1", "--insecure-user-query",
                                         "--ping-interval-ms", str(ping_ms), *flags) for _ in range(count)]


def http_get(port, path, source="127.0.0.1", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=STEP, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def api(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=STEP)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={"Authorization": "apikey " + API_KEY})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


async def open_from(proxy_port, source, user=None):
    """A protocol client whose TCP connection comes from `source` (any
    127/8 address is loopback on Linux). No client pings: only the server's
    keep the connection busy."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((source, 0))
        sock.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", proxy_port)), STEP)
        ws = await asyncio.wait_for(
            websockets.connect("ws://127.0.0.1:%d/%s" % (proxy_port, "?user=" + user if user else ""),
                               sock=sock, subprotocols=[PROTOCOL], compression=None, max_queue=None,
                               max_size=2 ** 21, ping_interval=None), STEP)
    except BaseException:
        sock.close()
        raise
    return Client(ws)


async def locate(clients, node_ports):
    """Index into node_ports of the node each client is on (None: no node
    answered for it). Every client subscribes to `where`, then each node
    publishes its own index there through its HTTP API."""
    for client in clients:
        assert (await client.command("subscribe", channel="where"))["type"] == "reply"
    for index, port in enumerate(node_ports):
        status, _ = await asyncio.to_thread(api, port, "POST", "/api/publish", {"channel": "where", "data": index})
        assert status == 200, status
    located = []
    for client in clients:
        message = await client.recv()
        assert message["type"] == "message" and message["channel"] == "where", message
        located.append(message["data"])
    for client in clients:
        assert (await client.command("unsubscribe", channel="where"))["type"] == "reply"
    return located


# A rolling restart: every node in turn is drained (SIGTERM), waited for,
# started again on its port and waited for until /readyz says 200; then the
# next. Every client must be subscribed again within BACK_WITHIN_S of losing
# its connection.
BACK_WITHIN_S = 5.0
# The SDKs' reconnect delays (docs/CLIENTS.md): before attempt n a random
# delay in [0, min(max, min * factor^n)]; n starts again after a connection
# that lasted STABLE_AFTER_S.
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 20.0
BACKOFF_FACTOR = 2
STABLE_AFTER_S = 5.0
# The nodes' drain in a roll: the 1001 closes spread over a second (5 s by
# default; shorter keeps the test short).
ROLL_NODE_FLAGS = ("--drain-spread-ms", "1000")
# How long a node stays down between its exit and its start: a deploy
# replaces the binary, the service manager starts it again. Long enough for
# a proxy's retries to give up on it, as they must in production.
ROLL_DOWNTIME_S = 2.0


# The client addresses of the tests that need clients on both nodes.
# nginx's `hash $remote_addr consistent` places each node on its ring by
# its name, "127.0.0.1:port", and the nodes' ports are random: which node
# an address lands on changes from run to run. With 12 addresses, about 1
# port pair in 200 put all of them on one node (nginx's ring recomputed for
# 60,000 random pairs: CRC32 keeps addresses that differ in one byte close
# together, 8 times the odds of independent coin flips); with 32, none of
# the 60,000 put fewer than 3 on either node. HAProxy places its nodes by
# their ids, the same in every run.
SPREAD_SOURCES = ["127.0.%d.1" % k for k in range(1, 33)]


def slash24(source):
    return source.rsplit(".", 1)[0]


def answers_ready(port):
    try:
        return http_get(port, "/readyz")[0] == 200
    except (OSError, http.client.HTTPException):
        return False


async def wait_for(predicate, seconds, what):
    """Polls predicate (a plain function) until it holds; fails naming what."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("after %.0f s: %s" % (seconds, what))
        await asyncio.sleep(0.05)  # pacing the poll


class RestartableNode:
    """A `switchboard serve` that a rolling restart drains and starts again
    on the same port (the first start picks a free one)."""

    def __init__(self, config, *flags):
        self.config = config
        self.flags = flags
        self.port = 0
        self.process = None
        self.logs = []
        self.start()

    def start(self):
        log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [protocol_client.BINARY, "serve", "--config", self.config, "--host", "127.0.0.1",
             "--port", str(self.port), *self.flags],
            stdout=subprocess.PIPE, stderr=log, text=True, env=protocol_client.CLEAN_ENV)
        self.process.log = log
        line = self.process.stdout.readline()
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            raise RuntimeError("node did not start on port %d: %r %s" % (self.port, line, self.stop()))
        self.port = int(match.group(1))

    def drain(self, seconds):
        """SIGTERM; the exit status once the node has closed every connection."""
        self.process.terminate()
        status = self.process.wait(timeout=seconds)
        self.stop()
        return status

    def stop(self):
        """Stops the node if it runs; its log (stderr)."""
        self.logs.append(stop_server(self.process))
        return self.logs[-1]


class ReconnectingClient:
    """What the SDKs do on a lost connection (docs/CLIENTS.md), reduced to
    what a rolling restart exercises: reconnect through the proxy from the
    same source address with the SDKs' backoff, send `connect`, subscribe
    again, and read everything that arrives. The tests have no reconnecting
    Python client, and the C++ and JS clients cannot choose their source
    address, which is what makes the proxy's hash spread them."""

    def __init__(self, proxy_port, source, user, channel):
        self.proxy_port = proxy_port
        self.source = source
        self.user = user
        self.channel = channel
        self.nodes = []  # per connection: the node's prefix of the client id ("" on a single node)
        self.outages = []  # [lost at, subscribed again at (None: not yet)]
        self.goodbyes = []  # per lost connection: (its `disconnect` frame or None, close code)
        self.failed_attempts = []  # why attempts to reconnect failed
        self.received = set()  # the `data` of every message on channel
        self.subscribed = False
        self.client = None
        self.task = None

    def start(self):
        self.task = asyncio.create_task(self.run())

    def up(self):
        """Subscribed now; raises what ended the reconnect loop, if anything did."""
        if self.task.done():
            self.task.result()
            raise AssertionError("%s stopped reconnecting" % self.source)
        return self.subscribed

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        if self.client is not None:
            await self.client.ws.close()

    async def run(self):
        attempt = 0
        while True:
            try:
                self.client = await self.connect()
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as error:
                self.failed_attempts.append(repr(error))
                await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_MIN_S * BACKOFF_FACTOR ** attempt)))
                attempt += 1
                continue
            up_at = time.monotonic()
            if self.outages:
                self.outages[-1][1] = up_at
            self.subscribed = True
            self.goodbyes.append(await self.listen(self.client))
            self.subscribed = False
            self.outages.append([time.monotonic(), None])
            if time.monotonic() - up_at >= STABLE_AFTER_S:
                attempt = 0
            await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_MIN_S * BACKOFF_FACTOR ** attempt)))
            attempt += 1

    async def connect(self):
        client = await open_from(self.proxy_port, self.source, user=self.user)
        try:
            connected = await client.command("connect")
            subscribed = await client.command("subscribe", channel=self.channel)
            if connected["type"] != "reply" or subscribed["type"] != "reply":
                raise websockets.exceptions.WebSocketException("refused: %r %r" % (connected, subscribed))
        except BaseException:
            await client.ws.close()
            raise
        self.nodes.append(connected["data"]["client"].rpartition("-")[0])
        return client

    async def listen(self, client):
        """Reads until the connection ends: (`disconnect` frame or None, close code)."""
        disconnect = None
        frames = [json.dumps(frame) for frame in client.backlog]
        client.backlog = []
        try:
            while True:
                frame = json.loads(frames.pop(0) if frames else await client.ws.recv())
                if frame["type"] == "message" and frame["channel"] == self.channel:
                    self.received.add(frame["data"])
                elif frame["type"] == "disconnect":
                    disconnect = frame
        except websockets.exceptions.ConnectionClosed as closed:
            return disconnect, closed.code


class RollReport:
    """What a rolling restart did to its clients."""

    def __init__(self, clients, accepted, seconds):
        self.clients = clients
        self.accepted = accepted  # the publications accepted while the nodes rolled
        self.seconds = seconds  # how long the roll took
        now = time.monotonic()
        self.outages = [(client.source, (back or now) - lost, back is None)
                        for client in clients for lost, back in client.outages]
        self.lost = sum(len(accepted - client.received) for client in clients)
        self.missed_after = []  # the clients a publication after the roll did not reach

    def longest(self):
        return max((seconds for _, seconds, _ in self.outages), default=0.0)

    def mean(self):
        return sum(seconds for _, seconds, _ in self.outages) / len(self.outages) if self.outages else 0.0

    def too_long(self):
        return [(source, round(seconds, 2), "still out" if out else "back")
                for source, seconds, out in self.outages if seconds > BACK_WITHIN_S]

    def summary(self, kind):
        expected = len(self.accepted) * len(self.clients)
        losses = ("%d of %d deliveries lost (%.1f%%)" % (self.lost, expected, 100.0 * self.lost / expected)
                  if expected else "no publication during the roll reached every node")
        return ("rolling restart through %s: %d clients, roll %.1f s, %d outages, mean %.2f s, longest %.2f s, "
                "%d failed reconnect attempts; %s"
                % (kind, len(self.clients), self.seconds, len(self.outages), self.mean(), self.longest(),
                   sum(len(client.failed_attempts) for client in self.clients), losses))


async def roll_through_proxy(proxy_port, nodes, sources, publish, channel="roll"):
    """Clients from `sources` subscribe to `channel` through the proxy;
    every node in turn is drained and started again; then the clients are
    given BACK_WITHIN_S (and a margin, to tell "late" from "never") to be
    subscribed again, and a publication made after the roll must reach each
    of them. publish(data) (blocking) publishes so that every client gets it
    and says whether it was accepted; it runs all along the roll (a number a
    tick) to count what the clients missed. Returns a RollReport; the
    caller asserts."""
    clients = [ReconnectingClient(proxy_port, source, "r%d" % index, channel) for index, source in enumerate(sources)]
    for client in clients:
        client.start()
    accepted = set()
    rolling = True

    async def publish_all_along():
        number = 0
        while rolling:
            number += 1
            if await asyncio.to_thread(publish, number):
                accepted.add(number)
            await asyncio.sleep(0.05)  # pacing the load

    try:
        await wait_for(lambda: all(client.up() for client in clients), 30,
                       "not every client subscribed through the proxy")
        publisher = asyncio.create_task(publish_all_along())
        started = time.monotonic()
        for node in nodes:
            status = await asyncio.to_thread(node.drain, 30)
            assert status == 0, "node on %d exited %r: %s" % (node.port, status, node.logs[-1])
            await asyncio.sleep(ROLL_DOWNTIME_S)  # scenario pacing: the node stays down a while
            await asyncio.to_thread(node.start)
            await wait_for(lambda: answers_ready(node.port), 30, "node on %d not ready again" % node.port)
        seconds = time.monotonic() - started
        try:
            await wait_for(lambda: all(client.up() for client in clients), BACK_WITHIN_S * 3, "")
        except AssertionError:
            pass  # the report says who is out, and since when
        rolling = False
        await publisher
        report = RollReport(clients, accepted, seconds)
        assert await asyncio.to_thread(publish, "after the roll"), "the publish after the roll was refused"
        try:
            await wait_for(lambda: all("after the roll" in client.received for client in clients), STEP, "")
        except AssertionError:
            pass
        report.missed_after = [client.source for client in clients if "after the roll" not in client.received]
        return report
    finally:
        rolling = False
        for client in clients:
            await client.stop()

# A drain's goodbye: every command the client sent before it was answered.
GOING_AWAY = ({"type": "disconnect", "code": 1001, "reason": "server shutting down", "reconnect": True,
               "answered": True}, 1001)
# Clients of a roll: several from each of three /24s.
ROLL_SOURCES = (["127.0.0.%d" % k for k in range(2, 10)] + ["127.0.1.%d" % k for k in range(1, 9)]
                + ["127.0.2.%d" % k for k in range(1, 9)])


def check_roll(test, report, kind):
    """The roll's promises: every client lost its connection to a drain
    (`disconnect` with reconnect true, close 1001), was subscribed again
    within BACK_WITHIN_S every time, and got the publication made after."""
    summary = report.summary(kind)
    print("\n" + summary, file=sys.stderr)
    test.maxDiff = None  # a failure lists every client out too long
    test.assertEqual(report.too_long(), [], "clients out longer than %.0f s; %s" % (BACK_WITHIN_S, summary))
    test.assertEqual(report.missed_after, [], "the publication after the roll missed them; " + summary)
    for client in report.clients:
        test.assertTrue(client.goodbyes, "%s never lost its connection: which node was it on?" % client.source)
        test.assertEqual([goodbye for goodbye in client.goodbyes if goodbye != GOING_AWAY], [], client.source)


class ProxyTests:
    """The scenarios, run once per proxy (the subclasses set KIND)."""
    KIND = None

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        os.chmod(cls.directory.name, 0o755)
        cls.nodes = start_nodes(cls.directory.name, 2)
        cls.node_ports = [port for _, port in cls.nodes]
        cls.proxy = Proxy(cls.KIND, cls.directory.name, cls.node_ports)
        try:
            cls.proxy.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for node, _ in cls.nodes:
            stop_server(node)
        cls.directory.cleanup()

    def test_config_check_passes(self):
        status, output = self.proxy.check()
        self.assertEqual(status, 0, output)

    def test_protocol_v1_through_the_proxy(self):
        async def scenario():
            client = await open_from(self.proxy.port, "127.0.0.1", user="ann")
            self.assertEqual(client.ws.subprotocol, PROTOCOL)
            self.assertEqual((await client.command("subscribe", channel="room"))["type"], "reply")
            reply = await client.command("publish", channel="room", data={"text": "hello"})
            self.assertEqual(reply["type"], "reply")
            message = await client.recv()
            self.assertEqual((message["type"], message["data"]), ("message", {"text": "hello"}))
            self.assertEqual((await client.command("ping"))["type"], "pong")
            big = "x" * (200 * 1024)
            self.assertEqual((await client.command("publish", channel="room", data=big))["type"], "reply")
            message = await client.recv()
            self.assertEqual(len(message["data"]), len(big))
            self.assertEqual(message["data"], big)
            await client.ws.close()
            self.assertEqual(client.ws.close_code, 1000)
        run(scenario(), 30)

    def test_idle_connection_outlives_the_proxy_idle_timeout(self):
        # The proxy closes a tunnel idle for PROXY_IDLE_S; the node pings every
        # PING_MS and the client library answers, so the connection is never
        # idle that long and must survive 2.5 times the proxy's timeout.
        async def scenario():
            client = await open_from(self.proxy.port, "127.0.0.1")
            await asyncio.sleep(PROXY_IDLE_S * 2.5)  # outliving the proxy's idle timeout is the test
            self.assertTrue(client.ws.open, "closed %r %r" % (client.ws.close_code, client.ws.close_reason))
            self.assertEqual((await client.command("ping"))["type"], "pong")
            await client.ws.close()
        run(scenario(), 30)

    def test_without_server_pings_the_proxy_does_cut_an_idle_connection(self):
        # The control for the test above: the same wait through the same
        # proxy config, to a node that does not ping, ends the connection.
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        os.chmod(directory.name, 0o755)
        [(node, port)] = start_nodes(directory.name, 1, ping_ms=0)
        self.addCleanup(stop_server, node)
        proxy = Proxy(self.KIND, directory.name, [port, port])
        self.addCleanup(proxy.stop)
        proxy.start()

        async def scenario():
            client = await open_from(proxy.port, "127.0.0.1")
            self.assertEqual((await client.command("ping"))["type"], "pong")
            await asyncio.sleep(PROXY_IDLE_S * 2.5)  # waiting out the proxy's idle timeout is the test
            self.assertFalse(client.ws.open, "the proxy kept an idle connection past its timeout")
        run(scenario(), 30)

    def test_source_addresses_spread_over_the_nodes_and_stick(self):
        sources = SPREAD_SOURCES

        async def scenario():
            first = [await open_from(self.proxy.port, source) for source in sources]
            second = [await open_from(self.proxy.port, source) for source in sources]
            located = await locate(first + second, self.node_ports)
            stats = [await asyncio.to_thread(api, port, "GET", "/api/stats") for port in self.node_ports]
            for client in first + second:
                await client.ws.close()
            return located, stats

        located, stats = run(scenario(), 60)
        self.assertEqual(located[:len(sources)], located[len(sources):], "an address changed node")
        self.assertEqual(set(located), {0, 1}, "every address on one node: %r" % located)
        for (status, body), index in zip(stats, (0, 1)):
            self.assertEqual(status, 200)
            self.assertGreaterEqual(body["connections"], located.count(index), body)
            self.assertGreater(body["connections"], 0, body)

    def test_clients_of_one_slash24_spread_over_the_nodes(self):
        # One /24 (an office behind NAT, a mobile carrier's pool) must not
        # all land on one node: the hash takes the whole address. As many
        # as SPREAD_SOURCES, for the same reason.
        sources = ["127.0.5.%d" % k for k in range(1, 33)]

        async def scenario():
            clients = [await open_from(self.proxy.port, source) for source in sources]
            located = await locate(clients, self.node_ports)
            for client in clients:
                await client.ws.close()
            return located

        located = run(scenario(), 60)
        self.assertEqual(set(located), {0, 1}, "all of 127.0.5.x on one node: %r" % located)

    def test_rolling_restart_brings_every_client_back_within_seconds(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        os.chmod(directory.name, 0o755)
        config = os.path.join(directory.name, "node.toml")
        with open(config, "w") as file:
            file.write('[api]\nkey = "%s"\n' % API_KEY)
        nodes = []
        for _ in range(2):
            nodes.append(RestartableNode(config, "--workers", "1", "--insecure-user-query",
                                         "--ping-interval-ms", str(PING_MS), *ROLL_NODE_FLAGS))
            self.addCleanup(nodes[-1].stop)
        # The shipped health check timers: how fast HAProxy takes a node
        # out and back is part of what a roll tests.
        proxy = Proxy(self.KIND, directory.name, [node.port for node in nodes], check_timers="shipped")
        self.addCleanup(proxy.stop)
        proxy.start()

        def publish(data):
            # The memory broker: each node reaches its own clients only.
            try:
                return all(api(node.port, "POST", "/api/publish", {"channel": "roll", "data": data})[0] == 200
                           for node in nodes)
            except (OSError, http.client.HTTPException, ValueError):
                return False

        report = run(roll_through_proxy(proxy.port, nodes, ROLL_SOURCES, publish), 100)
        check_roll(self, report, self.KIND + ", 2 nodes")

    def test_metrics_only_for_internal_addresses(self):
        status, body = http_get(self.proxy.port, "/metrics", source="127.0.0.1")
        self.assertEqual(status, 200)
        self.assertIn("switchboard_ready 1", body)
        self.assertEqual(http_get(self.proxy.port, "/metrics", source="127.0.9.1")[0], 403)
        self.assertEqual(http_get(self.proxy.port, "/api/stats", source="127.0.9.1")[0], 403)
        self.assertEqual(http_get(self.proxy.port, "/readyz", source="127.0.9.1"), (200, "ready\n"))
        status, body = http_get(self.proxy.port, "/api/stats", headers={"Authorization": "apikey " + API_KEY})
        self.assertEqual(status, 200)
        self.assertIn("connections", json.loads(body))

    def test_drained_nodes_clients_get_1001_and_reconnect_to_the_other_node(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        os.chmod(directory.name, 0o755)
        notice_s = 1.5
        nodes = start_nodes(directory.name, 2, "--drain-notice-ms", str(int(notice_s * 1000)),
                            "--drain-spread-ms", "300", "--drain-timeout-ms", "3000")
        for node, _ in nodes:
            self.addCleanup(stop_server, node)
        node_ports = [port for _, port in nodes]
        proxy = Proxy(self.KIND, directory.name, node_ports)
        self.addCleanup(proxy.stop)
        proxy.start()
        per_node = 6  # clients kept on each node for the drain

        async def scenario():
            clients = [await open_from(proxy.port, source) for source in SPREAD_SOURCES]
            located = await locate(clients, node_ports)
            self.assertEqual(set(located), {0, 1}, located)
            drained = [(s, c) for s, c, n in zip(SPREAD_SOURCES, clients, located) if n == 0][:per_node]
            staying = [c for c, n in zip(clients, located) if n == 1][:per_node]
            kept = [client for _, client in drained] + staying
            for client in clients:
                if client not in kept:
                    await client.ws.close()
            started = time.monotonic()
            nodes[0][0].terminate()  # SIGTERM: drain

            if self.KIND == "haproxy":
                # During the notice the node still accepts, but /readyz says
                # 503 and the health check takes it out of the pool: a new
                # client from one of its addresses lands on the other node.
                # Poll for that (the check runs on its own clock).
                while True:
                    newcomer = await open_from(proxy.port, drained[0][0])
                    where = await locate([newcomer], node_ports)
                    if where == [1] or time.monotonic() - started >= notice_s:
                        break
                    await newcomer.ws.close()
                    await asyncio.sleep(0.05)  # pacing the poll
                self.assertEqual(where, [1], "the health check did not take the draining node out")
                self.assertLess(time.monotonic() - started, notice_s, "too slow to test the notice")
                await newcomer.ws.close()

            for _, client in drained:
                self.assertEqual(await asyncio.wait_for(client.recv(), notice_s + STEP),
                                 {"type": "disconnect", "code": 1001, "reason": "server shutting down",
                                  "reconnect": True, "answered": True})
                self.assertEqual(await client.closed_with(), (1001, "server shutting down"))
            # What a client does next: reconnect through the proxy, from the
            # same address, with a short backoff while the proxy notices.
            for source, _ in drained:
                deadline = time.monotonic() + protocol_client.DEADLINE
                while True:
                    try:
                        again = await open_from(proxy.port, source)
                        break
                    except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake):
                        self.assertLess(time.monotonic(), deadline, "no node took %s back" % source)
                        await asyncio.sleep(0.2)  # a client's backoff between retries
                self.assertEqual(await locate([again], node_ports[1:]), [0])
                self.assertEqual((await again.command("ping"))["type"], "pong")
                await again.ws.close()
            for client in staying:
                self.assertEqual((await client.command("ping"))["type"], "pong")
                await client.ws.close()

        run(scenario(), 60)
        nodes[0][0].wait(timeout=10)
        self.assertEqual(nodes[0][0].returncode, 0)


class NginxTest(ProxyTests, unittest.TestCase):
    KIND = "nginx"


class HAProxyTest(ProxyTests, unittest.TestCase):
    KIND = "haproxy"


if __name__ == "__main__":
    unittest.main(verbosity=2)
