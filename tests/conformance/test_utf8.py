"""Autobahn section 6: UTF-8 handling in text messages (RFC 6455 §5.6, §8.1).

Invalid UTF-8 in a text message MUST fail the connection; we expect 1007.
"""

import time
import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, encode_frame

VALID = {
    "greek": "κόσμε".encode(),
    "mixed": "Hello-µ@ßöäüàá-UTF-8!!".encode(),
    "two_byte_bounds": "\u0080\u07ff".encode(),
    "three_byte_bounds": "\u0800\uffff\ud7ff\ue000\ufffd".encode(),
    "four_byte_bounds": "\U00010000\U0010ffff".encode(),
    "noncharacters": "\ufffe\uffff\U0001fffe\U0010fffe".encode(),
    "emoji": "😀🎉👍🏽".encode(),
    "clef": "𝄞 music".encode(),
    "nul": b"\x00\x00",
}

INVALID = {
    "lone_continuation": b"\x80",
    "lone_continuation_bf": b"a\xbfb",
    "byte_fe": b"\xfe",
    "byte_ff": b"\xff",
    "byte_ff_after_text": "κόσμε".encode() + b"\xff",
    "overlong_slash_2": b"\xc0\xaf",
    "overlong_slash_3": b"\xe0\x80\xaf",
    "overlong_slash_4": b"\xf0\x80\x80\xaf",
    "overlong_max_2": b"\xc1\xbf",
    "overlong_max_3": b"\xe0\x9f\xbf",
    "overlong_max_4": b"\xf0\x8f\xbf\xbf",
    "overlong_nul": b"\xc0\x80",
    "surrogate_d800": b"\xed\xa0\x80",
    "surrogate_dfff": b"\xed\xbf\xbf",
    "surrogate_pair": b"\xed\xa0\x80\xed\xb0\x80",
    "above_10ffff": b"\xf4\x90\x80\x80",
    "f5_lead": b"\xf5\x80\x80\x80",
    "five_byte": b"\xf8\x88\x80\x80\x80",
    "six_byte": b"\xfc\x84\x80\x80\x80\x80",
    "missing_continuation_mid": b"\xce\x41",
    "truncated_2_at_end": b"abc\xce",
    "truncated_3_at_end": b"abc\xe2\x82",
    "truncated_4_at_end": b"abc\xf0\x9f\x98",
    "autobahn_6_3_1": bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564"),
}


def fragments(opcode, parts):
    return b"".join(
        encode_frame(opcode if i == 0 else OP_CONT, p, fin=i == len(parts) - 1) for i, p in enumerate(parts)
    )


class Utf8(ServerTestCase):
    def test_valid_single_frame(self):
        for name, payload in VALID.items():
            with self.subTest(name):
                self.connect().echo(OP_TEXT, payload)

    def test_valid_split_in_two_fragments_at_every_offset(self):
        """Multi-byte sequences (incl. 4-byte) split across fragments."""
        payload = "a€𝄞κ😀".encode()
        ws = self.connect()
        for cut in range(len(payload) + 1):
            with self.subTest(cut=cut):
                ws.send_raw(fragments(OP_TEXT, [payload[:cut], payload[cut:]]))
                ws.expect_frame(OP_TEXT, payload)

    def test_valid_split_in_three_fragments_at_every_offset(self):
        payload = "𝄞😀".encode()
        ws = self.connect()
        for a in range(len(payload) + 1):
            for b in range(a, len(payload) + 1):
                with self.subTest(cuts=(a, b)):
                    ws.send_raw(fragments(OP_TEXT, [payload[:a], payload[a:b], payload[b:]]))
                    ws.expect_frame(OP_TEXT, payload)

    def test_valid_one_byte_fragments(self):
        for name in ("greek", "four_byte_bounds", "emoji"):
            with self.subTest(name):
                payload = VALID[name]
                ws = self.connect()
                ws.send_raw(fragments(OP_TEXT, [payload[i : i + 1] for i in range(len(payload))]))
                ws.expect_frame(OP_TEXT, payload)

    def test_valid_one_byte_fragments_with_pings_between(self):
        """Control frames between fragments do not disturb the validator's
        state in the middle of a multi-byte sequence."""
        payload = "𝄞κ".encode()
        ws = self.connect()
        data = b""
        for i in range(len(payload)):
            last = i == len(payload) - 1
            data += encode_frame(OP_TEXT if i == 0 else OP_CONT, payload[i : i + 1], fin=last)
            if not last:
                data += encode_frame(OP_PING, bytes([i]))
        ws.send_raw(data)
        for i in range(len(payload) - 1):
            ws.expect_frame(OP_PONG, bytes([i]))
        ws.expect_frame(OP_TEXT, payload)

    def test_valid_frame_written_byte_by_byte(self):
        ws = self.connect()
        ws.send_frame(OP_TEXT, VALID["emoji"], chunk=1)
        ws.expect_frame(OP_TEXT, VALID["emoji"])

    def test_binary_is_not_validated(self):
        ws = self.connect()
        for payload in INVALID.values():
            ws.echo(OP_BINARY, payload)

    def test_invalid_single_frame(self):
        for name, payload in INVALID.items():
            with self.subTest(name):
                ws = self.connect()
                ws.send_frame(OP_TEXT, payload)
                ws.expect_close(1007)

    def test_invalid_one_byte_fragments(self):
        for name, payload in INVALID.items():
            with self.subTest(name):
                ws = self.connect()
                ws.send_raw(fragments(OP_TEXT, [payload[i : i + 1] for i in range(len(payload))]))
                ws.expect_close(1007)

    def test_invalid_after_valid_message(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, VALID["greek"]) + encode_frame(OP_TEXT, INVALID["surrogate_d800"]))
        ws.expect_frame(OP_TEXT, VALID["greek"])
        ws.expect_close(1007)

    def test_truncated_sequence_in_final_fragment(self):
        """A sequence left open at the end of the message is invalid even
        when each fragment on its own could continue."""
        ws = self.connect()
        ws.send_raw(fragments(OP_TEXT, [b"abc", b"\xf0\x9f", b"\x98"]))
        ws.expect_close(1007)

    def test_invalid_continuation_across_fragments(self):
        ws = self.connect()
        ws.send_raw(fragments(OP_TEXT, [b"ok \xe2\x82", b"\x41 rest"]))
        ws.expect_close(1007)

    def test_fail_fast_on_first_fragment(self):
        """Autobahn 6.4.x: an invalid byte in the first fragment is reported
        (1007) before the final fragment is ever sent."""
        for name in ("byte_ff_after_text", "surrogate_d800", "above_10ffff", "overlong_slash_2"):
            with self.subTest(name):
                ws = self.connect()
                ws.send_frame(OP_TEXT, INVALID[name] + b"more text", fin=False)
                ws.expect_close(1007)

    def test_invalid_byte_in_partial_frame(self):
        """Autobahn 6.4.3: the frame's head and invalid byte arrive first,
        the tail a moment later. Failing before the tail is allowed but not
        required (a server may validate whole frames), so only 1007 is."""
        ws = self.connect()
        frame = encode_frame(OP_TEXT, b"valid prefix \xf4\x90\x80\x80 and a tail" * 3)
        ws.send_raw(frame[: 6 + 20])
        time.sleep(0.2)  # the tail arriving later is the test
        try:
            ws.send_raw(frame[6 + 20 :])
        except OSError:
            pass  # already failed fast
        ws.expect_close(1007)


if __name__ == "__main__":
    unittest.main()
