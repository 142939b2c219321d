#!/usr/bin/python3
"""Operations end to end: GET /metrics parsed by a Prometheus client we did
not write (Debian's python3-prometheus-client) with values checked after a
known scenario, /healthz and /readyz, and the slow-consumer policies (a
subscriber that stops reading while others keep receiving).
"""
import asyncio
import json
import os
import socket
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import websockets.exceptions
from prometheus_client.parser import text_string_to_metric_families

import protocol_client
from protocol_client import STEP, Client, eventually, eventually_async, run, stop_server


def start_server(directory, config_text, *flags):
    config = os.path.join(directory, "serve.toml")
    with open(config, "w") as file:
        file.write(config_text)
    return protocol_client.start_server(config, *flags)


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=STEP) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def ws_url(port):
    return "ws://127.0.0.1:%d/" % port


def samples(port):
    """{(name, frozenset(labels)): value} from GET /metrics."""
    status, text, headers = get(port, "/metrics")
    assert status == 200, status
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers["Content-Type"]
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


async def open_once_admitted(url, headers=None):
    """Opens a connection once the server has counted a close that frees a
    slot: it does so after the client saw the close, so retry 429s until
    the deadline."""
    deadline = time.monotonic() + protocol_client.DEADLINE
    while True:
        try:
            return await Client.open(url, headers=headers)
        except websockets.exceptions.InvalidStatusCode as refused:
            if refused.status_code != 429 or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(protocol_client.POLL_INTERVAL)  # pacing the retries


class MetricsAndHealthTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.server, self.port = start_server(self.directory.name, "", "--workers", "2", "--insecure-user-query")
        self.addCleanup(stop_server, self.server)

    def test_health_and_readiness(self):
        self.assertEqual(get(self.port, "/healthz")[0], 200)
        status, body, _ = get(self.port, "/readyz")
        self.assertEqual((status, body), (200, "ready\n"))

    def test_metric_values_after_a_known_scenario(self):
        before = samples(self.port)

        async def scenario():
            subscribers = [await Client.open(ws_url(self.port), user="u%d" % i) for i in range(3)]
            for client in subscribers:
                self.assertEqual((await client.command("subscribe", channel="news"))["type"], "reply")
            publisher = await Client.open(ws_url(self.port), user="boss")
            for i in range(5):
                self.assertEqual((await publisher.command("publish", channel="news", data=i))["type"], "reply")
            for client in subscribers:
                for i in range(5):
                    self.assertEqual((await client.recv())["data"], i)
            bad = await publisher.command("subscribe")  # missing channel
            self.assertEqual(bad["code"], 104)
            await publisher.ws.send("not json")
            self.assertEqual((await publisher.recv())["code"], 101)
            during = samples(self.port)
            self.assertEqual(during[("switchboard_connections", frozenset({("worker", "0")}))] +
                             during[("switchboard_connections", frozenset({("worker", "1")}))], 4)
            self.assertEqual(during[("switchboard_channels", frozenset())], 1)
            self.assertEqual(during[("switchboard_subscriptions", frozenset())], 3)
            self.assertEqual(during[("switchboard_users", frozenset())], 4)
            for client in subscribers + [publisher]:
                await client.ws.close()

        run(scenario())

        def delta(name, **labels):
            key = (name, frozenset(labels.items()))
            return after.get(key, 0) - before.get(key, 0)

        # The server's on_close runs after the client saw the close: poll
        # until all four closes are counted and the subscriptions are gone.
        closed = ("switchboard_connections_closed_total", frozenset({("kind", "normal")}))

        def settled(now):
            return (now.get(closed, 0) - before.get(closed, 0) >= 4 and
                    now[("switchboard_subscriptions", frozenset())] == 0)

        after = eventually(lambda: samples(self.port), settled)

        self.assertEqual(delta("switchboard_commands_total", type="subscribe"), 3)
        self.assertEqual(delta("switchboard_commands_total", type="publish"), 5)
        self.assertEqual(delta("switchboard_invalid_commands_total"), 2)
        self.assertEqual(delta("switchboard_delivered_messages_total"), 15)
        # One observation per publish and worker with subscribers.
        self.assertGreaterEqual(delta("switchboard_delivery_latency_seconds_count"), 5)
        self.assertLessEqual(delta("switchboard_delivery_latency_seconds_count"), 10)
        self.assertEqual(delta("switchboard_connections_opened_total"), 4)
        self.assertEqual(delta("switchboard_connections_closed_total", kind="normal"), 4)
        self.assertEqual(after[("switchboard_subscriptions", frozenset())], 0)
        self.assertEqual(after[("switchboard_channels", frozenset())], 0)
        self.assertEqual(after[("switchboard_ready", frozenset())], 1)
        self.assertEqual(after[("switchboard_tcp_connections", frozenset())], 1)  # this scrape


