#!/usr/bin/python3
"""deploy/nginx.conf and deploy/haproxy.cfg in front of two `switchboard
serve` nodes, all real processes on loopback: protocol v1 through the proxy
(a 200 KiB message, an idle connection kept alive by the server's pings past
the proxy's idle timeout), clients from different source addresses spread
over the nodes and each address sticky to its node, /metrics refused to an
outside address, and a drain (SIGTERM) moving a node's clients to the other.

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
import re
import shutil
import signal
import socket
import subprocess
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
    lines = iter(node_ports)
    text = substitute(r"^(\s*)server 127\.0\.0\.1:\d+",
                      lambda m: "%sserver 127.0.0.1:%d" % (m.group(1), next(lines)), text, len(node_ports))
    text = substitute(r"^(\s*)listen 80;$", r"\1listen 127.0.0.1:%d;" % listen_port, text, 1)
    text = substitute(r"^\s*listen \[::\]:80;\n", "", text, 1)
    # Idle timeouts well below the time the idle test waits, well above the
    # nodes' ping interval.
    for directive in ("proxy_read_timeout", "proxy_send_timeout", "send_timeout"):
        text = substitute(r"^(\s*)%s 75s;" % directive, r"\g<1>%s %ds;" % (directive, PROXY_IDLE_S), text, 1)
    return text


def rewrite_haproxy(text, listen_port, node_ports):
    # Runs as whoever runs the test, with its descriptor limit.
    text = substitute(r"^\s*(user|group) haproxy\n", "", text, 2)
    text = substitute(r"^(\s*)maxconn 100000$", r"\1maxconn 2000", text, 1)
    text = substitute(r"maxconn 50000", "maxconn 1000", text, 1)
    text = substitute(r"^(\s*)bind :80$", r"\1bind 127.0.0.1:%d" % listen_port, text, 1)
    lines = iter(node_ports)
    text = substitute(r"^(\s*server node\d+) 127\.0\.0\.1:\d+",
                      lambda m: "%s 127.0.0.1:%d" % (m.group(1), next(lines)), text, len(node_ports))
    text = substitute(r"^(\s*)timeout tunnel 75s$", r"\1timeout tunnel %ds" % PROXY_IDLE_S, text, 1)
    # Health checks fast enough for a drain notice of a second or two.
    text = substitute(r"check inter 2s fall 2 rise 2", "check inter 100ms fall 2 rise 2", text, 1)
    return text


class Proxy:
    """nginx or HAProxy in the foreground on a free loopback port, running a
    rewritten copy of the shipped config, in front of node_ports."""

    def __init__(self, kind, directory, node_ports):
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
                text = rewrite_haproxy(file.read(), self.port, node_ports)
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
                time.sleep(0.05)
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
            await asyncio.sleep(PROXY_IDLE_S * 2.5)
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
            await asyncio.sleep(PROXY_IDLE_S * 2.5)
            self.assertFalse(client.ws.open, "the proxy kept an idle connection past its timeout")
        run(scenario(), 30)

    def test_source_addresses_spread_over_the_nodes_and_stick(self):
        sources = ["127.0.%d.1" % k for k in range(1, 13)]

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
        sources = ["127.0.%d.1" % k for k in range(1, 13)]

        async def scenario():
            clients = [await open_from(proxy.port, source) for source in sources]
            located = await locate(clients, node_ports)
            self.assertEqual(set(located), {0, 1}, located)
            drained = [(s, c) for s, c, n in zip(sources, clients, located) if n == 0]
            staying = [c for c, n in zip(clients, located) if n == 1]
            started = time.monotonic()
            nodes[0][0].terminate()  # SIGTERM: drain

            if self.KIND == "haproxy":
                # During the notice the node still accepts, but /readyz says
                # 503 and the health check takes it out of the pool: a new
                # client from one of its addresses lands on the other node.
                await asyncio.sleep(notice_s / 2)
                newcomer = await open_from(proxy.port, drained[0][0])
                self.assertEqual(await locate([newcomer], node_ports[1:]), [0],
                                 "the health check did not take the draining node out")
                self.assertLess(time.monotonic() - started, notice_s, "too slow to test the notice")
                await newcomer.ws.close()

            for _, client in drained:
                self.assertEqual(await asyncio.wait_for(client.recv(), notice_s + STEP),
                                 {"type": "disconnect", "code": 1001, "reason": "server shutting down",
                                  "reconnect": True})
                self.assertEqual(await client.closed_with(), (1001, "server shutting down"))
            # What a client does next: reconnect through the proxy, from the
            # same address, with a short backoff while the proxy notices.
            for source, _ in drained:
                deadline = time.monotonic() + 10
                while True:
                    try:
                        again = await open_from(proxy.port, source)
                        break
                    except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake):
                        self.assertLess(time.monotonic(), deadline, "no node took %s back" % source)
                        await asyncio.sleep(0.2)
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
