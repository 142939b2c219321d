#!/usr/bin/python3
"""Smoke test of `switchboard bench` against `switchboard serve --echo`
(and `serve --broadcast` for the broadcast scenario, the hub for pubsub and
recover).

Checks that the load generator runs and reports sane JSON: messages flow,
no errors, no failed connections. Asserts no timing (the figures depend on
the machine). Standard library only; SWITCHBOARD_BIN names the binary.
"""
import json
import os
import re
import subprocess
import sys
import unittest

BINARY = os.environ.get("SWITCHBOARD_BIN", "switchboard")


def stop(server):
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    server.stdout.close()


class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen(
            [BINARY, "serve", "--echo", "--host", "127.0.0.1", "--port", "0", "--workers", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = cls.server.stdout.readline()
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            stop(cls.server)
            raise RuntimeError("server did not start: %r" % line)
        cls.url = "ws://127.0.0.1:%s/" % match.group(1)

    @classmethod
    def tearDownClass(cls):
        stop(cls.server)

    def bench(self, *arguments):
        completed = subprocess.run([BINARY, "bench", *arguments, "--url", self.url, "--json"],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        return json.loads(completed.stdout)

    def test_echo(self):
        report = self.bench("echo", "-c", "4", "-p", "1", "-s", "32", "--duration", "1",
                            "--server-pid", str(self.server.pid))
        self.assertEqual(report["scenario"], "echo")
        # The server's CPU time comes from /proc; only its presence is checked.
        self.assertIsNotNone(report["server_cpu_seconds"])
        self.assertGreater(report["messages"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])
        self.assertEqual(report["connections_failed"], 0)
        self.assertEqual(report["connections_open"], 4)
        self.assertGreater(report["latency_ns"]["count"], 0)

    def test_echo_binary_several_in_flight_two_threads(self):
        report = self.bench("echo", "-c", "4", "-p", "4", "-s", "200", "--binary", "--threads", "2",
                            "--duration", "1")
        self.assertGreater(report["messages"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])
        self.assertEqual(report["connections_failed"], 0)

    def test_connect(self):
        report = self.bench("connect", "-c", "50", "--hold", "1", "--server-pid", str(self.server.pid))
        self.assertEqual(report["scenario"], "connect")
        self.assertEqual(report["connections_open"], 50)
        self.assertEqual(report["connections_failed"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])
        self.assertEqual(report["handshake_ns"]["count"], 50)
        self.assertIsNotNone(report["server_rss_after_bytes"])
        self.assertIsNotNone(report["server_cpu_us_per_handshake"])

    def test_broadcast(self):
        server = subprocess.Popen(
            [BINARY, "serve", "--broadcast", "--host", "127.0.0.1", "--port", "0", "--workers", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            url = "ws://127.0.0.1:%s/" % match.group(1)
            completed = subprocess.run(
                [BINARY, "bench", "broadcast", "--url", url, "-c", "10", "-p", "2", "-s", "64", "--threads", "2",
                 "--duration", "1", "--json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
            report = json.loads(completed.stdout)
        finally:
            stop(server)
        self.assertEqual(report["scenario"], "broadcast")
        self.assertEqual(report["connections_open"], 11)  # 10 subscribers + the publisher
        self.assertGreater(report["publishes"], 0)
        self.assertGreater(report["deliveries"], 0)
        self.assertEqual(report["missing_deliveries"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])

    def test_refuses_payload_without_room_for_the_timestamp(self):
        completed = subprocess.run([BINARY, "bench", "echo", "--url", self.url, "-s", "7"],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(completed.returncode, 2)
        self.assertIn("--size", completed.stderr)

    def test_pubsub_against_the_hub(self):
        server = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2", "--limit-messages-per-s", "0",
             "--limit-bytes-per-s", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            url = "ws://127.0.0.1:%s/" % match.group(1)
            completed = subprocess.run(
                [BINARY, "bench", "pubsub", "--url", url, "-c", "20", "--channels", "3", "-p", "4", "-s", "48",
                 "--threads", "2", "--duration", "1", "--json", "--server-pid", str(server.pid)],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
            report = json.loads(completed.stdout)
        finally:
            stop(server)
        self.assertEqual(report["scenario"], "pubsub")
        self.assertEqual(report["channels"], 3)
        self.assertEqual(report["connections_open"], 21)
        self.assertGreater(report["publishes"], 0)
        self.assertGreater(report["deliveries"], 0)
        self.assertEqual(report["missing_deliveries"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])

    def test_pubsub_counts_publishes_the_server_refused_apart_from_missing_deliveries(self):
        # A low message rate: the publisher's window soon gets error 121.
        # Violations never close the connection here, so the run goes on.
        server = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1", "--limit-messages-per-s", "100"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "SWITCHBOARD_LIMITS_MESSAGES_BURST": "20", "SWITCHBOARD_LIMITS_VIOLATIONS_PER_S": "0"})
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            url = "ws://127.0.0.1:%s/" % match.group(1)
            completed = subprocess.run(
                [BINARY, "bench", "pubsub", "--url", url, "-c", "4", "--channels", "2", "-p", "8", "--duration", "1",
                 "--json"],
                capture_output=True, text=True, timeout=60)
        finally:
            stop(server)
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        report = json.loads(completed.stdout)
        self.assertGreater(report["refused_publishes"], 0, report)
        self.assertIn('"code":121', report["first_refusal"])
        self.assertGreater(report["publishes"], 0)
        self.assertGreater(report["deliveries"], 0)
        self.assertEqual(report["missing_deliveries"], 0)
        self.assertEqual(report["errors"], 0, report["error_counts"])

    def test_pubsub_against_a_server_without_the_protocol(self):
        # The echo server does not speak protocol v1: it echoes the subscribe
        # commands, which the loader counts as errors, and no subscribe is
        # ever answered, so nothing is measured.
        completed = subprocess.run([BINARY, "bench", "pubsub", "--url", self.url, "-c", "2", "--duration", "1",
                                    "--handshake-timeout", "1", "--json"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(completed.returncode, 0)
        report = json.loads(completed.stdout)
        self.assertGreater(report["errors"], 0)
        self.assertIn("subscribe", report["aborted"])

    def run_against_hub(self, hub_flags, *arguments):
        """Starts a hub (one worker, no rate limits) with hub_flags, runs the
        loader with arguments against it, returns the exit code and report."""
        server = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1", "--limit-messages-per-s", "0",
             "--limit-bytes-per-s", "0", *hub_flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline())
            self.assertIsNotNone(match)
            url = "ws://127.0.0.1:%s/" % match.group(1)
            arguments = [a.replace("SERVER_PID", str(server.pid)) for a in arguments]
            completed = subprocess.run([BINARY, "bench", *arguments, "--url", url, "--json"],
                                       capture_output=True, text=True, timeout=60)
        finally:
            stop(server)
        return completed.returncode, json.loads(completed.stdout), completed.stderr

    def test_recover_storms_against_a_hub_with_history(self):
        code, report, stderr = self.run_against_hub(
            ["--namespace", "*=history_size:200,history_ttl:300"],
            "recover", "-c", "20", "--recover", "150", "--storms", "3", "-s", "40", "-p", "16", "--threads", "2",
            "--server-pid", "SERVER_PID")
        self.assertEqual(code, 0, json.dumps(report) + stderr)
        self.assertEqual(report["scenario"], "recover")
        self.assertEqual(report["connections_open"], 21)  # 20 subscribers + the publisher
        self.assertEqual(report["stream_top"], 150)
        self.assertEqual(len(report["storms"]), 3)
        self.assertEqual(report["recoveries"], 60)  # every subscriber, every storm, whole
        self.assertEqual(report["recovered_publications"], 60 * 150)
        self.assertEqual(report["errors"], 0, report["error_counts"])
        for storm in report["storms"]:
            self.assertGreater(storm["seconds"], 0)
            self.assertIsNotNone(storm["server_cpu_seconds"])
        self.assertIsNotNone(report["server_cpu_us_per_recovered_publication"])
        self.assertGreaterEqual(report["server_rss_peak_bytes"], report["server_rss_after_connect_bytes"])

    def test_recover_says_what_the_namespace_lacks(self):
        # No stream at all: the setup stops at the first publish reply.
        code, report, _ = self.run_against_hub(
            ["--namespace", "small:*=history_size:10,history_ttl:300"], "recover", "-c", "3", "--recover", "20")
        self.assertEqual(code, 1)
        self.assertIn("keeps no stream", report["aborted"])
        self.assertEqual(report["storms"], [])
        # A stream shorter than the recovery: every reply is recovered:false,
        # an error each.
        code, report, _ = self.run_against_hub(
            ["--namespace", "small:*=history_size:10,history_ttl:300"], "recover", "-c", "3", "--recover", "20",
            "--storms", "2", "--channel", "small:x")
        self.assertEqual(code, 1)
        self.assertEqual(report["aborted"], "")
        self.assertEqual(report["error_counts"]["mismatch"], 6)
        self.assertEqual(report["recoveries"], 0)
        self.assertIn("recovered:false", report["first_error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
