#!/usr/bin/python3
"""TLS served by `switchboard serve` itself, with real clients: one server
with a plain port and a TLS port (server.tls_port) at once, its
certificate made by the test (tls_certs.py: a test CA, ECDSA P-256).

- python3-websockets over wss:// (an ssl context trusting the test CA)
  speaks protocol v1 with a client on the plain port: subscribe, publish
  both ways, a burst of small publications (gathered into few records) and
  messages larger than a record (split across records) both ways; and a
  subscriber with a 4 KiB receive buffer that stops reading while 6 MB are
  published to it gets every byte, in order, once it reads again (the
  server's blocked records resumed from its write queue).
- the HTTP routes over https:// (python http.client): /healthz, /readyz,
  /metrics, /api/publish; and ALPN http/1.1.
- TLS 1.2-only and 1.3-only clients.
- bad input on the TLS port: a plain HTTP request and a plain WebSocket
  upgrade get a plain 400; a handshake that stalls is cut by the
  handshake timeout; garbage records and a truncated ClientHello are
  closed; none of it stops the server, and
  switchboard_tls_handshake_failures_total{reason} counts each.
SWITCHBOARD_BIN names the binary.
"""
import asyncio
import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import time
import unittest

import protocol_client
from protocol_client import Client, eventually, run, start_server, stop_server
from tls_certs import TestCertificates

