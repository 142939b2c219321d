"""Robustness: mutated frame streams and abrupt disconnects must never take
the server down (run it under ASan to catch memory errors). Outcomes per
connection are not asserted: only that the server keeps serving, and that
whatever it sends is well-formed."""

import random
import socket
import struct
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ProtocolFailure, encode_frame

SEED = 6455
ITERATIONS = 150


def abort(ws):
    """Close with RST instead of FIN."""
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.close()


class Robustness(ServerTestCase):
    SERVER_ARGS = ("--max-message-size", "65536")

    def _valid_frames(self, rng):
        key = rng.randbytes(4)
        return [
            encode_frame(OP_TEXT, "héllo 𝄞".encode(), mask_key=key),
            encode_frame(OP_BINARY, rng.randbytes(300), mask_key=key),
            encode_frame(OP_PING, b"p", mask_key=key),
            encode_frame(OP_TEXT, b"ab\xc3", fin=False, mask_key=key),
            encode_frame(OP_CONT, b"\xa9cd", mask_key=key),
            encode_frame(OP_PONG, b"", mask_key=key),
            encode_frame(OP_CLOSE, b"\x03\xe8bye", mask_key=key),
            encode_frame(OP_BINARY, rng.randbytes(5000), mask_key=key),
        ]

    def test_mutated_streams(self):
        rng = random.Random(SEED)
        outcomes = {}
        for n in range(ITERATIONS):
            frames = self._valid_frames(rng)
            stream = bytearray(b"".join(rng.choice(frames) for _ in range(rng.randint(1, 6))))
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(stream))
                stream[i] = rng.randrange(256) if rng.random() < 0.7 else stream[i] ^ (1 << rng.randrange(8))
            # After the stream we send FIN: a server still waiting for the
            # rest of a frame then closes too ("eof"), so every connection
            # ends on its own and each wait has the default (loaded-machine)
            # timeout; running out of it means the server ignored our FIN.
            ws = self.connect()
            outcome = "open"
            try:
                ws.send_raw(bytes(stream), chunk=rng.choice([None, 1, 7, 1000]) if len(stream) < 2000 else None)
                ws.shutdown_write()
                while True:
                    frame = ws.recv_frame()  # raises on a masked or truncated server frame
                    if frame.opcode == OP_CLOSE:
                        outcome = f"close {frame.close_code}"
                        break
                    self.assertIn(frame.opcode, (OP_TEXT, OP_BINARY, OP_PONG), f"iteration {n}: {frame!r}")
            except ProtocolFailure as e:
                if "masked" in str(e) or "timed out" in str(e):
                    raise
                outcome = "eof"
            except OSError:
                outcome = "reset"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if rng.random() < 0.5:
                abort(ws)
            else:
                ws.close()
            self.assertTrue(self.server.alive(), f"server died at iteration {n}")
        self.connect().echo(OP_TEXT, b"still serving")
        self.assertGreater(outcomes.get("close 1002", 0), 0, outcomes)
        print(f"\nmutated streams: {sorted(outcomes.items())}")

    def test_reset_at_every_offset(self):
        """RST after each prefix of a fragmented text message."""
        data = (
            encode_frame(OP_TEXT, "κόσμε".encode(), fin=False)
            + encode_frame(OP_PING, b"x")
            + encode_frame(OP_CONT, "𝄞".encode())
        )
        for cut in range(len(data)):
            ws = self.connect()
            ws.send_raw(data[:cut])
            abort(ws)
        self.connect().echo(OP_TEXT, b"still serving")

    def test_reset_while_echo_pending(self):
        """The peer vanishes while the server still has echoes to write."""
        for _ in range(5):
            ws = self.connect()
            ws.send_raw(encode_frame(OP_BINARY, b"\xaa" * 60000) * 20)
            abort(ws)
        self.connect().echo(OP_BINARY, b"\x01" * 60000)


if __name__ == "__main__":
    unittest.main()
