#!/usr/bin/python3
"""Slow consumers end to end, with raw sockets that really stop reading (a
small SO_RCVBUF, then nothing read): a closed one learns why (`disconnect`,
then close 1013, nothing cut off), the server logs and counts the close it
sent even when the peer never answers it, and the frames held under
drop-oldest stay within the per-connection and node byte caps.
"""
import json
import os
import re
import socket
import tempfile
import time
import unittest

import protocol_client
from protocol_client import STEP, Client, metric_samples, run, stop_server

DEADLINE = 30.0  # seconds for a condition on a loaded machine
PAYLOAD = 4000  # bytes of each published message's data


def start_server(directory, config_text, *flags):
    config = os.path.join(directory, "serve.toml")
    with open(config, "w") as file:
        file.write(config_text)
    return protocol_client.start_server(config, *flags)


def metric(port, name, **labels):
    return metric_samples(port).get((name, frozenset(labels.items())))


def wait_until(condition, what):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # pacing the poll
    raise AssertionError("timed out waiting for " + what)


def server_log(server):
    """What the running server has logged so far (pread: the server shares
    the file's offset, which must stay at the end for its writes)."""
    fd = server.log.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


class StalledSubscriber:
    """A protocol connection on a raw socket: it upgrades and subscribes,
    then reads nothing until told to, with a receive buffer so small that
    the server's outgoing buffer fills after a few messages."""

    def __init__(self, port, channels):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        self.sock.settimeout(STEP)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                          b"Sec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head, head
        self.buffer = b""
        for number, channel in enumerate(channels, 1):
            self.send_text(json.dumps({"id": number, "type": "subscribe", "channel": channel}))
            # The reply comes once the subscription is in place.
            opcode, payload = self.frame()
            assert opcode == 0x1 and json.loads(payload) == {"id": number, "type": "reply", "data": {}}, payload

    def send_text(self, text, opcode=0x1):
        payload = text.encode() if isinstance(text, str) else text
        mask = b"\x01\x02\x03\x04"
        assert len(payload) < 126
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def need(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("EOF inside a frame: %d of %d bytes" % (len(self.buffer), n))
            self.buffer += chunk

    def frame(self):
        """The next whole frame: (opcode, payload); None at EOF between frames."""
        if not self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer = chunk
        self.need(2)
        assert self.buffer[0] & 0x80, "a fragment: the server sends whole messages"
        opcode = self.buffer[0] & 0x0F
        length, start = self.buffer[1] & 0x7F, 2
        if length == 126:
            self.need(4)
            length, start = int.from_bytes(self.buffer[2:4], "big"), 4
        elif length == 127:
            self.need(10)
            length, start = int.from_bytes(self.buffer[2:10], "big"), 10
        self.need(start + length)
        payload = self.buffer[start:start + length]
        self.buffer = self.buffer[start + length:]
        return opcode, payload

    def read_to_the_end(self):
        """Reads on: the numbers of the messages, then what follows the
        last message (every frame whole, or this fails)."""
        numbers, after = [], []
        while True:
            frame = self.frame()
            if frame is None:
                return numbers, after
            opcode, payload = frame
            if opcode == 0x1 and json.loads(payload)["type"] == "message" and not after:
                numbers.append(int(json.loads(payload)["data"][:6]))
                continue
            after.append(frame)
            if opcode == 0x8:
                # Our answer to its close: then the server ends TCP.
                self.sock.sendall(bytes([0x88, 0x82, 0, 0, 0, 0]) + payload[:2])

    def read_newest(self, last):
        """Reads until message number `last`: the numbers, in order."""
        numbers = []
        while not numbers or numbers[-1] != last:
            opcode, payload = self.frame()
            assert opcode == 0x1, (opcode, payload[:40], numbers[-3:])
            numbers.append(int(json.loads(payload)["data"][:6]))
        return numbers

    def close(self):
        self.sock.close()


async def publish(publisher, channel, first, count):
    for number in range(first, first + count):
        data = "%06d" % number + "x" * (PAYLOAD - 6)
        reply = await publisher.command("publish", channel=channel, data=data)
        assert reply["type"] == "reply", reply


async def publish_until(publisher, port, channel, condition, what):
    """Publishes numbered messages until condition(port) holds: how many."""
    number = 0
    deadline = time.monotonic() + DEADLINE
    while not condition(port):
        if time.monotonic() > deadline:
            raise AssertionError("timed out publishing until " + what)
        await publish(publisher, channel, number, 20)
        number += 20
    return number


def slow_closes(port):
    return metric(port, "switchboard_slow_consumer_closes_total")


NO_LIMITS = "[limits]\nmessages_per_s = 0\nbytes_per_s = 0\n"


class SlowConsumerCloseTest(unittest.TestCase):
    def start(self, config_text):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(directory.name, config_text, "--workers", "1")
        self.addCleanup(stop_server, server)
        return server, port

    def test_a_closed_slow_consumer_reads_disconnect_then_1013_with_nothing_cut_off(self):
        # A long close timeout: the client resumes reading well within it.
        server, port = self.start("[server]\nmax_buffered_bytes = 65536\nclose_timeout_ms = 60000\n" + NO_LIMITS)
        stalled = StalledSubscriber(port, ["feed:x"])
        self.addCleanup(stalled.close)

        async def body():
            publisher = await Client.open("ws://127.0.0.1:%d/" % port)
            await publish_until(publisher, port, "feed:x", lambda p: slow_closes(p) == 1, "the slow close")
            await publisher.ws.close()
        run(body())

        numbers, after = stalled.read_to_the_end()
        # What it had been sent, in order and whole; then why it is dropped.
        self.assertEqual(numbers, list(range(len(numbers))))
        self.assertGreater(len(numbers), 0)
        self.assertEqual(len(after), 2, after)
        self.assertEqual(after[0][0], 0x1)
        self.assertEqual(json.loads(after[0][1]),
                         {"type": "disconnect", "code": 1013, "reason": "slow consumer", "reconnect": True})
        self.assertEqual(after[1], (0x8, (1013).to_bytes(2, "big") + b"slow consumer"))

    def test_an_unanswered_slow_consumer_close_is_logged_and_counted_as_1013(self):
        server, port = self.start("[server]\nmax_buffered_bytes = 65536\nclose_timeout_ms = 300\n" + NO_LIMITS)
        stalled = StalledSubscriber(port, ["feed:x"])
        self.addCleanup(stalled.close)

        async def body():
            publisher = await Client.open("ws://127.0.0.1:%d/" % port)
            await publish_until(publisher, port, "feed:x", lambda p: slow_closes(p) == 1, "the slow close")
            # The stalled client never answers the close: after the close
            # timeout the server ends TCP and reports the code it sent.
            line = wait_until(lambda: re.search(r"event=close client=\d+ user=- code=\d+ reason=.*",
                                                server_log(server)), "the close to be logged")
            self.assertRegex(line.group(0), r'code=1013 reason="close handshake timed out"')
            closed = metric_samples(port)
            self.assertEqual(closed[("switchboard_connections_closed_total", frozenset({("kind", "policy")}))], 1)
            self.assertEqual(closed[("switchboard_connections_closed_total", frozenset({("kind", "abnormal")}))], 0)
            await publisher.ws.close()
        run(body())
        self.assertNotIn("code=1006", stop_server(server))


class HeldBytesCapTest(unittest.TestCase):
    """drop-oldest with a backlog of 100000 messages per channel: what is
    held is bounded in bytes, per connection and for the node."""

    def start(self, extra):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(
            directory.name, "[server]\nmax_buffered_bytes = 65536\n" + extra + NO_LIMITS +
            '[[namespaces]]\npattern = "feed:*"\nslow_consumer = "drop-oldest"\nslow_consumer_backlog = 100000\n',
            "--workers", "1")
        self.addCleanup(stop_server, server)
        return server, port

    def test_held_frames_stay_within_the_per_connection_cap_and_the_newest_arrive(self):
        # No hub.max_held_bytes_per_connection: twice max_buffered_bytes.
        cap = 2 * 65536
        server, port = self.start("")
        stalled = StalledSubscriber(port, ["feed:x"])
        self.addCleanup(stalled.close)

        async def body():
            publisher = await Client.open("ws://127.0.0.1:%d/" % port)
            await publish(publisher, "feed:x", 0, 1000)  # 4 MB
            await publisher.ws.close()
        run(body())
        metrics = metric_samples(port)

        numbers = stalled.read_newest(999)
        # Its buffers, then a jump, then the newest that fit in the cap, in order.
        self.assertEqual(numbers, sorted(set(numbers)))
        jumps = [i for i in range(1, len(numbers)) if numbers[i] != numbers[i - 1] + 1]
        self.assertEqual(len(jumps), 1, "all %d messages held: the backlog was not bounded" % len(numbers))
        newest = numbers[jumps[0]:]
        self.assertEqual(newest, list(range(1000 - len(newest), 1000)))
        self.assertLessEqual(len(newest) * PAYLOAD, cap)
        self.assertGreater(len(newest) * PAYLOAD, cap / 2)

        held = metrics[("switchboard_slow_consumer_held_bytes", frozenset())]
        self.assertGreater(held, cap / 2)
        self.assertLessEqual(held, cap)
        self.assertGreater(metrics[("switchboard_slow_consumer_cap_hits_total", frozenset({("cap", "connection")}))], 0)
        self.assertEqual(metrics[("switchboard_slow_consumer_cap_hits_total", frozenset({("cap", "node")}))], 0)
        self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 0)
        wait_until(lambda: metric(port, "switchboard_slow_consumer_held_bytes") == 0, "the held bytes to be sent")

    def test_what_is_held_goes_out_a_buffer_at_a_time_until_none_is_left(self):
        # A buffer of two messages and room to hold 250: once the client
        # reads, the kernel takes each two-message slice at once, so no
        # drain follows it; the next slice must go anyway.
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server, port = start_server(
            directory.name, "[server]\nmax_buffered_bytes = 8192\n[hub]\nmax_held_bytes_per_connection = 1048576\n" +
            NO_LIMITS + '[[namespaces]]\npattern = "feed:*"\nslow_consumer = "drop-oldest"\n'
            'slow_consumer_backlog = 100000\n', "--workers", "1")
        self.addCleanup(stop_server, server)
        stalled = StalledSubscriber(port, ["feed:x"])
        self.addCleanup(stalled.close)

        async def body():
            publisher = await Client.open("ws://127.0.0.1:%d/" % port)
            await publish(publisher, "feed:x", 0, 1000)
            await publisher.ws.close()
        run(body())
        held = metric(port, "switchboard_slow_consumer_held_bytes")
        self.assertGreater(held, 200 * PAYLOAD)
        numbers = stalled.read_newest(999)
        self.assertEqual(numbers, sorted(set(numbers)))
        self.assertGreaterEqual(len(numbers), 200)
        wait_until(lambda: metric(port, "switchboard_slow_consumer_held_bytes") == 0, "the held bytes to be sent")

    def test_the_node_cap_pushes_out_a_holders_own_frames_and_closes_one_with_nothing_to_push_out(self):
        node_cap = 100000
        server, port = self.start("[hub]\nmax_held_bytes = %d\n" % node_cap)
        first = StalledSubscriber(port, ["feed:a"])
        self.addCleanup(first.close)
        second = StalledSubscriber(port, ["feed:b"])
        self.addCleanup(second.close)

        async def body():
            publisher = await Client.open("ws://127.0.0.1:%d/" % port)
            # The first one holds up to the node's cap, then pushes out its own oldest.
            await publish(publisher, "feed:a", 0, 1000)
            metrics = metric_samples(port)
            self.assertLessEqual(metrics[("switchboard_slow_consumer_held_bytes", frozenset())], node_cap)
            self.assertGreater(metrics[("switchboard_slow_consumer_held_bytes", frozenset())], node_cap / 2)
            self.assertGreater(metrics[("switchboard_slow_consumer_cap_hits_total", frozenset({("cap", "node")}))], 0)
            self.assertEqual(metrics[("switchboard_slow_consumer_closes_total", frozenset())], 0)
            # The second one finds the node full and nothing of its own to push out.
            await publish_until(publisher, port, "feed:b", lambda p: slow_closes(p) == 1, "the second's close")
            self.assertLessEqual(metric(port, "switchboard_slow_consumer_held_bytes"), node_cap)
            await publisher.ws.close()
        run(body())

        numbers, after = second.read_to_the_end()
        self.assertEqual(numbers, list(range(len(numbers))))
        self.assertEqual([opcode for opcode, _ in after], [0x1, 0x8], after)
        self.assertEqual(json.loads(after[0][1])["code"], 1013)
        self.assertEqual(after[1][1], (1013).to_bytes(2, "big") + b"slow consumer")
        newest = first.read_newest(999)
        self.assertEqual(newest, sorted(set(newest)))
        self.assertEqual(newest[-3:], [997, 998, 999])


if __name__ == "__main__":
    unittest.main(verbosity=2)
