#!/usr/bin/python3
"""`switchboard client`: the terminal client on the C++ client library,
driven through stdin in --json mode against `switchboard serve` processes
this test starts: a scripted session, two clients talking, a reconnect
after the server is killed and restarted on the same port, and the exit
statuses (0, 1 for a failed command, 2 for a final close); on channels
with history, the stream position, `history`, `latest`, a failed
recovery after a restart, and (from a peer scripted by hand) a `reset`.
"""
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") or k == "SWITCHBOARD_BIN"}
STEP = 10.0  # seconds any single expected event may take
SECRET = "client-cli-test-secret-of-32-bytes-or-more"


def start_server(port=0, env=None, extra=()):
    """`switchboard serve` on 127.0.0.1 (port 0: a free one): (process, port)."""
    server = subprocess.Popen(
        [BINARY, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--insecure-user-query",
         "--namespace", "chat:*=join_leave", "--log-level", "warn", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(CLEAN_ENV, **(env or {})))
    match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
    if not match:
        server.kill()
        server.wait()
        raise RuntimeError("server did not start")
    return server, int(match.group(1))


def stop(process, sig=signal.SIGTERM):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def run_script(url, lines, *flags):
    """Runs the client over a whole stdin script: (exit status, events)."""
    result = subprocess.run([BINARY, "client", url, "--json", *flags], input="".join(line + "\n" for line in lines),
                            capture_output=True, text=True, timeout=60, env=CLEAN_ENV)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def start_tls_proxy(directory, target_port):
    """A TLS-terminating TCP proxy to target_port with a fresh self-signed
    certificate for 127.0.0.1: (port, certificate path)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    ready = queue.Queue()

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, target_writer), pipe(target_reader, writer))

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        ready.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    return ready.get(timeout=STEP), cert


def start_scripted_peer(after_subscribe):
    """A WebSocket peer on 127.0.0.1 that plays a server by hand for one
    connection: it answers `connect`, answers the first `subscribe` with its
    reply data and then sends the messages of after_subscribe(id) (for what
    `switchboard serve` sends only when something went wrong). Its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def frame(opcode, payload):
        size = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([size]) if size < 126 else bytes([126]) + size.to_bytes(2, "big"))
        return head + payload

    def serve():
        connection, _ = listener.accept()
        listener.close()
        with connection, contextlib.suppress(ConnectionError):  # the client may go at any point
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                buffer += connection.recv(4096)
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            key = re.search(rb"Sec-WebSocket-Key: (\S+)", head).group(1)
            accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            connection.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n")
            while True:
                # One masked client frame, under 64 KiB.
                while len(buffer) < 2 or len(buffer) < 2 + (2 if buffer[1] & 0x7F == 126 else 0) + 4:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                size, at = buffer[1] & 0x7F, 2
                if size == 126:
                    size, at = int.from_bytes(buffer[2:4], "big"), 4
                while len(buffer) < at + 4 + size:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                opcode, mask = buffer[0] & 0x0F, buffer[at:at + 4]
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buffer[at + 4:at + 4 + size]))
                buffer = buffer[at + 4 + size:]
                if opcode == 0x8:
                    connection.sendall(frame(0x8, payload[:2]))
                    continue
                command = json.loads(payload)
                if command["type"] == "connect":
                    answer = [{"type": "reply", "id": command["id"], "data": {"client": "1", "user": None}}]
                elif command["type"] == "subscribe":
                    answer = after_subscribe(command["id"])
                else:
                    answer = [{"type": "reply", "id": command["id"], "data": {}}]
                connection.sendall(b"".join(frame(0x1, json.dumps(message).encode()) for message in answer))

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


