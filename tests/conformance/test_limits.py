"""Autobahn section 10 and server limits: message size (1009, RFC 6455
§7.4.1), many connections across workers, two server instances."""

import os
import threading
import time
import unittest

from harness import Server, ServerTestCase
from wsclient import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WsClient, encode_frame

MiB = 1024 * 1024


class DefaultLimit(ServerTestCase):
    """No --max-message-size: the default is 1 MiB."""

    def test_max_size_is_echoed(self):
        ws = self.connect(timeout=15)
        ws.echo(OP_BINARY, os.urandom(MiB))

    def test_max_size_plus_one_single_frame(self):
        ws = self.connect(timeout=15)
        ws.send_frame(OP_BINARY, os.urandom(MiB + 1))
        ws.expect_close(1009)

    def test_max_size_plus_one_text(self):
        ws = self.connect(timeout=15)
        ws.send_frame(OP_TEXT, b"a" * (MiB + 1))
        ws.expect_close(1009)

    def test_max_size_plus_one_fragmented(self):
        ws = self.connect(timeout=15)
        half = MiB // 2
        ws.send_raw(encode_frame(OP_BINARY, b"\0" * half, fin=False) + encode_frame(OP_CONT, b"\0" * (half + 1)))
        ws.expect_close(1009)

    def test_oversize_header_fails_before_payload(self):
        """A frame header announcing 2^40 bytes is refused at once; the
        payload is never sent."""
        ws = self.connect()
        ws.send_raw(b"\x82\xff" + (1 << 40).to_bytes(8, "big") + os.urandom(4) + b"abc")
        ws.expect_close(1009)


class SmallLimit(ServerTestCase):
    SERVER_ARGS = ("--max-message-size", "1000")

    def test_at_limit(self):
        ws = self.connect()
        ws.echo(OP_TEXT, b"x" * 1000)
        ws.send_raw(encode_frame(OP_BINARY, b"y" * 500, fin=False) + encode_frame(OP_CONT, b"z" * 500))
        ws.expect_frame(OP_BINARY, b"y" * 500 + b"z" * 500)

    def test_over_limit(self):
        for size in (1001, 65536):
            with self.subTest(size=size):
                ws = self.connect()
                ws.send_frame(OP_TEXT, b"x" * size)
                ws.expect_close(1009)

    def test_over_limit_in_many_fragments(self):
        ws = self.connect()
        ws.send_raw(b"".join(encode_frame(OP_TEXT if i == 0 else OP_CONT, b"x" * 100, fin=False) for i in range(11)))
        ws.expect_close(1009)

    def test_control_frames_do_not_count(self):
        ws = self.connect()
        ws.send_raw(encode_frame(OP_TEXT, b"x" * 900, fin=False) + encode_frame(OP_PING, b"p" * 125))
        ws.expect_frame(OP_PONG, b"p" * 125)
        ws.send_frame(OP_CONT, b"x" * 100)
        ws.expect_frame(OP_TEXT, b"x" * 1000)


# Python's ssl sockets must not be written by one thread while another reads
# (both call into one OpenSSL session without a lock; the client breaks now
# and then), which is how this test loads the connection: over TLS the same
# pipeline runs single-threaded on asyncio instead, in
# tests/integration/tls_clients_test.py.
@unittest.skipIf(os.environ.get("SB_CONFORMANCE_TLS"), "threaded writer on an ssl socket: see tls_clients_test.py")
class SlowReader(ServerTestCase):
    """The echo contract holds for a client that reads late: the server
    should stop reading (TCP backpressure) rather than drop the client."""

    def _pipeline(self, size, count, read_delay=1.0):
        ws = self.connect(timeout=20)
        messages = [os.urandom(size) for _ in range(count)]
        data = b"".join(encode_frame(OP_BINARY, m) for m in messages)
        writer = threading.Thread(target=ws.send_raw, args=(data,), daemon=True)
        writer.start()
        time.sleep(read_delay)  # reading late is the test: the server must hold back, not drop
        try:
            for i, m in enumerate(messages):
                ws.expect_frame(OP_BINARY, m)
        except AssertionError as e:
            self.fail(f"echo {i} of {count} ({size} B each): {e}")
        finally:
            ws.close()
            writer.join(20)

    def test_large_messages_read_late(self):
        self._pipeline(MiB, 12)

    def test_small_messages_read_late(self):
        """16 MiB of 64 KiB messages, the reader a second late."""
        self._pipeline(64 * 1024, 256)


class ManyConnections(ServerTestCase):
    WORKERS = 4

    def test_interleaved_connections(self):
        clients = [self.connect() for _ in range(32)]
        for round_ in range(3):
            for i, ws in enumerate(clients):
                ws.send_frame(OP_TEXT, f"client {i} round {round_}".encode())
            for i, ws in enumerate(clients):
                ws.expect_frame(OP_TEXT, f"client {i} round {round_}".encode())

    def test_parallel_clients(self):
        errors = []

        def run(i):
            try:
                with WsClient.connect(self.port) as ws:
                    for n in (0, 10, 1000, 70000):
                        ws.echo(OP_BINARY, os.urandom(n))
                    ws.send_close(1000)
                    ws.expect_close(1000, reply=False)
            except Exception as e:  # reported below with the client number
                errors.append(f"client {i}: {e!r}")

        threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])

    def test_abrupt_disconnects_do_not_disturb_others(self):
        keeper = self.connect()
        for cut in (1, 5, 50):
            ws = WsClient.connect(self.port)
            ws.send_raw(encode_frame(OP_BINARY, os.urandom(100))[:cut])
            ws.close()
        keeper.echo(OP_TEXT, b"still here")


class SecondInstance(unittest.TestCase):
    def test_two_servers_side_by_side(self):
        first = Server().start()
        try:
            second = Server(("--max-message-size", "100")).start()
            try:
                self.assertNotEqual(first.port, second.port)
                with first.connect() as a, second.connect() as b:
                    a.echo(OP_TEXT, b"a" * 200)
                    b.echo(OP_TEXT, b"b" * 100)
                    b.send_frame(OP_TEXT, b"b" * 101)
                    b.expect_close(1009)
                    a.echo(OP_TEXT, b"first is unaffected")
            finally:
                self.assertEqual(second.terminate(), 0)
        finally:
            self.assertEqual(first.terminate(), 0)


if __name__ == "__main__":
    unittest.main()
