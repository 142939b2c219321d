"""Autobahn section 2: ping and pong (RFC 6455 §5.5.2, §5.5.3)."""

import os
import unittest

from harness import ServerTestCase
from wsclient import OP_PING, OP_PONG, OP_TEXT, encode_frame


class PingPong(ServerTestCase):
    def test_ping_empty(self):
        ws = self.connect()
        ws.send_frame(OP_PING, b"")
        ws.expect_frame(OP_PONG, b"")

    def test_ping_text_payload(self):
        ws = self.connect()
        ws.send_frame(OP_PING, b"Hello, world!")
        ws.expect_frame(OP_PONG, b"Hello, world!")

    def test_ping_binary_payload(self):
        ws = self.connect()
        payload = bytes([0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF])
        ws.send_frame(OP_PING, payload)
        ws.expect_frame(OP_PONG, payload)

    def test_ping_125_bytes(self):
        ws = self.connect()
        payload = os.urandom(125)
        ws.send_frame(OP_PING, payload)
        ws.expect_frame(OP_PONG, payload)

    def test_ping_126_bytes_is_protocol_error(self):
        """§5.5: control frames MUST have a payload of 125 bytes or less."""
        ws = self.connect()
        ws.send_frame(OP_PING, b"\xfe" * 126)
        ws.expect_close(1002)

    def test_pong_126_bytes_is_protocol_error(self):
        ws = self.connect()
        ws.send_frame(OP_PONG, b"x" * 126)
        ws.expect_close(1002)

    def test_ping_with_64bit_length_form_is_protocol_error(self):
        ws = self.connect()
        ws.send_frame(OP_PING, b"x" * 200, length_form=64)
        ws.expect_close(1002)

    def test_ping_sent_byte_by_byte(self):
        ws = self.connect()
        payload = b"Hello, world!" * 9
        ws.send_frame(OP_PING, payload, chunk=1)
        ws.expect_frame(OP_PONG, payload)

    def test_ping_sent_in_chunks_with_delays(self):
        ws = self.connect()
        payload = os.urandom(125)
        ws.send_frame(OP_PING, payload, chunk=7, delay=0.01)
        ws.expect_frame(OP_PONG, payload)

    def test_unsolicited_pong_is_ignored(self):
        ws = self.connect()
        ws.send_frame(OP_PONG, b"unsolicited")
        ws.expect_silence()
        ws.echo(OP_TEXT, b"still alive")

    def test_unsolicited_pong_then_ping(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_PONG, b"unsolicited") + encode_frame(OP_PING, b"solicited"))
        ws.expect_frame(OP_PONG, b"solicited")

    def test_ten_pings_in_one_write_answered_in_order(self):
        ws = self.connect()
        payloads = [f"payload-{i}".encode() for i in range(10)]
        ws.send_raw(b"".join(encode_frame(OP_PING, p) for p in payloads))
        for p in payloads:
            ws.expect_frame(OP_PONG, p)

    def test_ten_pings_byte_by_byte_answered_in_order(self):
        ws = self.connect()
        payloads = [f"payload-{i}".encode() for i in range(10)]
        ws.send_raw(b"".join(encode_frame(OP_PING, p) for p in payloads), chunk=1)
        for p in payloads:
            ws.expect_frame(OP_PONG, p)

    def test_ping_between_messages_keeps_order(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"one") + encode_frame(OP_PING, b"p") + encode_frame(OP_TEXT, b"two"))
        ws.expect_frame(OP_TEXT, b"one")
        ws.expect_frame(OP_PONG, b"p")
        ws.expect_frame(OP_TEXT, b"two")


if __name__ == "__main__":
    unittest.main()