class DrainTest(unittest.TestCase):
    def test_sigterm_fails_readiness_then_spreads_1001_with_disconnect_and_exits(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, "", "--workers", "2", "--drain-notice-ms", "700",
                                    "--drain-spread-ms", "1000", "--drain-timeout-ms", "4000")
        self.addCleanup(stop_server, server)

        async def scenario():
            clients = [await Client.open(ws_url(port)) for _ in range(40)]
            for client in clients:
                self.assertEqual((await client.command("ping"))["type"], "pong")
            self.assertEqual(get(port, "/readyz")[0], 200)
            started = time.monotonic()
            server.terminate()  # SIGTERM
            status, body, headers = await eventually_async(lambda: get(port, "/readyz"),
                                                           lambda answer: answer[0] != 200)
            self.assertEqual((status, body), (503, "draining\n"))
            self.assertEqual(headers["Retry-After"], "1")

            async def until_closed(client):
                notice = await client.recv()
                self.assertEqual(notice, {"type": "disconnect", "code": 1001, "reason": "server shutting down",
                                          "reconnect": True, "answered": True})
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    await asyncio.wait_for(client.ws.recv(), 10)
                self.assertEqual((closed.exception.code, closed.exception.reason), (1001, "server shutting down"))
                return time.monotonic() - started

            times = sorted(await asyncio.gather(*(until_closed(client) for client in clients)))
            return started, times

        started, times = run(scenario())
        self.assertGreaterEqual(times[0], 0.6, "closes began before the notice period ended")
        self.assertGreater(times[-1] - times[0], 0.5, "the 1001 closes were not spread: %r" % times)
        server.wait(timeout=10)
        self.assertEqual(server.returncode, 0)
        self.assertLess(time.monotonic() - started, 6.0)


async def upgrade_refusal(port):
    """(status, Retry-After) of a refused upgrade, or (101, None)."""
    try:
        client = await Client.open(ws_url(port))
    except websockets.exceptions.InvalidStatusCode as refused:
        return refused.status_code, int(refused.headers["Retry-After"])
    await client.ws.close()
    return 101, None


