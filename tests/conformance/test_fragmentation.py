"""Autobahn section 5: fragmentation (RFC 6455 §5.4).

The server reassembles and echoes each message as one unfragmented frame.
"""

import os
import time
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, encode_frame


def fragments(opcode, parts):
    """Frames for one message: opcode on the first, continuations after."""
    frames = []
    for i, part in enumerate(parts):
        frames.append(encode_frame(opcode if i == 0 else OP_CONT, part, fin=i == len(parts) - 1))
    return frames


def split(payload, size):
    return [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]


class Fragmentation(ServerTestCase):
    def test_text_in_two_fragments(self):
        ws = self.connect()
        ws.send_raw(b"".join(fragments(OP_TEXT, [b"fragment1", b"fragment2"])))
        ws.expect_frame(OP_TEXT, b"fragment1fragment2")

    def test_binary_in_two_fragments(self):
        ws = self.connect()
        parts = [os.urandom(100), os.urandom(70000)]
        ws.send_raw(b"".join(fragments(OP_BINARY, parts)))
        ws.expect_frame(OP_BINARY, b"".join(parts))

    def test_n_fragments(self):
        payload = os.urandom(1000)
        for opcode in (OP_TEXT, OP_BINARY):
            for n in (2, 3, 10, 100):
                with self.subTest(opcode=opcode, n=n):
                    data = payload.hex().encode()[:1000] if opcode == OP_TEXT else payload
                    ws = self.connect()
                    ws.send_raw(b"".join(fragments(opcode, split(data, -(-len(data) // n)))))
                    ws.expect_frame(opcode, data)

    def test_fragments_of_one_byte(self):
        for opcode, payload in ((OP_TEXT, b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6"), (OP_BINARY, os.urandom(300))):
            with self.subTest(opcode=opcode):
                ws = self.connect()
                ws.send_raw(b"".join(fragments(opcode, split(payload, 1))))
                ws.expect_frame(opcode, payload)

    def test_fragments_sent_byte_by_byte(self):
        ws = self.connect()
        ws.send_raw(b"".join(fragments(OP_TEXT, [b"frag", b"ment", b"ed"])), chunk=1)
        ws.expect_frame(OP_TEXT, b"fragmented")

    def test_fragments_with_delays(self):
        """Autobahn 5.8/5.19: fragments in separate writes with pauses; no
        echo before the final fragment."""
        ws = self.connect()
        frames = fragments(OP_TEXT, [b"one ", b"two ", b"three"])
        for frame in frames[:-1]:
            ws.send_raw(frame)
            time.sleep(0.05)  # the pause between fragments is the test
        ws.expect_silence(0.1)
        ws.send_raw(frames[-1])
        ws.expect_frame(OP_TEXT, b"one two three")

    def test_ping_between_fragments(self):
        """§5.4: control frames MAY be injected mid-message; the pong comes
        before the reassembled echo."""
        ws = self.connect()
        frames = fragments(OP_TEXT, [b"fragment1", b"fragment2"])
        ws.send_raw(frames[0] + encode_frame(OP_PING, b"ping payload") + frames[1])
        ws.expect_frame(OP_PONG, b"ping payload")
        ws.expect_frame(OP_TEXT, b"fragment1fragment2")

    def test_ping_between_fragments_in_separate_writes(self):
        ws = self.connect()
        frames = fragments(OP_BINARY, [b"\x01" * 10, b"\x02" * 10, b"\x03" * 10])
        ws.send_raw(frames[0])
        ws.send_frame(OP_PING, b"1")
        ws.expect_frame(OP_PONG, b"1")
        ws.send_raw(frames[1], chunk=1)
        ws.send_frame(OP_PING, b"2", chunk=1)
        ws.expect_frame(OP_PONG, b"2")
        ws.send_raw(frames[2])
        ws.expect_frame(OP_BINARY, b"\x01" * 10 + b"\x02" * 10 + b"\x03" * 10)

    def test_unsolicited_pong_between_fragments(self):
        ws = self.connect()
        frames = fragments(OP_TEXT, [b"a", b"b"])
        ws.send_raw(frames[0] + encode_frame(OP_PONG, b"x") + frames[1])
        ws.expect_frame(OP_TEXT, b"ab")

    def test_fragmented_ping_is_protocol_error(self):
        """§5.4: control frames MUST NOT be fragmented."""
        ws = self.connect()
        ws.send_raw(encode_frame(OP_PING, b"fragment1", fin=False) + encode_frame(OP_CONT, b"fragment2"))
        ws.expect_close(1002)

    def test_fragmented_pong_is_protocol_error(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_PONG, b"fragment1", fin=False) + encode_frame(OP_CONT, b"fragment2"))
        ws.expect_close(1002)

    def test_fragmented_close_is_protocol_error(self):
        ws = self.connect()
        ws.send_raw(encode_frame(0x8, b"\x03\xe8", fin=False))
        ws.expect_close(1002)

    def test_continuation_without_start(self):
        """Autobahn 5.9-5.14: a continuation with no message open fails the
        connection, whether FIN is set or not."""
        for fin in (True, False):
            with self.subTest(fin=fin):
                ws = self.connect()
                ws.send_raw(encode_frame(OP_CONT, b"non-continuation payload", fin=fin))
                ws.expect_close(1002)

    def test_continuation_without_start_after_valid_message(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"ok") + encode_frame(OP_CONT, b"orphan") + encode_frame(OP_PING, b""))
        ws.expect_frame(OP_TEXT, b"ok")
        ws.expect_close(1002)

    def test_continuation_after_complete_message(self):
        ws = self.connect()
        ws.send_raw(b"".join(fragments(OP_TEXT, [b"a", b"b"])) + encode_frame(OP_CONT, b"c"))
        ws.expect_frame(OP_TEXT, b"ab")
        ws.expect_close(1002)

    def test_new_message_mid_message(self):
        """Autobahn 5.15-5.18: a text or binary frame while a fragmented
        message is open fails the connection."""
        for second in (OP_TEXT, OP_BINARY):
            for fin in (True, False):
                with self.subTest(second=second, fin=fin):
                    ws = self.connect()
                    ws.send_raw(encode_frame(OP_TEXT, b"fragment1", fin=False) + encode_frame(second, b"fragment2", fin=fin))
                    ws.expect_close(1002)

    def test_empty_fragments(self):
        """Autobahn 6.1.2/6.1.3: zero-length fragments are legal."""
        cases = (
            [b"", b"", b""],
            [b"", b"middle", b""],
            [b"first", b"", b"last"],
            [b"", b""],
        )
        for opcode in (OP_TEXT, OP_BINARY):
            for parts in cases:
                with self.subTest(opcode=opcode, parts=parts):
                    ws = self.connect()
                    ws.send_raw(b"".join(fragments(opcode, parts)))
                    ws.expect_frame(opcode, b"".join(parts))

    def test_many_fragmented_messages_back_to_back(self):
        ws = self.connect()
        messages = [os.urandom(n) for n in (5, 50, 500)]
        ws.send_raw(b"".join(b"".join(fragments(OP_BINARY, split(m, 4))) for m in messages))
        for m in messages:
            ws.expect_frame(OP_BINARY, m)


if __name__ == "__main__":
    unittest.main()
