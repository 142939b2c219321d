"""Raw-socket RFC 6455 client for black-box conformance tests.

Nothing here validates what it sends: tests build frames with any header bits
(FIN, RSV, opcode, length form, mask) and write them in any split, so the
server sees exactly the bytes a test chose. Reading is strict the other way:
server frames must be unmasked (RFC 6455 §5.1) and every read is bounded by
the socket timeout.
"""

import base64
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

RSV1, RSV2, RSV3 = 0x4, 0x2, 0x1  # values of the `rsv` argument below

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
DEFAULT_TIMEOUT = 10.0

# With SB_CONFORMANCE_TLS set (the conformance_tls.* tests), every client
# speaks TLS to the server (harness.py gives it a certificate): the same
# bytes, inside TLS records. The test CA is the certificate itself.
TLS_CA_FILE = None  # set by harness.py


def _wrap(sock):
    if TLS_CA_FILE is None:
        return sock
    import ssl
    context = ssl.create_default_context(cafile=TLS_CA_FILE)
    return context.wrap_socket(sock, server_hostname="127.0.0.1")


def mask_bytes(payload, key):
    """XORs payload with the 4-byte key (RFC 6455 §5.3), fast for MiBs."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask_key=None, masked=True, length_form=None):
    """One frame as bytes (RFC 6455 §5.2).

    length_form forces the payload-length encoding: 7 (inline), 16 or 64
    (extended); None picks the minimal one. mask_key defaults to random.
    """
    payload = bytes(payload)
    n = len(payload)
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)
    mask_bit = 0x80 if masked else 0
    if length_form is None:
        length_form = 7 if n < 126 else 16 if n < 65536 else 64
    if length_form == 7:
        head = struct.pack("!BB", first, mask_bit | n)
    elif length_form == 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not masked:
        return head + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    def __repr__(self):
        shown = self.payload[:40] + (b"..." if len(self.payload) > 40 else b"")
        return f"Frame(fin={self.fin}, rsv={self.rsv}, opcode={self.opcode:#x}, len={len(self.payload)}, {shown!r})"


class ProtocolFailure(AssertionError):
    """The server's bytes broke RFC 6455 or the test's expectation."""


def make_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def upgrade_request(port, key, path="/", extra_headers=(), method="GET", version="13"):
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
        *extra_headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict  # lower-cased names
    rest: bytes  # bytes read past the head


class WsClient:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    # -- connection -----------------------------------------------------
    @classmethod
    def open_tcp(cls, port, timeout=DEFAULT_TIMEOUT):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(_wrap(sock))

    @classmethod
    def connect(cls, port, timeout=DEFAULT_TIMEOUT, trailing=b""):
        """Opens TCP and completes the handshake; `trailing` bytes (frames)
        go in the same write as the request."""
        client = cls.open_tcp(port, timeout)
        key = make_key()
        client.send_raw(upgrade_request(port, key) + trailing)
        resp = client.read_http_response()
        if resp.status != 101:
            client.close()
            raise ProtocolFailure(f"handshake: expected 101, got {resp.status} {resp.reason}")
        if resp.headers.get("sec-websocket-accept") != accept_for(key):
            client.close()
            raise ProtocolFailure(f"bad Sec-WebSocket-Accept: {resp.headers.get('sec-websocket-accept')!r}")
        return client

    def shutdown_write(self):
        """FIN after what was sent. Over TLS too: ssl.SSLSocket.shutdown
        would drop the TLS session (later reads would see ciphertext), so
        the plain socket's shutdown is called on the same descriptor."""
        socket.socket.shutdown(self.sock, socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing --------------------------------------------------------
    def send_raw(self, data, chunk=None, delay=0.0):
        """Writes data whole, or in pieces of `chunk` bytes `delay` s apart."""
        if chunk is None:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i : i + chunk])
            if delay:
                time.sleep(delay)  # pacing the pieces, as the caller asked

    def send_frame(self, opcode, payload=b"", chunk=None, delay=0.0, **kw):
        self.send_raw(encode_frame(opcode, payload, **kw), chunk, delay)

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, b"" if code is None else close_payload(code, reason))

    # -- reading --------------------------------------------------------
    def _fill(self, want):
        while len(self.buf) < want:
            try:
                data = self.sock.recv(max(65536, min(want - len(self.buf), 1 << 20)))
            except socket.timeout:
                raise ProtocolFailure(f"timed out with {len(self.buf)} of {want} bytes buffered") from None
            if not data:
                raise ProtocolFailure(f"connection closed with {len(self.buf)} of {want} bytes buffered")
            self.buf += data

    def _take(self, n):
        self._fill(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_http_response(self, max_head=65536):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > max_head:
                raise ProtocolFailure("response head too large")
            data = self.sock.recv(4096)
            if not data:
                raise ProtocolFailure(f"closed before response head; got {bytes(self.buf)!r}")
            self.buf += data
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[: end + 4]
        status_line, *header_lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtocolFailure(f"bad status line {status_line!r}")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return HttpResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, bytes(self.buf))

    def recv_frame(self):
        b0, b1 = self._take(2)
        if b1 & 0x80:
            raise ProtocolFailure("server sent a masked frame (RFC 6455 §5.1)")
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._take(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._take(8))
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0xF, self._take(n))

    def expect_frame(self, opcode, payload):
        """Next frame must be a final, RSV-clear frame with this content."""
        frame = self.recv_frame()
        if (frame.opcode, frame.fin, frame.rsv) != (opcode, True, 0) or frame.payload != payload:
            shown = payload[:40] + (b"..." if len(payload) > 40 else b"")
            raise ProtocolFailure(
                f"expected opcode {opcode:#x} len={len(payload)} {shown!r}, got {frame!r}"
                + _first_difference(payload, frame.payload)
            )
        return frame

    def echo(self, opcode, payload, **kw):
        self.send_frame(opcode, payload, **kw)
        self.expect_frame(opcode, payload)

    def read_until_eof(self, timeout=DEFAULT_TIMEOUT):
        """Discards bytes until the server closes TCP; returns them.

        A reset counts as closed: a server may close with our unread bytes
        still queued, which the kernel reports as RST."""
        deadline = time.monotonic() + timeout
        rest = bytes(self.buf)
        self.buf.clear()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolFailure("server did not close the TCP connection")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return rest
            except socket.timeout:
                raise ProtocolFailure("server did not close the TCP connection") from None
            if not data:
                return rest
            rest += data

    def expect_close(self, codes, reply=True):
        """Next frame must be a close frame with a code in `codes` (an int or
        a collection; None means an empty payload). Then we answer with a
        close (if reply) and the server must close TCP."""
        allowed = {codes} if codes is None or isinstance(codes, int) else set(codes)
        try:
            frame = self.recv_frame()
        except (ProtocolFailure, OSError) as e:
            raise ProtocolFailure(f"expected close {sorted(allowed, key=str)}, connection ended: {e}") from None
        if frame.opcode != OP_CLOSE:
            raise ProtocolFailure(f"expected close {sorted(allowed, key=str)}, got {frame!r}")
        if frame.close_code not in allowed:
            raise ProtocolFailure(f"expected close code in {sorted(allowed, key=str)}, got {frame.close_code} ({frame!r})")
        reason = frame.payload[2:]
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolFailure(f"server close reason is not UTF-8: {reason!r}") from None
        if reply:
            try:
                self.send_close(frame.close_code)
            except OSError:
                pass  # the server may already be gone after failing the connection
        extra = self.read_until_eof()
        if extra:
            raise ProtocolFailure(f"bytes after the close frame: {extra[:40]!r}")
        return frame

    def expect_silence(self, seconds=0.3):
        """Nothing arrives for `seconds` (and the connection stays open)."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(DEFAULT_TIMEOUT)
        raise ProtocolFailure(f"unexpected bytes or close: {data!r}")


def _first_difference(want, got):
    if len(want) != len(got):
        return f" (length {len(got)} != {len(want)})"
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return f" (first difference at byte {i})"
    return ""