class AdmissionTest(unittest.TestCase):
    def test_per_address_cap_answers_429_until_one_leaves(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, "", "--workers", "2", "--max-connections-per-address", "3")
        self.addCleanup(stop_server, server)

        async def scenario():
            kept = [await Client.open(ws_url(port)) for _ in range(3)]
            status, retry_after = await upgrade_refusal(port)
            self.assertEqual(status, 429)
            self.assertTrue(1 <= retry_after <= 5, retry_after)
            # Plain HTTP counts too: the address is at its cap...
            self.assertEqual(get(port, "/metrics")[0], 429)
            # ...except the load balancer's health checks.
            self.assertEqual(get(port, "/healthz")[0], 200)
            self.assertEqual(get(port, "/readyz")[:2], (200, "ready\n"))
            await kept[0].ws.close()
            replacement = await open_once_admitted(ws_url(port))
            self.assertEqual((await replacement.command("ping"))["type"], "pong")
            for client in kept[1:] + [replacement]:
                await client.ws.close()
        run(scenario())

    def test_behind_a_trusted_proxy_the_cap_counts_the_forwarded_client(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, '[server]\ntrusted_proxies = ["127.0.0.0/8"]\n',
                                    "--workers", "2", "--max-connections-per-address", "2")
        self.addCleanup(stop_server, server)

        def via_proxy(client):  # what nginx adds: the client, then each proxy on the way
            return {"X-Forwarded-For": "%s, 127.0.0.9" % client}

        async def scenario():
            ann = [await Client.open(ws_url(port), headers=via_proxy("198.51.100.1")) for _ in range(2)]
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                await Client.open(ws_url(port), headers=via_proxy("198.51.100.1"))
            self.assertEqual(refused.exception.status_code, 429)
            # Another client behind the same proxy is not held back by ann.
            ben = [await Client.open(ws_url(port), headers=via_proxy("198.51.100.2")) for _ in range(2)]
            self.assertEqual((await ben[1].command("ping"))["type"], "pong")
            await ann[0].ws.close()
            again = await open_once_admitted(ws_url(port), headers=via_proxy("198.51.100.1"))
            for client in ann[1:] + ben + [again]:
                await client.ws.close()
        run(scenario())
        log = stop_server(server)
        self.assertIn("peer=198.51.100.1", log)
        self.assertIn("peer=198.51.100.2", log)

    def test_an_untrusted_peer_cannot_name_another_client(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, '[server]\ntrusted_proxies = ["10.0.0.0/8"]\n',
                                    "--workers", "1", "--max-connections-per-address", "1")
        self.addCleanup(stop_server, server)

        async def scenario():
            first = await Client.open(ws_url(port), headers={"X-Forwarded-For": "198.51.100.1"})
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                await Client.open(ws_url(port), headers={"X-Forwarded-For": "198.51.100.2"})
            self.assertEqual(refused.exception.status_code, 429)
            await first.ws.close()
        run(scenario())
        self.assertNotIn("peer=198.51.100", stop_server(server))

    def test_new_connection_rate_answers_503_with_a_jittered_retry_after(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, "", "--workers", "1", "--max-new-connections-per-s", "5")
        self.addCleanup(stop_server, server)

        async def scenario():
            outcomes = [await upgrade_refusal(port) for _ in range(12)]
            admitted = [o for o in outcomes if o[0] == 101]
            refused = [o for o in outcomes if o[0] == 503]
            self.assertEqual(len(admitted) + len(refused), 12, outcomes)
            self.assertGreaterEqual(len(admitted), 5)
            self.assertGreaterEqual(len(refused), 3)
            self.assertTrue(all(1 <= retry <= 5 for _, retry in refused), refused)
            # The bucket is empty, yet every health check is answered.
            self.assertEqual([get(port, "/readyz")[0] for _ in range(10)], [200] * 10)
            await asyncio.sleep(1.2)  # the bucket refilling with time is under test, not a wait for a result
            self.assertEqual((await upgrade_refusal(port))[0], 101)
            counted = samples(port)[("switchboard_admission_refused_total",
                                     frozenset({("reason", "new_connection_rate")}))]
            self.assertEqual(counted, len(refused))
        run(scenario())