class Session:
    """A long-running `switchboard client --json --stay` whose stdin stays
    open; its events are read by a thread."""

    def __init__(self, url, *flags):
        self.process = subprocess.Popen([BINARY, "client", url, "--json", "--stay", *flags], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=CLEAN_ENV)
        self.events = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def send(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, **fields):
        """The next event with these fields (others are kept in seen)."""
        deadline = time.monotonic() + STEP
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no event %r; saw %r" % (fields, self.seen))
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if all(event.get(k) == v for k, v in fields.items()):
                return event

    def finish(self, sig=signal.SIGTERM):
        """Signals the client; returns its exit status."""
        self.process.send_signal(sig)
        status = self.process.wait(timeout=15)
        self.process.stdin.close()
        return status


class ClientCliTest(unittest.TestCase):
    def setUp(self):
        self.server, self.port = start_server()
        self.url = "ws://127.0.0.1:%d/" % self.port
        self.sessions = []

    def tearDown(self):
        for session in self.sessions:
            if session.process.poll() is None:
                session.process.kill()
                session.process.wait()
        stop(self.server)

    def session(self, url, *flags):
        session = Session(url, *flags)
        self.sessions.append(session)
        return session

    def test_scripted_session_prints_json_events(self):
        status, events = run_script(self.url + "?user=ada", [
            "sub chat:one", 'pub chat:one {"text": "hi"}', "presence chat:one", "ping", "send ada [1]",
            "# a comment", "", "unsub chat:one", "quit", "pub chat:one 2"])
        self.assertEqual(status, 0, events)
        kinds = [event["event"] for event in events]
        self.assertEqual(events[0], {"event": "state", "state": "connecting"})
        self.assertEqual(events[1]["state"], "connected")
        self.assertEqual(events[1]["user"], "ada")
        self.assertIn({"event": "subscribed", "channel": "chat:one", "seq": 1}, events)
        self.assertIn({"event": "message", "channel": "chat:one", "offset": 1, "data": {"text": "hi"}}, events)
        replies = {event["seq"]: event for event in events if event["event"] == "reply"}
        self.assertEqual(replies[2], {"event": "reply", "command": "pub", "seq": 2, "data": {"offset": 1}})
        self.assertEqual(replies[3]["data"]["members"][0]["user"], "ada")
        self.assertEqual(replies[4]["data"], {})
        self.assertEqual(replies[5]["data"], {"online": True})
        self.assertIn({"event": "direct", "from": "ada", "data": [1]}, events)
        self.assertIn({"event": "unsubscribed", "channel": "chat:one", "seq": 6}, events)
        self.assertEqual(kinds.count("reply"), 4)  # nothing after quit
        self.assertEqual(events[-1]["state"], "closed")

    def test_failures_set_the_exit_status(self):
        status, events = run_script(self.url, ["rpc nothingHere", "pub bad\\name 1", "pub chat:x {oops}", "frobnicate"])
        self.assertEqual(status, 1, events)
        errors = {event["seq"]: event for event in events if event["event"] == "error" and "seq" in event}
        self.assertEqual((errors[1]["kind"], errors[1]["code"]), ("server", 113))
        self.assertEqual((errors[2]["kind"], errors[2]["code"]), ("server", 106))
        self.assertEqual(errors[3]["kind"], "invalid argument")
        self.assertEqual(errors[4]["kind"], "input")

    def test_two_clients_talk(self):
        alice = self.session(self.url + "?user=alice", "--subscribe", "chat:room")
        alice.wait_for(event="subscribed", channel="chat:room")
        bob = self.session(self.url + "?user=bob")
        bob.wait_for(event="state", state="connected")
        bob.send("sub chat:room")
        bob.wait_for(event="subscribed")
        self.assertEqual(alice.wait_for(event="join")["user"], "bob")
        bob.send('pub chat:room {"text":"hello alice"}')
        self.assertEqual(alice.wait_for(event="message")["data"], {"text": "hello alice"})
        bob.send('send alice {"text":"psst"}')
        self.assertEqual(bob.wait_for(event="reply", command="send")["data"], {"online": True})
        self.assertEqual(alice.wait_for(event="direct"), {"event": "direct", "from": "bob", "data": {"text": "psst"}})
        alice.send('pub chat:room "and back"')
        self.assertEqual(bob.wait_for(event="message")["data"], "and back")
        self.assertEqual(bob.finish(), 0)
        self.assertEqual(alice.wait_for(event="leave")["user"], "bob")
        self.assertEqual(alice.finish(), 0)

    def test_reconnects_after_a_server_restart(self):
        listener = self.session(self.url + "?user=lis", "--subscribe", "chat:feed")
        listener.wait_for(event="subscribed", channel="chat:feed")
        stop(self.server, signal.SIGKILL)
        down = listener.wait_for(event="state", state="disconnected")
        self.assertGreaterEqual(down["attempt"], 1)
        listener.send('pub chat:feed "queued while down"')
        self.server, _ = start_server(self.port)
        listener.wait_for(event="state", state="connected")
        listener.wait_for(event="subscribed", channel="chat:feed")
        self.assertEqual(listener.wait_for(event="message")["data"], "queued while down")
        status, events = run_script(self.url + "?user=pub", ['pub chat:feed "after the restart"'])
        self.assertEqual(status, 0, events)
        self.assertEqual(listener.wait_for(event="message")["data"], "after the restart")
        self.assertEqual(listener.finish(), 0)

    def test_no_reconnect_makes_a_lost_connection_final(self):
        listener = self.session(self.url, "--no-reconnect", "--subscribe", "chat:x")
        listener.wait_for(event="subscribed")
        stop(self.server, signal.SIGKILL)
        self.assertEqual(listener.wait_for(event="state", state="closed")["state"], "closed")
        self.assertEqual(listener.process.wait(timeout=15), 2)

    def test_an_invalid_token_is_final(self):
        stop(self.server)
        self.server, port = start_server(env={"SWITCHBOARD_AUTH_HMAC_SECRET": SECRET})
        url = "ws://127.0.0.1:%d/" % port
        status, events = run_script(url, ["ping"], "--token", "not.a.token")
        self.assertEqual(status, 2, events)
        closed = [event for event in events if event.get("state") == "closed"]
        self.assertEqual(closed[0]["code"], 4001)
        self.assertIn({"event": "error", "kind": "server", "code": 120}, [
            {k: event.get(k) for k in ("event", "kind", "code")} for event in events])
        self.assertNotIn("disconnected", [event.get("state") for event in events])

        token = subprocess.run([BINARY, "token", "--user", "tok"], capture_output=True, text=True,
                               env=dict(CLEAN_ENV, SWITCHBOARD_AUTH_HMAC_SECRET=SECRET), check=True).stdout.strip()
        env = dict(CLEAN_ENV, MY_TOKEN=token)
        result = subprocess.run([BINARY, "client", url, "--json", "--token-env", "MY_TOKEN"], input="ping\n",
                                capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(json.loads(result.stdout.splitlines()[1])["user"], "tok")

    def test_stream_channels_print_positions_history_and_recovery(self):
        stop(self.server)
        stream = ["--namespace", "feed:*=history_size:100,history_ttl:60"]
        self.server, self.port = start_server(extra=stream)
        url = "ws://127.0.0.1:%d/" % self.port
        listener = self.session(url + "?user=lis", "--subscribe", "feed:x")
        first = listener.wait_for(event="subscribed", channel="feed:x")
        self.assertEqual((first["recoverable"], first["was_recovering"], first["recovered"], first["offset"]),
                         (True, False, False, 0), first)
        epoch = first["epoch"]
        status, events = run_script(url + "?user=pub", ['pub feed:x "a"', 'pub feed:x "b"', 'pub feed:x "c"'])
        self.assertEqual(status, 0, events)
        self.assertEqual([event["data"]["offset"] for event in events if event["event"] == "reply"], [1, 2, 3])
        for offset, data in ((1, "a"), (2, "b"), (3, "c")):
            self.assertEqual(listener.wait_for(event="message"),
                             {"event": "message", "channel": "feed:x", "offset": offset, "data": data})

        status, events = run_script(url, ["history feed:x 2 reverse", "history feed:x since=1:" + epoch,
                                          "sub feed:x latest", "history chat:none"])
        self.assertEqual(status, 1, events)  # chat:none keeps no history
        replies = {event["seq"]: event for event in events if event["event"] == "reply"}
        self.assertEqual([p["offset"] for p in replies[1]["data"]["publications"]], [3, 2])
        self.assertEqual([p["data"] for p in replies[2]["data"]["publications"]], ["b", "c"])
        latest = [event for event in events if event["event"] == "subscribed"][0]
        self.assertEqual(latest["latest"], {"offset": 3, "data": "c"})
        errors = {event["seq"]: event for event in events if event["event"] == "error" and "seq" in event}
        self.assertEqual(errors[4]["code"], 123)

        # The memory broker's streams die with the server: a new epoch.
        stop(self.server, signal.SIGKILL)
        self.server, _ = start_server(self.port, extra=stream)
        failed = listener.wait_for(event="recovery_failed", channel="feed:x")
        self.assertNotEqual(failed["epoch"], epoch)
        again = listener.wait_for(event="subscribed", channel="feed:x")
        self.assertEqual((again["was_recovering"], again["recovered"], again["epoch"], again["offset"]),
                         (True, False, failed["epoch"], 0), again)
        self.assertEqual(listener.finish(), 0)

    def test_a_local_only_publish_says_so(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
        probe.close()  # nobody listens there: Redis is down
        stop(self.server)
        self.server, self.port = start_server(extra=["--broker", "redis://127.0.0.1:%d" % dead])
        status, events = run_script("ws://127.0.0.1:%d/" % self.port, ["pub chat:x 1"])
        self.assertEqual(status, 0, events)
        self.assertIn({"event": "reply", "command": "pub", "seq": 1, "data": {"offset": 0, "local_only": True},
                       "local_only": True}, events)

    def test_a_reset_is_printed_and_the_new_epoch_follows(self):
        def after_subscribe(command_id):
            def message(offset, data):
                return {"type": "message", "channel": "feed:x", "offset": offset, "data": data}
            return [{"type": "reply", "id": command_id, "data": {"recoverable": True, "epoch": "A", "offset": 40}},
                    message(41, "a"), {"type": "reset", "channel": "feed:x", "epoch": "B", "offset": 2},
                    message(0, "unnumbered"), message(3, "b")]
        port = start_scripted_peer(after_subscribe)
        listener = self.session("ws://127.0.0.1:%d/" % port, "--subscribe", "feed:x")
        self.assertEqual(listener.wait_for(event="message")["offset"], 41)
        self.assertEqual(listener.wait_for(event="reset"),
                         {"event": "reset", "channel": "feed:x", "seq": 0, "epoch": "B", "offset": 2})
        self.assertEqual(listener.wait_for(event="message"),
                         {"event": "message", "channel": "feed:x", "offset": 0, "data": "unnumbered"})
        self.assertEqual(listener.wait_for(event="message"),
                         {"event": "message", "channel": "feed:x", "offset": 3, "data": "b"})
        self.assertEqual(listener.finish(), 0)

    def test_wss_verifies_the_certificate(self):  # needs the openssl command (scripts/bootstrap installs it)
        with tempfile.TemporaryDirectory() as directory:
            port, cert = start_tls_proxy(directory, self.port)
            url = "wss://127.0.0.1:%d/?user=tls" % port
            status, events = run_script(url, ["sub chat:tls", 'pub chat:tls "secret"'], "--ca-file", cert)
            self.assertEqual(status, 0, events)
            self.assertIn({"event": "message", "channel": "chat:tls", "offset": 1, "data": "secret"}, events)
            # Not trusted: the handshake fails (final with --no-reconnect).
            status, events = run_script(url, ["ping"], "--no-reconnect")
            self.assertEqual(status, 2, events)
            # The ping's own error ("closed") may be printed before or after.
            closed = [event for event in events if event.get("state") == "closed"]
            self.assertIn("certificate verify failed", closed[0]["reason"], events)


if __name__ == "__main__":
    unittest.main()
