"""Autobahn section 9: large messages, whole and fragmented (RFC 6455 §5.4).

The server runs with --max-message-size 16777216; a subset of Autobahn's
sizes x frame sizes keeps this module well under a minute.
"""

import os
import threading
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_CONT, OP_TEXT, encode_frame

KiB, MiB = 1024, 1024 * 1024
TIMEOUT = 30.0  # per socket operation: ASan builds move 16 MiB slowly

# Multi-byte characters so fragment and chunk boundaries split sequences.
TEXT_UNIT = "Hello, wörld € 𝄞 κόσμε! ".encode()


def text_of(n):
    body = TEXT_UNIT * (n // len(TEXT_UNIT))
    return body + b"x" * (n - len(body))


def payload_of(opcode, n):
    return text_of(n) if opcode == OP_TEXT else os.urandom(n)


def fragmented(opcode, payload, frame_size):
    parts = [payload[i : i + frame_size] for i in range(0, len(payload), frame_size)]
    return b"".join(
        encode_frame(opcode if i == 0 else OP_CONT, p, fin=i == len(parts) - 1) for i, p in enumerate(parts)
    )


class LargeMessages(ServerTestCase):
    SERVER_ARGS = ("--max-message-size", str(16 * MiB))

    def _roundtrip(self, opcode, size, frame_size=None, chunk=None):
        payload = payload_of(opcode, size)
        data = encode_frame(opcode, payload) if frame_size is None else fragmented(opcode, payload, frame_size)
        ws = self.connect(timeout=TIMEOUT)
        ws.send_raw(data, chunk=chunk)
        ws.expect_frame(opcode, payload)
        ws.send_close(1000)
        ws.expect_close(1000, reply=False)

    def test_single_frame(self):
        """Autobahn 9.1/9.2: one frame per message."""
        for opcode in (OP_TEXT, OP_BINARY):
            for size in (64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB):
                with self.subTest(opcode=opcode, size=size):
                    self._roundtrip(opcode, size)

    def test_fragmented(self):
        """Autobahn 9.3/9.4: one message in fragments of 64 B .. 1 MiB."""
        cases = (
            (64 * KiB, 64),
            (256 * KiB, 256),
            (1 * MiB, 4 * KiB),
            (4 * MiB, 64 * KiB),
            (4 * MiB, 1 * MiB),
            (16 * MiB, 1 * MiB),
        )
        for opcode in (OP_TEXT, OP_BINARY):
            for size, frame_size in cases:
                with self.subTest(opcode=opcode, size=size, frame_size=frame_size):
                    self._roundtrip(opcode, size, frame_size=frame_size)

    def test_chunked_writes(self):
        """Autobahn 9.5/9.6: one frame written in pieces of 64 B .. 1 MiB."""
        cases = ((64 * KiB, 64), (1 * MiB, 997), (1 * MiB, 64 * KiB), (4 * MiB, 1 * MiB))
        for opcode in (OP_TEXT, OP_BINARY):
            for size, chunk in cases:
                with self.subTest(opcode=opcode, size=size, chunk=chunk):
                    self._roundtrip(opcode, size, chunk=chunk)

    def test_max_size_fragmented_in_odd_chunks(self):
        """16 MiB in 1 MiB - 1 fragments, written in 100,003-byte pieces."""
        self._roundtrip(OP_BINARY, 16 * MiB, frame_size=MiB - 1, chunk=100_003)

    def test_large_messages_back_to_back(self):
        """Written from a thread while we read: a server may stop reading
        while its echoes are unread (backpressure), so a single-threaded
        write-all-then-read could deadlock."""
        ws = self.connect(timeout=TIMEOUT)
        payloads = [os.urandom(n) for n in (MiB, 1, 2 * MiB, 0, 3 * MiB)]
        writer = threading.Thread(target=ws.send_raw, args=(b"".join(encode_frame(OP_BINARY, p) for p in payloads),))
        writer.start()
        try:
            for p in payloads:
                ws.expect_frame(OP_BINARY, p)
        finally:
            writer.join(TIMEOUT)


if __name__ == "__main__":
    unittest.main()
