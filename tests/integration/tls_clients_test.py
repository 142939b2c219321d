#!/usr/bin/python3
"""TLS settings of `switchboard serve` and the clients' side of TLS, with
certificates made by the test (tls_certs.py):

- at start, a certificate or key that is missing, unreadable or does not
  match, TLS settings that do not fit together, and an unknown minimum
  version stop `serve` with exit status 2 and a line naming the file (or
  setting) and the reason;
- with a certificate and no server.tls_port, server.port itself serves
  TLS: `switchboard client --ca-file` (the C++ client library) speaks
  protocol v1 over wss:// to it, and a plain request there gets the 400;
- server.tls_min_version = "1.3" refuses a TLS 1.2-only client;
- mTLS: with server.tls_client_auth = required a client certificate the
  test CA signed is served, none or a self-signed one is refused; with
  optional, none is served too;
- `switchboard bench echo` runs over wss:// (--ca-file);
- an echo pipeline read a second late (the conformance suite's SlowReader,
  single-threaded on asyncio) comes back whole and in order over TLS;
- the clients refuse a server whose certificate names another host or has
  expired (python's ssl and `switchboard client`), and `switchboard
  client` without --ca-file refuses the test CA.
SWITCHBOARD_BIN names the binary.
"""
import asyncio
import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import unittest

from protocol_client import BINARY, CLEAN_ENV, STEP, start_server, stop_server
from tls_certs import TestCertificates


def serve_fails(*flags):
    """Runs serve with flags that must stop it: (exit status, stderr)."""
    result = subprocess.run([BINARY, "serve", "--host", "127.0.0.1", "--port", "0", *flags], capture_output=True,
                            text=True, timeout=60, env=CLEAN_ENV)
    return result.returncode, result.stderr


def client_script(url, lines, *flags):
    """`switchboard client --json` over a whole stdin script: (exit status, events)."""
    result = subprocess.run([BINARY, "client", url, "--json", *flags], input="".join(line + "\n" for line in lines),
                            capture_output=True, text=True, timeout=60, env=CLEAN_ENV)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


class TlsSettingsAndClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.certs = TestCertificates(cls.directory.name)
        cls.empty_config = os.path.join(cls.directory.name, "empty.toml")
        with open(cls.empty_config, "w") as f:
            f.write("# defaults\n")

    @classmethod
    def tearDownClass(cls):
        cls.directory.cleanup()

    def serve_tls(self, pair, *flags):
        cert, key = pair
        return start_server(self.empty_config, "--tls-cert-file", cert, "--tls-key-file", key,
                            "--insecure-user-query", *flags)

    def test_unusable_certificates_and_settings_stop_serve_with_status_2(self):
        cert, key = self.certs.server
        missing = os.path.join(self.directory.name, "missing.pem")
        garbage = os.path.join(self.directory.name, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        cases = [
            (["--tls-cert-file", missing, "--tls-key-file", key], [missing, "No such file"]),
            (["--tls-cert-file", cert, "--tls-key-file", missing], [missing, "No such file"]),
            (["--tls-cert-file", garbage, "--tls-key-file", key], [garbage, "TLS certificate"]),
            (["--tls-cert-file", cert, "--tls-key-file", self.certs.wrong_host[1]],
             [self.certs.wrong_host[1], "does not match", cert]),
            (["--tls-cert-file", cert], ["server.tls_cert_file: needs server.tls_key_file"]),
            (["--tls-port", "1"], ["server.tls_port: needs server.tls_cert_file"]),
            (["--tls-cert-file", cert, "--tls-key-file", key, "--tls-min-version", "1.1"],
             ["server.tls_min_version: '1.1' is not 1.2 or 1.3"]),
            (["--tls-cert-file", cert, "--tls-key-file", key, "--tls-ciphers", "NO-SUCH-CIPHER"],
             ["TLS ciphers 'NO-SUCH-CIPHER'"]),
            (["--tls-cert-file", cert, "--tls-key-file", key, "--tls-client-auth", "required"],
             ["server.tls_client_auth: required needs server.tls_ca_file"]),
            (["--tls-cert-file", cert, "--tls-key-file", key, "--tls-client-auth", "yes"],
             ["server.tls_client_auth: 'yes' is not none, optional or required"]),
            (["--tls-cert-file", cert, "--tls-key-file", key, "--tls-client-auth", "required", "--tls-ca-file",
              missing], [missing, "TLS client CA file"]),
        ]
        for flags, words in cases:
            status, stderr = serve_fails(*flags)
            self.assertEqual(status, 2, (flags, stderr))
            for word in words:
                self.assertIn(word, stderr, flags)

    def test_the_cpp_client_speaks_protocol_v1_over_wss_to_a_tls_only_port(self):
        server, port = self.serve_tls(self.certs.server)
        try:
            url = "wss://localhost:%d/?user=tls" % port
            status, events = client_script(url, ["sub chat:tls", 'pub chat:tls "secret"'], "--ca-file",
                                           self.certs.ca)
            self.assertEqual(status, 0, events)
            self.assertIn("secret", [event.get("data") for event in events if event.get("event") == "message"])
            # The system's CAs do not include the test CA: refused, and final with --no-reconnect.
            status, events = client_script(url, ["ping"], "--no-reconnect")
            self.assertEqual(status, 2, events)
            closed = [event for event in events if event.get("state") == "closed"]
            self.assertIn("certificate verify failed", closed[0]["reason"], events)
            # The same port answers a plain request with the plain 400.
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(raw.recv(4096).startswith(b"HTTP/1.1 400 "))
        finally:
            stop_server(server)

    def test_bench_echo_over_wss(self):
        server, port = self.serve_tls(self.certs.server, "--echo")
        try:
            result = subprocess.run([BINARY, "bench", "echo", "--url", "wss://localhost:%d/" % port, "--ca-file",
                                     self.certs.ca, "-c", "4", "-s", "32", "--duration", "1", "--json"],
                                    capture_output=True, text=True, timeout=60, env=CLEAN_ENV)
            self.assertEqual(result.returncode, 0, result.stderr)
            report = json.loads(result.stdout)
            self.assertGreater(report["messages"], 0)
            self.assertEqual((report["errors"], report["connections_open"]), (0, 4), report["error_counts"])
        finally:
            stop_server(server)

    def test_an_echo_pipeline_read_a_second_late_over_tls(self):
        # The conformance suite's SlowReader over TLS, single-threaded: 16 MiB
        # of 64 KiB messages and 12 of 1 MiB are written at once and read a
        # second late, so both sides' TLS writes block and the server pauses
        # reading (backpressure) before it all flows; every echo must come
        # back whole and in order.
        server, port = self.serve_tls(self.certs.server, "--echo")
        try:
            for size, count in ((64 * 1024, 256), (1 << 20, 12)):
                self.assertEqual(asyncio.run(self.late_reader_pipeline(port, size, count)), count)
        finally:
            stop_server(server)

    async def late_reader_pipeline(self, port, size, count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=self.certs.client_context(),
                                                       server_hostname="localhost")
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STEP)
        self.assertIn(b" 101 ", head)
        messages = [os.urandom(size) for _ in range(count)]
        mask = b"\x01\x02\x03\x04"
        for message in messages:
            header = b"\x82" + (bytes([0xFE]) + struct.pack("!H", size) if size < 65536
                                else bytes([0xFF]) + struct.pack("!Q", size))
            masked = (int.from_bytes(message, "big") ^ int.from_bytes(mask * (size // 4), "big")).to_bytes(size, "big")
            writer.write(header + mask + masked)
        await asyncio.sleep(1.0)  # reading late is the scenario
        for message in messages:
            first = await asyncio.wait_for(reader.readexactly(2), STEP)
            length = first[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", await reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await reader.readexactly(8))[0]
            self.assertEqual(await asyncio.wait_for(reader.readexactly(length), STEP), message)
        writer.close()
        return count

    def test_minimum_version_1_3_refuses_a_tls_1_2_client(self):
        server, port = self.serve_tls(self.certs.server, "--tls-min-version", "1.3")
        try:
            old = self.certs.client_context(maximum=ssl.TLSVersion.TLSv1_2)
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                with self.assertRaises(ssl.SSLError):
                    old.wrap_socket(raw, server_hostname="localhost")
            new = self.certs.client_context(minimum=ssl.TLSVersion.TLSv1_3)
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                with new.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.version(), "TLSv1.3")
        finally:
            stop_server(server)

    def healthz_with(self, port, client_pair=None):
        """GET /healthz over TLS, presenting client_pair if given: the
        status line, or the exception the client met."""
        context = self.certs.client_context()
        if client_pair is not None:
            context.load_cert_chain(*client_pair)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    # TLS 1.3: a refused client certificate shows on the first read.
                    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    return tls.recv(4096).split(b"\r\n")[0].decode()
        except (ssl.SSLError, ConnectionError) as error:
            return error

    def test_client_certificates_required_and_optional(self):
        device = self.certs.issue("device-1", "DNS:device-1", usage="clientAuth")
        stranger = self.certs.self_signed_client()
        for mode in ("required", "optional"):
            server, port = self.serve_tls(self.certs.server, "--tls-ca-file", self.certs.ca, "--tls-client-auth",
                                          mode)
            try:
                self.assertEqual(self.healthz_with(port, device), "HTTP/1.1 200 OK", mode)
                self.assertIsInstance(self.healthz_with(port, stranger), Exception, mode)
                without = self.healthz_with(port)
                if mode == "required":
                    self.assertIsInstance(without, Exception)
                else:
                    self.assertEqual(without, "HTTP/1.1 200 OK")
            finally:
                stop_server(server)

    def assert_refused_by_the_clients(self, pair, reason):
        server, port = self.serve_tls(pair)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                with self.assertRaises(ssl.SSLCertVerificationError) as refused:
                    self.certs.client_context().wrap_socket(raw, server_hostname="localhost")
            self.assertIn(reason, str(refused.exception))
            status, events = client_script("wss://localhost:%d/?user=x" % port, ["ping"], "--no-reconnect",
                                           "--ca-file", self.certs.ca)
            self.assertEqual(status, 2, events)
            closed = [event for event in events if event.get("state") == "closed"]
            self.assertIn("certificate verify failed", closed[0]["reason"], events)
        finally:
            stop_server(server)

    def test_a_certificate_for_another_host_is_refused(self):
        self.assert_refused_by_the_clients(self.certs.wrong_host, "Hostname mismatch")

    def test_an_expired_certificate_is_refused(self):
        self.assert_refused_by_the_clients(self.certs.expired, "certificate has expired")


if __name__ == "__main__":
    unittest.main(verbosity=2)
