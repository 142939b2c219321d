#!/usr/bin/python3
"""SIGHUP reloads the TLS certificate of `switchboard serve` without
dropping a connection: 300 wss:// connections (python3-websockets) are
open when the certificate and key files are replaced and the server gets
SIGHUP; new handshakes then present the new certificate, and every one of
the 300 still echoes. A certificate file that cannot be used at the next
SIGHUP keeps the one in use, and the log says which file and why.
Certificates are made by the test (tls_certs.py). SWITCHBOARD_BIN names
the binary.
"""
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

import websockets

from protocol_client import STEP, eventually, run, start_server, stop_server
from tls_certs import TestCertificates

CONNECTIONS = 300


def replace(source, target):
    """Copies source over target in one rename, as a deploy tool would."""
    shutil.copyfile(source, target + ".new")
    os.replace(target + ".new", target)


class TlsReload(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.certs = TestCertificates(self.directory.name)
        self.renewed = self.certs.issue("renewed", "DNS:localhost,IP:127.0.0.1")
        self.cert = os.path.join(self.directory.name, "live.pem")
        self.key = os.path.join(self.directory.name, "live.key")
        replace(self.certs.server[0], self.cert)
        replace(self.certs.server[1], self.key)
        config = os.path.join(self.directory.name, "serve.toml")
        with open(config, "w") as f:
            f.write('[server]\ntls_cert_file = "%s"\ntls_key_file = "%s"\n' % (self.cert, self.key))
        self.server, self.port = start_server(config, "--echo", "--workers", "2")
        self.context = self.certs.client_context()

    def tearDown(self):
        log = stop_server(self.server)
        self.directory.cleanup()
        self.assertNotIn("Sanitizer", log)
        self.assertEqual(self.server.returncode, 0, log[-3000:])

    def serial_presented(self):
        """The serial number of the certificate a new handshake gets."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=STEP) as raw:
            with self.context.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert()["serialNumber"]

    def serial_of(self, pair):
        out = subprocess.run(["openssl", "x509", "-in", pair[0], "-noout", "-serial"], check=True,
                             capture_output=True, text=True).stdout
        return out.strip().split("=", 1)[1].upper()

    def log(self):
        self.server.log.seek(0)
        return self.server.log.read()

    def test_sighup_swaps_the_certificate_and_keeps_every_connection(self):
        first, renewed = self.serial_of(self.certs.server), self.serial_of(self.renewed)
        self.assertNotEqual(first, renewed)
        self.assertEqual(self.serial_presented(), first)

        async def scenario():
            gate = asyncio.Semaphore(50)  # handshakes at once

            async def open_one():
                async with gate:
                    return await websockets.connect("wss://localhost:%d/" % self.port, ssl=self.context,
                                                    compression=None, open_timeout=STEP * 3)

            connections = await asyncio.gather(*(open_one() for _ in range(CONNECTIONS)))
            replace(self.renewed[0], self.cert)
            replace(self.renewed[1], self.key)
            self.server.send_signal(signal.SIGHUP)
            seen = await asyncio.to_thread(eventually, self.serial_presented, lambda serial: serial == renewed)
            self.assertEqual(seen, renewed)

            async def echo(ws, n):
                await ws.send("still here %d" % n)
                return await asyncio.wait_for(ws.recv(), STEP)

            answers = await asyncio.gather(*(echo(ws, n) for n, ws in enumerate(connections)))
            self.assertEqual(answers, ["still here %d" % n for n in range(CONNECTIONS)])

            # A broken file at the next reload: the renewed certificate stays.
            with open(self.cert, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nbroken\n")
            self.server.send_signal(signal.SIGHUP)
            log = await asyncio.to_thread(eventually, self.log, lambda text: "TLS reload refused" in text)
            self.assertIn("TLS reload refused, the certificate in use stays: TLS certificate '%s'" % self.cert, log)
            self.assertEqual(await asyncio.to_thread(self.serial_presented), renewed)
            answers = await asyncio.gather(*(echo(ws, n) for n, ws in enumerate(connections)))
            self.assertEqual(len(answers), CONNECTIONS)
            await asyncio.gather(*(ws.close() for ws in connections))
            return len(answers)

        kept = run(scenario(), 150)
        print("tls_reload_test: %d of %d wss:// connections kept across two SIGHUPs (one refused)"
              % (kept, CONNECTIONS), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
