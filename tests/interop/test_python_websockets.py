"""Interop: Debian's python3-websockets (10.4) client against switchboard.

Run with /usr/bin/python3 and SWITCHBOARD_BIN set; the library is not ours,
so this checks that a widely used client agrees with our server.
"""

import asyncio
import os
import signal
import unittest

import websockets

STEP = 10.0  # seconds any single expected frame may take (a loaded 2-core machine)
SIZES = (0, 125, 126, 65535, 65536, 1 << 20)
UNIT = "aé€𝄞 "  # 11 bytes of UTF-8


def text_of(n):
    return UNIT * (n // 11) + "z" * (n % 11)


class PythonWebsockets(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        binary = os.environ.get("SWITCHBOARD_BIN")
        if not binary:
            self.skipTest("SWITCHBOARD_BIN is not set")
        self.proc = await asyncio.create_subprocess_exec(
            binary, "serve", "--echo", "--host", "127.0.0.1", "--port", "0", "--workers", "2",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        )
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 15)).decode().strip()
        prefix = "listening on 127.0.0.1:"
        self.assertTrue(line.startswith(prefix), f"unexpected first line {line!r}")
        self.uri = f"ws://127.0.0.1:{int(line[len(prefix):])}/"

    async def asyncTearDown(self):
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                self.fail("server ignored SIGTERM")
        self.assertEqual(self.proc.returncode, 0, "server exit status after SIGTERM")

    def connect(self):
        return websockets.connect(self.uri, compression=None, max_size=64 << 20, open_timeout=STEP, close_timeout=STEP)

    async def echo(self, ws, message):
        await ws.send(message)
        reply = await asyncio.wait_for(ws.recv(), STEP)
        self.assertEqual(type(reply), type(message))
        self.assertEqual(len(reply), len(message))
        self.assertTrue(reply == message, "echoed message differs")

    async def test_text_sizes(self):
        async with self.connect() as ws:
            for n in SIZES:
                with self.subTest(size=n):
                    text = text_of(n)
                    self.assertEqual(len(text.encode()), n)
                    await self.echo(ws, text)

    async def test_binary_sizes(self):
        async with self.connect() as ws:
            for n in SIZES:
                with self.subTest(size=n):
                    await self.echo(ws, os.urandom(n))

    async def test_fragmented_text(self):
        async with self.connect() as ws:
            await ws.send(["fragment one ", "€ two ", "𝄞 three"])
            reply = await asyncio.wait_for(ws.recv(), STEP)
            self.assertEqual(reply, "fragment one € two 𝄞 three")

    async def test_fragmented_binary_async_iterable(self):
        parts = [os.urandom(10), os.urandom(70000), b"", os.urandom(1)]

        async def fragments():
            for p in parts:
                yield p
                await asyncio.sleep(0.01)  # pacing the fragments, the test's point

        async with self.connect() as ws:
            await ws.send(fragments())
            reply = await asyncio.wait_for(ws.recv(), STEP)
            self.assertEqual(reply, b"".join(parts))

    async def test_ping(self):
        async with self.connect() as ws:
            for payload in (b"", b"ping payload", os.urandom(125)):
                with self.subTest(size=len(payload)):
                    pong_waiter = await ws.ping(payload)
                    await asyncio.wait_for(pong_waiter, STEP)

    async def test_close_1000_with_reason(self):
        ws = await self.connect()
        await self.echo(ws, "before close")
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.wait_for(ws.close(1000, "client done"), 2 * STEP)
        await asyncio.wait_for(ws.wait_closed(), STEP)
        self.assertEqual(ws.close_code, 1000)
        # A client waits close_timeout (STEP) for the server to close TCP
        # before dropping it itself: finishing well before that means the
        # server closed it.
        self.assertLess(loop.time() - start, STEP / 2, "server did not close TCP after the close handshake")

    async def test_message_over_limit_gets_1009(self):
        async with self.connect() as ws:
            await ws.send(os.urandom((1 << 20) + 1))
            with self.assertRaises(websockets.ConnectionClosedError) as caught:
                await asyncio.wait_for(ws.recv(), STEP)
            self.assertEqual(caught.exception.rcvd.code, 1009)


if __name__ == "__main__":
    unittest.main()
