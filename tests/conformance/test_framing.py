"""Autobahn section 1: framing of text and binary data frames (RFC 6455 §5.2, §5.6)."""

import os
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_TEXT, encode_frame

SIZES = (0, 125, 126, 127, 128, 65535, 65536)


def text_of(n):
    return (b"Hello, world! " * (n // 14 + 1))[:n]


class Framing(ServerTestCase):
    def test_text_sizes(self):
        for n in SIZES:
            with self.subTest(size=n):
                self.connect().echo(OP_TEXT, text_of(n))

    def test_binary_sizes(self):
        for n in SIZES:
            with self.subTest(size=n):
                self.connect().echo(OP_BINARY, os.urandom(n))

    def test_many_messages_one_connection(self):
        ws = self.connect()
        for n in SIZES:
            ws.echo(OP_TEXT, text_of(n))
            ws.echo(OP_BINARY, os.urandom(n))

    def test_pipelined_messages_in_one_write(self):
        ws = self.connect()
        payloads = [os.urandom(n) for n in (1, 200, 70000, 0, 3)]
        ws.send_raw(b"".join(encode_frame(OP_BINARY, p) for p in payloads))
        for p in payloads:
            ws.expect_frame(OP_BINARY, p)

    def test_byte_by_byte(self):
        for opcode, n in ((OP_TEXT, 0), (OP_TEXT, 125), (OP_BINARY, 126), (OP_BINARY, 300)):
            with self.subTest(opcode=opcode, size=n):
                ws = self.connect()
                payload = text_of(n) if opcode == OP_TEXT else os.urandom(n)
                ws.send_frame(opcode, payload, chunk=1)
                ws.expect_frame(opcode, payload)

    def test_byte_by_byte_with_delays(self):
        ws = self.connect()
        ws.send_frame(OP_TEXT, text_of(20), chunk=1, delay=0.005)
        ws.expect_frame(OP_TEXT, text_of(20))

    def test_in_chunks(self):
        payload = os.urandom(65536)
        for chunk in (3, 7, 997, 4096):
            with self.subTest(chunk=chunk):
                ws = self.connect()
                ws.send_frame(OP_BINARY, payload, chunk=chunk)
                ws.expect_frame(OP_BINARY, payload)

    def test_header_split_at_every_offset(self):
        """Two writes, split at each offset of a 16-bit-length frame."""
        ws = self.connect()
        payload = os.urandom(130)
        for cut in range(0, 2 + 2 + 4 + 8):
            frame = encode_frame(OP_BINARY, payload)
            ws.send_raw(frame[:cut])
            ws.send_raw(frame[cut:])
            ws.expect_frame(OP_BINARY, payload)

    def test_non_minimal_lengths_are_accepted(self):
        """RFC 6455 §5.2 says the minimal length encoding MUST be used, but
        servers commonly accept longer forms; we only require no crash:
        either an echo or a 1002."""
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"abc", length_form=16))
        frame = ws.recv_frame()
        if frame.opcode == 0x8:
            self.assertEqual(frame.close_code, 1002)
        else:
            self.assertEqual((frame.opcode, frame.payload), (OP_TEXT, b"abc"))

    def test_all_zero_mask_key(self):
        ws = self.connect()
        ws.echo(OP_TEXT, b"zero mask", mask_key=b"\0\0\0\0")

    def test_unmasked_frame_is_rejected(self):
        """§5.1: the server MUST close the connection on an unmasked frame."""
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"hello", masked=False))
        ws.expect_close(1002)

    def test_64bit_length_with_high_bit_is_rejected(self):
        """§5.2: the most significant bit of a 64-bit length MUST be 0."""
        ws = self.connect()
        ws.send_raw(b"\x82\xff" + (1 << 63).to_bytes(8, "big") + b"\0\0\0\0")
        ws.expect_close((1002, 1009))


if __name__ == "__main__":
    unittest.main()
