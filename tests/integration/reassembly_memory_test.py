#!/usr/bin/python3
"""A connection that sent one large message does not keep its reassembly
buffer: 100 connections each send one 900 KB message (more than one read of
the server's 512 KiB receive buffer, so it is reassembled), get it echoed,
and stay open; the server's resident memory must come back down instead of
keeping ~1 MiB per connection for as long as they live.
"""
import asyncio
import os
import tempfile
import time
import unittest

import websockets

import protocol_client
from protocol_client import run, stop_server

CONNECTIONS = 100
MESSAGE = 900 * 1000
DEADLINE = 30.0  # seconds for the memory to come back on a loaded machine


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def sanitized(pid):
    """AddressSanitizer keeps freed memory in quarantine: RSS says nothing there."""
    with open("/proc/%d/maps" % pid) as maps:
        return "libasan" in maps.read()


class ReassemblyMemoryTest(unittest.TestCase):
    def test_a_large_message_leaves_no_buffer_behind(self):
        with tempfile.TemporaryDirectory() as directory:
            config = os.path.join(directory, "serve.toml")
            open(config, "w").close()
            server, port = protocol_client.start_server(config, "--echo", "--workers", "1")
            self.addCleanup(stop_server, server)
            if sanitized(server.pid):
                self.skipTest("the sanitizer build keeps freed memory in quarantine")

            async def body():
                url = "ws://127.0.0.1:%d/" % port
                clients = [await websockets.connect(url, max_size=None) for _ in range(CONNECTIONS)]
                before = rss_kib(server.pid)
                payload = "x" * MESSAGE
                for client in clients:
                    await client.send(payload)
                    self.assertEqual(len(await client.recv()), MESSAGE)
                # All 100 are still open: what they left behind is what counts.
                deadline = time.monotonic() + DEADLINE
                grown = rss_kib(server.pid) - before
                while grown > 32 * 1024 and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)  # pacing the poll
                    grown = rss_kib(server.pid) - before
                self.assertLess(grown, 32 * 1024,
                                "the server kept %d KiB after %d large messages" % (grown, CONNECTIONS))
                for client in clients:
                    await client.close()
            run(body())


if __name__ == "__main__":
    unittest.main()