class SlowConsumerTest(unittest.TestCase):
    """A subscriber that stops reading must not hold up the others, and
    memory stays bounded: past max_buffered_bytes the namespace's policy
    applies."""

    def scenario(self, policy, backlog=None):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        # Room for the 50 held messages of drop-oldest (the byte cap's own
        # test is slow_consumer_test.py).
        server, port = start_server(directory.name, '[server]\nmax_buffered_bytes = 65536\n'
                                    '[hub]\nmax_held_bytes_per_connection = 1048576\n'
                                    '[limits]\nmessages_per_s = 0\nbytes_per_s = 0\n'
                                    '[[namespaces]]\npattern = "feed:*"\nslow_consumer = "%s"\n' % policy +
                                    ("slow_consumer_backlog = %d\n" % backlog if backlog else ""),
                                    "--workers", "1")
        self.addCleanup(stop_server, server)

        async def body():
            # The stalled reader: a raw socket that upgrades, subscribes, then never reads.
            stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
            stalled.connect(("127.0.0.1", port))
            stalled.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                            b"Sec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += stalled.recv(1)
            self.assertIn(b"101", head)
            payload = json.dumps({"id": 1, "type": "subscribe", "channel": "feed:x"}).encode()
            mask = b"\x01\x02\x03\x04"
            stalled.sendall(bytes([0x81, 0x80 | len(payload)]) + mask +
                            bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            reader = await Client.open(ws_url(port))
            self.assertEqual((await reader.command("subscribe", channel="feed:x"))["type"], "reply")
            # The stalled subscriber's subscribe is in too (it reads no reply).
            subscriptions = await eventually_async(lambda: samples(port)[("switchboard_subscriptions", frozenset())],
                                                   lambda count: count == 2)
            self.assertEqual(subscriptions, 2)
            publisher = await Client.open(ws_url(port))
            count = 1000  # 4 MB: far past the stalled one's 64 KiB buffer and the kernel's socket buffers
            for i in range(count):
                data = "%04d" % i + "x" * 3996
                self.assertEqual((await publisher.command("publish", channel="feed:x", data=data))["type"], "reply")
            for i in range(count):
                self.assertEqual(len((await reader.recv())["data"]), 4000, i)
            metrics = samples(port)
            await reader.ws.close()
            await publisher.ws.close()
            return stalled, metrics

        stalled, metrics = run(body())
        return stalled, metrics

    def test_disconnect_policy_closes_with_1013(self):
        stalled, metrics = self.scenario("disconnect")
        self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 1)
        self.assertEqual(metrics[("switchboard_slow_consumer_drops_total", frozenset())], 0)
        # Reading now, the stalled client finds a close frame 1013 at the end.
        stalled.settimeout(STEP)
        data = b""
        while True:
            chunk = stalled.recv(65536)
            if not chunk:
                break
            data += chunk
        self.assertIn(b"\x88", data)
        self.assertIn(b"\x03\xf5slow consumer", data)  # 1013, big-endian
        stalled.close()

    def test_drop_policy_counts_and_keeps_the_connection(self):
        stalled, metrics = self.scenario("drop")
        self.assertGreater(metrics[("switchboard_slow_consumer_drops_total", frozenset())], 0)
        self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 0)
        stalled.close()

    def read_messages_until_the_last(self, stalled):
        """The stalled client catches up: the numbers of the messages it
        gets, up to the last one published (999)."""
        stalled.settimeout(STEP)
        buffer = b""
        numbers = []

        def need(n):
            nonlocal buffer
            while len(buffer) < n:
                chunk = stalled.recv(65536)
                self.assertTrue(chunk, "connection closed after %r" % numbers[-3:])
                buffer += chunk
        while not numbers or numbers[-1] != 999:
            need(2)
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                need(4)
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                need(10)
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            need(start + length)
            self.assertEqual(buffer[0], 0x81)  # whole text frames, never a close
            frame = json.loads(buffer[start:start + length])
            buffer = buffer[start + length:]
            if frame["type"] == "message":
                numbers.append(int(frame["data"][:4]))
        return numbers

    def test_drop_oldest_policy_delivers_the_newest_backlog_once_it_reads(self):
        stalled, metrics = self.scenario("drop-oldest", backlog=50)
        numbers = self.read_messages_until_the_last(stalled)
        # What was in its buffers when it stalled, then the 50 newest: in
        # order, each once, with the oldest of the held ones dropped between.
        self.assertEqual(numbers, sorted(set(numbers)))
        self.assertEqual(numbers[-50:], list(range(950, 1000)))
        self.assertLess(len(numbers), 1000)
        self.assertEqual(numbers[:numbers.index(950)], list(range(numbers.index(950))))
        held = metrics[("switchboard_slow_consumer_held_total", frozenset())]
        dropped = metrics[("switchboard_slow_consumer_drops_total", frozenset())]
        self.assertEqual(held - dropped, 50)
        self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 0)
        stalled.close()

    def test_keep_latest_policy_delivers_the_latest_once_it_reads(self):
        stalled, metrics = self.scenario("keep-latest")
        numbers = self.read_messages_until_the_last(stalled)
        self.assertEqual(numbers[:-1], list(range(len(numbers) - 1)))  # its buffers, then a jump
        self.assertLess(numbers[-2], 998)
        held = metrics[("switchboard_slow_consumer_held_total", frozenset())]
        self.assertEqual(held - metrics[("switchboard_slow_consumer_drops_total", frozenset())], 1)
        self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 0)
        stalled.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
