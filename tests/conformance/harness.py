"""Starts and stops the server under test for the conformance suite.

The binary comes from $SWITCHBOARD_BIN. Each test class gets its own server
(class attribute SERVER_ARGS adds flags); every test opens its own
connections. A server that dies mid-class, or does not exit with status 0
after SIGTERM, fails the class: under ASan that is how memory errors surface.
"""

import os
import selectors
import signal
import subprocess
import time
import unittest

import wsclient
from wsclient import WsClient

STARTUP_TIMEOUT = 15.0  # generous for ASan builds
STOP_TIMEOUT = 10.0
_TLS_FILES = None  # (cert, key), made once per process under SB_CONFORMANCE_TLS


def tls_flags():
    """With SB_CONFORMANCE_TLS: the server's TLS flags (a self-signed ECDSA
    P-256 certificate for 127.0.0.1, made once, trusted by wsclient)."""
    global _TLS_FILES
    if not os.environ.get("SB_CONFORMANCE_TLS"):
        return []
    if _TLS_FILES is None:
        import atexit
        import shutil
        import tempfile
        directory = tempfile.mkdtemp(prefix="conformance-tls-")
        atexit.register(shutil.rmtree, directory, True)
        cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        _TLS_FILES = (cert, key)
        wsclient.TLS_CA_FILE = cert
    return ["--tls-cert-file", _TLS_FILES[0], "--tls-key-file", _TLS_FILES[1]]


class Server:
    def __init__(self, extra_args=(), workers=2):
        self.binary = os.environ.get("SWITCHBOARD_BIN")
        if not self.binary:
            raise unittest.SkipTest("SWITCHBOARD_BIN is not set")
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"SWITCHBOARD_BIN={self.binary} is not an executable")
        self.args = [
            self.binary, "serve", "--echo", "--host", "127.0.0.1", "--port", "0",
            "--workers", str(workers), *tls_flags(), *extra_args,
        ]
        self.proc = None
        self.port = None

    def start(self):
        # stderr is inherited so sanitizer reports and logs reach CTest's output.
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        line = self._read_line(STARTUP_TIMEOUT)
        prefix = "listening on 127.0.0.1:"
        if not line.startswith(prefix):
            self.kill()
            raise RuntimeError(f"unexpected first line from {self.args}: {line!r}")
        self.port = int(line[len(prefix):])
        return self

    def _read_line(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        fd = self.proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.kill()
                    raise RuntimeError(f"no 'listening on' line within {timeout}s from {self.args}; got {data!r}")
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self.proc.wait()
                    raise RuntimeError(f"server exited with {code} before listening: {self.args}; got {data!r}")
                data += chunk
        finally:
            sel.close()
        return data.split(b"\n", 1)[0].decode().strip()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status
        (negative signal number if killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError(f"server ignored SIGTERM for {timeout}s; killed") from None
        self.proc.stdout.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def connect(self, **kw):
        return WsClient.connect(self.port, **kw)


class ServerTestCase(unittest.TestCase):
    """One server per class; SERVER_ARGS are extra command-line flags."""

    SERVER_ARGS = ()
    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.SERVER_ARGS, cls.WORKERS).start()
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        was_alive = cls.server.alive()
        status = cls.server.terminate()
        if not was_alive:
            raise AssertionError(f"server died during {cls.__name__} with status {status}")
        if status != 0:
            raise AssertionError(f"server exited with status {status} after SIGTERM ({cls.__name__})")

    def setUp(self):
        if not self.server.alive():
            self.fail(f"server is not running (exit status {self.server.proc.returncode})")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def connect(self, **kw):
        client = self.server.connect(**kw)
        self.clients.append(client)
        return client

    def open_tcp(self):
        client = WsClient.open_tcp(self.port)
        self.clients.append(client)
        return client
