"""Autobahn section 4: reserved opcodes (RFC 6455 §5.2) MUST fail the connection."""

import unittest

from harness import ServerTestCase
from wsclient import OP_PING, OP_TEXT, encode_frame

RESERVED_DATA = (0x3, 0x4, 0x5, 0x6, 0x7)
RESERVED_CONTROL = (0xB, 0xC, 0xD, 0xE, 0xF)


class ReservedOpcodes(ServerTestCase):
    def _expect_rejected(self, data, echoed=()):
        ws = self.connect()
        ws.send_raw(data)
        for opcode, payload in echoed:
            ws.expect_frame(opcode, payload)
        ws.expect_close(1002)

    def test_reserved_opcode_alone(self):
        for opcode in RESERVED_DATA + RESERVED_CONTROL:
            with self.subTest(opcode=opcode):
                self._expect_rejected(encode_frame(opcode, b""))

    def test_reserved_opcode_with_payload(self):
        for opcode in RESERVED_DATA + RESERVED_CONTROL:
            with self.subTest(opcode=opcode):
                self._expect_rejected(encode_frame(opcode, b"reserved opcode payload"))

    def test_reserved_opcode_after_valid_message(self):
        """Autobahn 4.x.3-5: text, reserved-opcode frame, ping in one write:
        the text is echoed, then 1002, and the ping is not answered."""
        for opcode in RESERVED_DATA + RESERVED_CONTROL:
            with self.subTest(opcode=opcode):
                data = (
                    encode_frame(OP_TEXT, b"Hello, world!")
                    + encode_frame(opcode, b"Hello, world!")
                    + encode_frame(OP_PING, b"")
                )
                self._expect_rejected(data, echoed=[(OP_TEXT, b"Hello, world!")])

    def test_reserved_opcode_mid_fragmented_message(self):
        data = encode_frame(OP_TEXT, b"frag", fin=False) + encode_frame(0xB, b"") + encode_frame(0x0, b"ment")
        self._expect_rejected(data)


if __name__ == "__main__":
    unittest.main()