KEY = "tls-test-api-key"
HANDSHAKE_TIMEOUT_MS = 1500


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TlsServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.certs = TestCertificates(cls.directory.name)
        config = os.path.join(cls.directory.name, "serve.toml")
        cert, key = cls.certs.server
        with open(config, "w") as f:
            # max_buffered_bytes: room for the slow reader's backlog.
            f.write('[server]\ntls_cert_file = "%s"\ntls_key_file = "%s"\ntls_port = %d\nhandshake_timeout_ms = %d\n'
                    'max_buffered_bytes = %d\nmax_body_size = 1048576\n[api]\nkey = "%s"\n'
                    % (cert, key, free_port(), HANDSHAKE_TIMEOUT_MS, 64 << 20, KEY))
        cls.server, cls.port = start_server(config, "--workers", "2", "--insecure-user-query")
        line = cls.server.stdout.readline()
        cls.tls_port = int(line.rsplit(":", 1)[1])
        assert line.startswith("TLS on 127.0.0.1:"), line
        cls.context = cls.certs.client_context()

    @classmethod
    def tearDownClass(cls):
        log = stop_server(cls.server)
        cls.directory.cleanup()
        # Under the ASan suite: a leak or an error in the TLS path shows here.
        if "Sanitizer" in log or cls.server.returncode != 0:
            raise AssertionError("server exited %s: %s" % (cls.server.returncode, log[-3000:]))

    def wss(self, host="127.0.0.1"):
        return "wss://%s:%d/" % (host, self.tls_port)

    def failures(self, reason):
        samples = protocol_client.metric_samples(self.port)
        return samples.get(("switchboard_tls_handshake_failures_total", frozenset({("reason", reason)})), 0)

    def https(self, method, path, body=None, context=None):
        connection = http.client.HTTPSConnection("127.0.0.1", self.tls_port, timeout=protocol_client.STEP,
                                                 context=context or self.context)
        headers = {"Authorization": "apikey " + KEY}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, text

    def assert_server_serves(self):
        self.assertEqual(self.https("GET", "/healthz"), (200, "ok\n"))

    def test_protocol_v1_over_wss_and_plain_side_by_side(self):
        big = "x" * 200_000  # more than a dozen 16 KiB records
        burst = 500

        async def scenario():
            secure = await Client.open(self.wss(), user="secure", ssl_context=self.context)
            plain = await Client.open("ws://127.0.0.1:%d/" % self.port, user="plain")
            self.assertIsNotNone(secure.ws.transport.get_extra_info("ssl_object"))
            for client in (secure, plain):
                self.assertEqual((await client.command("subscribe", channel="room"))["type"], "reply")
            self.assertEqual((await plain.command("publish", channel="room", data={"n": 0}))["type"], "reply")
            self.assertEqual((await secure.command("publish", channel="room", data={"big": big}))["type"], "reply")
            for n in range(1, burst + 1):
                await plain.ws.send(json.dumps({"id": 1000 + n, "type": "publish", "channel": "room",
                                                "data": {"n": n}}))
            seen, numbers, bigs = 0, [], 0
            while seen < 2 + burst:
                frame = await secure.recv()
                if frame.get("channel") != "room":
                    continue
                seen += 1
                if "big" in frame["data"]:
                    self.assertEqual(frame["data"]["big"], big)
                    bigs += 1
                else:
                    numbers.append(frame["data"]["n"])
            self.assertEqual((bigs, numbers), (1, list(range(0, burst + 1))))
            await secure.ws.close()
            await plain.ws.close()
            return seen

        seen = run(scenario(), 120)
        print("tls_test: %d publications received over wss:// (1 of 200 kB)" % seen, file=sys.stderr)

    def test_a_reader_that_stalls_gets_every_byte_once_it_reads_again(self):
        # A small receive buffer and no reading: the server's SSL_write
        # meets a full socket, keeps the rest queued, and must resume each
        # blocked record where it stopped.
        count, size = 60, 100_000

        async def scenario():
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect(("127.0.0.1", self.tls_port))
            ws = await protocol_client.websockets.connect(
                self.wss() + "?user=slow", subprotocols=[protocol_client.PROTOCOL], compression=None,
                max_queue=None, max_size=None, ssl=self.context, sock=raw, server_hostname="localhost")
            client = Client(ws)
            self.assertEqual((await client.command("subscribe", channel="bulk"))["type"], "reply")
            ws.transport.pause_reading()
            for n in range(count):
                body = {"channel": "bulk", "data": {"n": n, "fill": chr(ord("a") + n % 26) * size}}
                status, _ = await asyncio.to_thread(self.https, "POST", "/api/publish", body)
                self.assertEqual(status, 200)
            ws.transport.resume_reading()
            numbers = []
            while len(numbers) < count:
                frame = await client.recv()
                if frame.get("channel") == "bulk":
                    data = frame["data"]
                    self.assertEqual(data["fill"], chr(ord("a") + data["n"] % 26) * size)
                    numbers.append(data["n"])
            await ws.close()
            return numbers

        self.assertEqual(run(scenario(), 120), list(range(count)))
        print("tls_test: %d publications of %d bytes to a stalled wss:// reader, all in order"
              % (count, size), file=sys.stderr)

    def test_http_routes_over_https(self):
        self.assertEqual(self.https("GET", "/healthz"), (200, "ok\n"))
        self.assertEqual(self.https("GET", "/readyz")[0], 200)
        status, text = self.https("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("switchboard_tls_handshake_failures_total", text)
        status, text = self.https("POST", "/api/publish", {"channel": "api", "data": 1})
        self.assertEqual((status, sorted(json.loads(text))), (200, ["offset"]))

    def test_tls_1_2_only_and_1_3_only_clients_and_alpn(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            context = self.certs.client_context(minimum=version, maximum=version)
            context.set_alpn_protocols(["h2", "http/1.1"])
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=protocol_client.STEP) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.version(), "TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
                    self.assertEqual(tls.selected_alpn_protocol(), "http/1.1")
                    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    answer = b""
                    while chunk := tls.recv(4096):
                        answer += chunk
            self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer)

    def plain_exchange(self, request):
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=protocol_client.STEP) as raw:
            raw.sendall(request)
            answer = b""
            while chunk := raw.recv(4096):
                answer += chunk
        return answer

    def test_plain_http_and_plain_upgrade_on_the_tls_port_get_a_plain_400(self):
        before = self.failures("plain_http")
        answer = self.plain_exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        self.assertIn(b"this port speaks TLS", answer)
        answer = self.plain_exchange(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     b"Sec-WebSocket-Version: 13\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        self.assertEqual(eventually(lambda: self.failures("plain_http"), lambda n: n >= before + 2), before + 2)
        self.assert_server_serves()

    def test_a_stalled_handshake_is_cut_by_the_handshake_timeout(self):
        before = self.failures("timeout")
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=protocol_client.STEP) as raw:
            raw.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello's first bytes, and no more
            started = time.monotonic()
            self.assertEqual(raw.recv(4096), b"")  # closed by the server, without an answer
            waited = time.monotonic() - started
        self.assertGreater(waited, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8)
        self.assertEqual(eventually(lambda: self.failures("timeout"), lambda n: n >= before + 1), before + 1)
        self.assert_server_serves()

    def test_garbage_records_are_closed_and_counted(self):
        before = self.failures("protocol")
        garbage = [
            b"\x16\x03\x01\x00\x05hello",  # a handshake record that is no ClientHello
            b"\x17\x03\x03\x00\x10" + b"\x00" * 16,  # application data before any handshake
            b"\x16\x03\x01\xff\xff" + os.urandom(2000),  # a record longer than allowed
            os.urandom(4096),
        ]
        for blob in garbage:
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=protocol_client.STEP) as raw:
                raw.sendall(blob)
                try:
                    while raw.recv(4096):  # an alert, perhaps, then EOF
                        pass
                except ConnectionResetError:
                    pass
        counted = eventually(lambda: self.failures("protocol") + self.failures("plain_http") +
                             self.failures("closed"), lambda n: n >= before + len(garbage) - 1)
        self.assertGreaterEqual(counted, before + len(garbage) - 1)
        self.assert_server_serves()

    def test_a_client_that_does_not_trust_the_ca_refuses_the_server(self):
        untrusted = ssl.create_default_context()  # the system's CAs only
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.https("GET", "/healthz", context=untrusted)
        self.assert_server_serves()


if __name__ == "__main__":
    unittest.main(verbosity=2)
