"""What the hub's Python integration tests share: a protocol v1 client on
Debian's python3-websockets, and starting and stopping `switchboard serve`.
"""
import asyncio
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import websockets
import websockets.exceptions
from prometheus_client.parser import text_string_to_metric_families

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")
PROTOCOL = "switchboard.v1.json"
STEP = 10.0  # seconds any single expected frame may take (a loaded 2-core machine)
DEADLINE = 20.0  # seconds a polled condition may take to come true
POLL_INTERVAL = 0.02  # seconds between two looks at a polled condition
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") or k == "SWITCHBOARD_BIN"}


class Client:
    """One protocol connection: numbered commands; frames that arrive while
    waiting for an answer are kept, in order, for recv()."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.backlog = []

    @classmethod
    async def open(cls, url, token=None, user=None, headers=None, ssl_context=None):
        """ssl_context: for wss://, the ssl.SSLContext to verify the server with."""
        query = "?token=" + token if token else ("?user=" + user if user else "")
        tls = {"ssl": ssl_context} if ssl_context is not None else {}
        # max_queue=None: the library must not stop reading while a test is
        # busy elsewhere (its default of 32 frames would stall TCP).
        return cls(await websockets.connect(url + query, subprotocols=[PROTOCOL], compression=None,
                                            max_queue=None, extra_headers=headers or {}, **tls))

    async def recv(self):
        if self.backlog:
            return self.backlog.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), STEP))

    async def command(self, kind, **fields):
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "type": kind, **fields}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), STEP))
            if frame.get("id") == self.next_id:
                return frame
            self.backlog.append(frame)

    async def closed_with(self):
        """(code, reason) of the close that ends the connection."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), STEP)
        except websockets.exceptions.ConnectionClosed as closed:
            return closed.code, closed.reason


def eventually(probe, done, seconds=DEADLINE):
    """Calls probe() until done(value) holds or `seconds` pass; returns the
    last value, so the caller's assertions show what was seen instead."""
    deadline = time.monotonic() + seconds
    value = probe()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)  # pacing the poll, not a wait for a result
        value = probe()
    return value


async def eventually_async(probe, done, seconds=DEADLINE):
    """eventually() inside a coroutine: a blocking probe runs in a thread
    so the event loop keeps reading the test's connections."""
    deadline = time.monotonic() + seconds
    value = await asyncio.to_thread(probe)
    while not done(value) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_INTERVAL)  # pacing the poll
        value = await asyncio.to_thread(probe)
    return value


async def send_once_watched(client, user, data, seconds=DEADLINE):
    """`send` to user over Redis, again until the reply says online; returns
    that reply (or the last one after `seconds`). A node subscribes to a
    user's Redis channel on the user's first connection there, and Redis
    has it a moment later: a send before that reaches no node, and no
    connection gets it (docs/SCALING.md, known windows). So the user gets
    exactly one of these sends, the one whose reply is returned. Only for
    a user on one node: with two, online may come from the first alone."""
    deadline = time.monotonic() + seconds
    while True:
        reply = await client.command("send", user=user, data=data)
        if reply.get("data") != {"online": False} or time.monotonic() > deadline:
            return reply
        # Pacing the poll at the default send rate (10/s, burst 50), which
        # it then never runs out of.
        await asyncio.sleep(0.1)


def run(coroutine, seconds=90):
    return asyncio.run(asyncio.wait_for(coroutine, seconds))


def start_server(config_path, *flags):
    """`switchboard serve --config config_path` on a free loopback port:
    (process, port). Its log goes to a file (a pipe nobody reads would fill
    and stop the server), which stop_server returns."""
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen([BINARY, "serve", "--config", config_path, "--host", "127.0.0.1", "--port", "0",
                               *flags], stdout=subprocess.PIPE, stderr=log, text=True, env=CLEAN_ENV)
    server.log = log
    line = server.stdout.readline()
    match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        server.kill()
        server.wait()
        log.seek(0)
        raise RuntimeError("server did not start: %r %s" % (line, log.read()))
    return server, int(match.group(1))


def stop_server(server):
    """Terminates (drains) the server if it still runs; returns its log
    (the first call only; later ones return "")."""
    if server.log.closed:
        return ""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    server.stdout.close()
    server.log.seek(0)
    stderr = server.log.read()
    server.log.close()
    return stderr


def metric_samples(port):
    """{(name, frozenset(labels)): value} from the server's GET /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=STEP) as response:
        text = response.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def refused(port, reason):
    """switchboard_refused_total{reason} (0 before the first refusal)."""
    return metric_samples(port).get(("switchboard_refused_total", frozenset({("reason", reason)})), 0)
