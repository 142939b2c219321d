"""The HTTP side: the opening handshake (RFC 6455 §4.2) and plain routes."""

import os
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_PING, OP_PONG, OP_TEXT, ProtocolFailure, accept_for, encode_frame, make_key, upgrade_request


class Http(ServerTestCase):
    def _request(self, raw, chunk=None):
        client = self.open_tcp()
        client.send_raw(raw, chunk=chunk)
        return client, client.read_http_response()

    def _upgrade(self, key=None, **kw):
        key = key or make_key()
        return self._request(upgrade_request(self.port, key, **kw))

    def _plain(self, method, path):
        return self._request(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())

    def test_upgrade_response_headers(self):
        """§4.2.2: 101 with Upgrade, Connection and the accept hash."""
        key = make_key()
        _, resp = self._upgrade(key)
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.headers.get("upgrade", "").lower(), "websocket")
        self.assertIn("upgrade", resp.headers.get("connection", "").lower())
        self.assertEqual(resp.headers.get("sec-websocket-accept"), accept_for(key))

    def test_rfc_example_key(self):
        """§1.3: the RFC's own example key and accept value."""
        _, resp = self._upgrade("dGhlIHNhbXBsZSBub25jZQ==")
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_header_tokens_and_case(self):
        """Connection is a token list; header names and the Upgrade value
        are case-insensitive (§4.2.1, RFC 7230 §6.1)."""
        key = make_key()
        raw = (
            f"GET /chat HTTP/1.1\r\nhost: 127.0.0.1\r\nUPGRADE: WebSocket\r\n"
            f"connection: keep-alive, Upgrade\r\nsec-websocket-key: {key}\r\n"
            f"SEC-WEBSOCKET-VERSION: 13\r\nOrigin: http://127.0.0.1\r\n\r\n"
        ).encode()
        _, resp = self._request(raw)
        self.assertEqual(resp.status, 101)
        self.assertEqual(resp.headers.get("sec-websocket-accept"), accept_for(key))

    def test_request_byte_by_byte(self):
        key = make_key()
        client, resp = self._request(upgrade_request(self.port, key), chunk=1)
        self.assertEqual(resp.status, 101)
        client.echo(OP_TEXT, b"after a slow handshake")

    def test_frames_in_same_packet_as_request(self):
        key = make_key()
        frames = encode_frame(OP_TEXT, b"early") + encode_frame(OP_PING, b"p") + encode_frame(OP_BINARY, os.urandom(300))
        client, resp = self._request(upgrade_request(self.port, key) + frames)
        self.assertEqual(resp.status, 101)
        client.expect_frame(OP_TEXT, b"early")
        client.expect_frame(OP_PONG, b"p")
        self.assertEqual(client.recv_frame().opcode, OP_BINARY)

    def test_subprotocol_not_invented(self):
        """§4.2.2: a selected subprotocol must be one the client offered."""
        _, resp = self._upgrade(extra_headers=("Sec-WebSocket-Protocol: chat, superchat",))
        self.assertEqual(resp.status, 101)
        self.assertIn(resp.headers.get("sec-websocket-protocol", "chat"), ("chat", "superchat"))

    def test_missing_key(self):
        raw = (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, resp = self._request(raw)
        self.assertEqual(resp.status, 400)

    def test_missing_host(self):
        """§4.2.1 and RFC 7230 §5.4: a request without Host gets 400."""
        raw = (
            f"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {make_key()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, resp = self._request(raw)
        self.assertEqual(resp.status, 400)

    def test_key_not_16_bytes(self):
        """§4.2.1: the key must decode to 16 bytes."""
        _, resp = self._upgrade("c2hvcnQ=")
        self.assertEqual(resp.status, 400)

    def test_version_8(self):
        """§4.4: an unsupported version gets 426 and the versions we speak."""
        _, resp = self._upgrade(version="8")
        self.assertEqual(resp.status, 426)
        self.assertEqual(resp.headers.get("sec-websocket-version"), "13")

    def test_post_upgrade(self):
        _, resp = self._upgrade(method="POST")
        self.assertEqual(resp.status, 405)

    def test_no_connection_upgrade(self):
        key = make_key()
        raw = (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: keep-alive\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, resp = self._request(raw)
        self.assertEqual(resp.status, 400)

    def test_no_upgrade_header(self):
        key = make_key()
        raw = (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, resp = self._request(raw)
        self.assertIn(resp.status, (400, 404, 426))

    def test_oversize_head(self):
        raw = upgrade_request(self.port, make_key(), extra_headers=("X-Padding: " + "a" * 40000,))
        _, resp = self._request(raw)
        self.assertEqual(resp.status, 431)

    def test_oversize_head_never_terminated(self):
        """The head limit holds before the blank line arrives."""
        client = self.open_tcp()
        client.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40000)
        resp = client.read_http_response()
        self.assertEqual(resp.status, 431)

    def test_healthz(self):
        _, resp = self._plain("GET", "/healthz")
        self.assertEqual(resp.status, 200)

    def test_unknown_path(self):
        _, resp = self._plain("GET", "/nope")
        self.assertEqual(resp.status, 404)

    def test_garbage_request(self):
        client = self.open_tcp()
        client.send_raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64) + b"\r\n\r\n")
        try:
            resp = client.read_http_response()
        except (ProtocolFailure, OSError):
            return  # closing without an answer is fine too
        self.assertTrue(400 <= resp.status < 500, resp.status)

    def test_server_still_serves_after_bad_requests(self):
        for _ in range(3):
            self._upgrade(version="8")
            self._upgrade(method="POST")
        _, resp = self._upgrade()
        self.assertEqual(resp.status, 101)


if __name__ == "__main__":
    unittest.main()
