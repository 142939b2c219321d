"""Server-driven behaviour over time: SIGTERM drain (1001), the close
timeout, the handshake timeout and server pings. One server per test."""

import signal
import socket
import time
import unittest

from harness import Server
from wsclient import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, ProtocolFailure, WsClient, encode_frame


class Lifecycle(unittest.TestCase):
    def _server(self, *args):
        server = Server(args).start()
        self.addCleanup(server.kill)
        return server

    def _connect(self, server):
        ws = server.connect()
        self.addCleanup(ws.close)
        return ws

    def test_sigterm_closes_connections_with_1001(self):
        server = self._server()
        clients = [self._connect(server) for _ in range(3)]
        clients[0].echo(OP_TEXT, b"before shutdown")
        server.proc.send_signal(signal.SIGTERM)
        for ws in clients:
            ws.expect_close(1001)
            ws.close()  # else the server lingers, waiting for our FIN
        self.assertEqual(server.proc.wait(10), 0)

    def test_sigterm_with_silent_peer(self):
        """A peer that never answers the 1001 is dropped after the close
        timeout, and the server still exits."""
        server = self._server("--close-timeout-ms", "300")
        ws = self._connect(server)
        server.proc.send_signal(signal.SIGTERM)
        frame = ws.recv_frame()
        self.assertEqual((frame.opcode, frame.close_code), (OP_CLOSE, 1001))
        # 4 s: generous for 300 ms, and below the default close timeout
        # (5 s), so the flag is what ends it.
        ws.read_until_eof(timeout=4)
        self.assertEqual(server.proc.wait(10), 0)

    def test_sigterm_with_idle_tcp_and_partial_frame(self):
        """Our close answer would be parsed as the rest of the partial frame,
        so we do not send one: the close timeout ends the connection."""
        server = self._server("--close-timeout-ms", "300")
        idle = WsClient.open_tcp(server.port)
        self.addCleanup(idle.close)
        ws = self._connect(server)
        ws.send_raw(encode_frame(OP_TEXT, b"partial message")[:5])
        server.proc.send_signal(signal.SIGTERM)
        ws.expect_close(1001, reply=False)
        idle.read_until_eof()
        self.assertEqual(server.proc.wait(10), 0)

    def test_handshake_timeout(self):
        server = self._server("--handshake-timeout-ms", "300")
        silent = WsClient.open_tcp(server.port)
        self.addCleanup(silent.close)
        partial = WsClient.open_tcp(server.port)
        self.addCleanup(partial.close)
        partial.send_raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        # 5 s: generous for 300 ms, and still half the default handshake
        # timeout (10 s), so the flag is what closes them.
        silent.read_until_eof(timeout=5)  # a 408 before the close is fine
        partial.read_until_eof(timeout=5)
        self.assertLess(time.monotonic() - start, 5)
        ws = self._connect(server)  # a prompt client is unaffected
        # Waiting out twice the handshake timeout is the point here: the
        # open connection must see nothing (no 408, no close) meanwhile.
        ws.expect_silence(0.6)
        ws.echo(OP_TEXT, b"open connections have no handshake timer")

    def test_server_pings_and_answered_pongs_keep_connection(self):
        # Twelve pings: unanswered, the server would drop us after the
        # eleventh (ten missed pongs allowed); a stall of this process under
        # load has to last a second (ten intervals) to lose a pong's effect,
        # and each read waits up to the default timeout.
        server = self._server("--ping-interval-ms", "100", "--missed-pongs", "10")
        ws = self._connect(server)
        for _ in range(12):
            frame = ws.recv_frame()
            self.assertEqual(frame.opcode, OP_PING, frame)
            self.assertLessEqual(len(frame.payload), 125)
            ws.send_frame(OP_PONG, frame.payload)
        ws.send_frame(OP_TEXT, b"still open")
        while (frame := ws.recv_frame()).opcode == OP_PING:
            ws.send_frame(OP_PONG, frame.payload)
        self.assertEqual((frame.opcode, frame.payload), (OP_TEXT, b"still open"))

    def test_unanswered_pings_drop_the_peer(self):
        server = self._server("--ping-interval-ms", "100")
        ws = self._connect(server)
        # Far below the default 25 s interval, so the flag is what counts.
        deadline = time.monotonic() + 10
        while True:
            self.assertLess(time.monotonic(), deadline, "server kept a silent peer")
            try:
                frame = ws.recv_frame()
            except (ProtocolFailure, ConnectionResetError) as e:
                self.assertNotIn("timed out", str(e))
                break  # TCP closed
            self.assertIn(frame.opcode, (OP_PING, OP_CLOSE), frame)
        self.assertTrue(server.alive())

    def test_no_pings_when_disabled(self):
        server = self._server("--ping-interval-ms", "0")
        ws = self._connect(server)
        ws.expect_silence(0.5)

    def test_listener_refuses_after_exit(self):
        server = self._server()
        port = server.port
        self.assertEqual(server.terminate(), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


if __name__ == "__main__":
    unittest.main()
