"""Autobahn section 3: reserved bits (RFC 6455 §5.2).

No extension is negotiated, so any RSV bit MUST fail the connection (1002).
"""

import unittest

from harness import ServerTestCase
from wsclient import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, RSV1, RSV2, RSV3, close_payload, encode_frame

RSV_VALUES = (RSV1, RSV2, RSV3, RSV1 | RSV2, RSV2 | RSV3, RSV1 | RSV3, RSV1 | RSV2 | RSV3)


class ReservedBits(ServerTestCase):
    def _expect_rejected(self, data, chunk=None, echoed=()):
        ws = self.connect()
        ws.send_raw(data, chunk=chunk)
        for opcode, payload in echoed:
            ws.expect_frame(opcode, payload)
        ws.expect_close(1002)

    def test_rsv_on_text(self):
        for rsv in RSV_VALUES:
            with self.subTest(rsv=rsv):
                self._expect_rejected(encode_frame(OP_TEXT, b"Hello, world!", rsv=rsv))

    def test_rsv_on_binary(self):
        for rsv in RSV_VALUES:
            with self.subTest(rsv=rsv):
                self._expect_rejected(encode_frame(OP_BINARY, bytes(range(256)), rsv=rsv))

    def test_rsv_on_empty_text(self):
        self._expect_rejected(encode_frame(OP_TEXT, b"", rsv=RSV1))

    def test_rsv_on_ping(self):
        for rsv in RSV_VALUES:
            with self.subTest(rsv=rsv):
                self._expect_rejected(encode_frame(OP_PING, b"Hello, world!", rsv=rsv))

    def test_rsv_on_close(self):
        for rsv in RSV_VALUES:
            with self.subTest(rsv=rsv):
                self._expect_rejected(encode_frame(OP_CLOSE, close_payload(1000), rsv=rsv))

    def test_rsv_after_valid_message_in_same_write(self):
        """Autobahn 3.3: the first message is echoed, the RSV frame fails the
        connection, and the ping after it is not answered."""
        data = (
            encode_frame(OP_TEXT, b"Hello, world!")
            + encode_frame(OP_TEXT, b"Hello, world!", rsv=RSV1 | RSV2)
            + encode_frame(OP_PING, b"")
        )
        self._expect_rejected(data, echoed=[(OP_TEXT, b"Hello, world!")])

    def test_rsv_after_valid_message_byte_by_byte(self):
        data = (
            encode_frame(OP_TEXT, b"Hello, world!")
            + encode_frame(OP_TEXT, b"Hello, world!", rsv=RSV3)
            + encode_frame(OP_PING, b"")
        )
        self._expect_rejected(data, chunk=1, echoed=[(OP_TEXT, b"Hello, world!")])

    def test_rsv_on_continuation(self):
        data = encode_frame(OP_TEXT, b"Hello, ", fin=False) + encode_frame(0x0, b"world!", rsv=RSV2)
        self._expect_rejected(data)


if __name__ == "__main__":
    unittest.main()
