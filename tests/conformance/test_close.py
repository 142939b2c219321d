"""Autobahn section 7: the closing handshake (RFC 6455 §5.5.1, §7.1.5, §7.4).

After a close handshake the server MUST close the TCP connection itself
(§7.1.1): every test reads until recv() returns EOF.
"""

import os
import struct
import unittest

from harness import ServerTestCase
from wsclient import OP_CLOSE, OP_PING, OP_TEXT, close_payload, encode_frame

# 1012-1014 (service restart, try again later, bad gateway) are in the IANA
# registry of close codes (RFC 6455 §7.4.1 left room for them), so valid on
# the wire, though older Autobahn releases listed them as invalid.
VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999)
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)
# §8.1 requires failing the connection on invalid UTF-8 without naming a code;
# Autobahn 7.5.1 accepts either.
BAD_REASON_CODES = (1002, 1007)


class Close(ServerTestCase):
    def _close_rejected(self, payload, codes=1002):
        ws = self.connect()
        ws.send_frame(OP_CLOSE, payload)
        ws.expect_close(codes)

    def test_close_1000_with_reason(self):
        ws = self.connect()
        ws.send_close(1000, b"Normal closure")
        frame = ws.expect_close(1000, reply=False)
        self.assertEqual(frame.opcode, OP_CLOSE)

    def test_close_empty_payload(self):
        """§5.5.1: an empty close is valid; the reply is empty or 1000."""
        ws = self.connect()
        ws.send_close()
        ws.expect_close((None, 1000), reply=False)

    def test_close_after_echo(self):
        ws = self.connect()
        ws.echo(OP_TEXT, b"Hello, world!")
        ws.send_close(1000, b"done")
        ws.expect_close(1000, reply=False)

    def test_close_byte_by_byte(self):
        ws = self.connect()
        ws.send_frame(OP_CLOSE, close_payload(1000, b"slow"), chunk=1)
        ws.expect_close(1000, reply=False)

    def test_one_byte_payload_is_protocol_error(self):
        self._close_rejected(b"\x03")

    def test_valid_codes_echoed(self):
        for code in VALID_CODES:
            with self.subTest(code=code):
                ws = self.connect()
                ws.send_close(code)
                ws.expect_close(code, reply=False)

    def test_invalid_codes_are_protocol_errors(self):
        for code in INVALID_CODES:
            with self.subTest(code=code):
                self._close_rejected(struct.pack("!H", code))

    def test_reason_with_valid_utf8(self):
        ws = self.connect()
        ws.send_close(1000, "κόσμε 𝄞".encode())
        ws.expect_close(1000, reply=False)

    def test_reason_with_invalid_utf8(self):
        for reason in (bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564"), b"\xff", b"ok\xce"):
            with self.subTest(reason=reason):
                self._close_rejected(close_payload(1000, reason), BAD_REASON_CODES)

    def test_payload_125_bytes(self):
        ws = self.connect()
        ws.send_close(1000, b"*" * 123)
        ws.expect_close(1000, reply=False)

    def test_payload_126_bytes_is_protocol_error(self):
        self._close_rejected(close_payload(1000, b"*" * 124))

    def test_data_after_close_is_ignored(self):
        """§5.5.1: after sending a close, an endpoint MUST NOT send data; the
        server must not echo what follows our close."""
        ws = self.connect()
        ws.send_raw(
            encode_frame(OP_CLOSE, close_payload(1000))
            + encode_frame(OP_TEXT, b"after close")
            + encode_frame(OP_PING, b"after close")
        )
        ws.expect_close(1000, reply=False)

    def test_data_after_close_in_separate_write(self):
        ws = self.connect()
        ws.send_close(1000)
        try:
            ws.send_frame(OP_TEXT, b"after close")
        except OSError:
            pass
        ws.expect_close(1000, reply=False)

    def test_close_mid_fragmented_message(self):
        """A close between fragments is legal (control frame); the partial
        message is dropped, not echoed."""
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"partial", fin=False) + encode_frame(OP_CLOSE, close_payload(1000)))
        ws.expect_close(1000, reply=False)

    def test_close_after_many_messages_in_one_write(self):
        ws = self.connect()
        payloads = [os.urandom(n) for n in (10, 1000, 100000)]
        ws.send_raw(b"".join(encode_frame(0x2, p) for p in payloads) + encode_frame(OP_CLOSE, close_payload(1000)))
        for p in payloads:
            ws.expect_frame(0x2, p)
        ws.expect_close(1000, reply=False)


if __name__ == "__main__":
    unittest.main()
