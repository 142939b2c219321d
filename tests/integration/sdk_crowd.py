"""The python side of the SDK crowd (clients/js/test/support/crowd.mjs): N
TypeScript SDK subscribers, each from its own source address, and one SDK
publisher numbering its publications {seq: n} at a fixed rate, all through
the URL given (a proxy in front of the nodes). SdkCrowd starts the node
process and sends it commands (mark, status, stop, report: the protocol is
in crowd.mjs's header); count() turns its report into what the tests
assert: per subscriber, every accepted publication exactly once and in
order, and how long each lost connection stayed lost.

The crowd's clock (ms since it started) times everything: marks put the
scenario's steps (a kill, a roll) on it.
"""
import json
import os
import queue
import shutil
import subprocess
import threading
import time

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "js")
CROWD = os.path.join(JS_DIR, "test", "support", "crowd.mjs")
SDK_ENTRY = os.path.join(JS_DIR, "dist", "node.js")
NODE = shutil.which("node") or "/usr/bin/node"
# A publish the SDK rejects with one of these may or may not have been made
# (docs/CLIENTS.md, "Requests": sent, then the connection dropped; it is not
# re-sent): a subscriber may get it, at most once.
AMBIGUOUS_FAILURES = ("disconnected",)


def have_sdk():
    """The SDK is built (clients/js: npm run build, or the sdk.js_build test) and node runs."""
    return os.path.exists(SDK_ENTRY) and os.path.exists(NODE)


def sources_in(networks, per_network):
    """per_network addresses in each of the /24s "127.0.x" given."""
    return ["%s.%d" % (network, host) for network in networks for host in range(1, per_network + 1)]


class SdkCrowd:
    """The crowd.mjs process: started by start(), ended by report() (or stop_process())."""

    def __init__(self, url, channel, sources, publisher_source, rate=200, subscriber_options=None,
                 publisher_options=None):
        self.config = {"url": url, "channel": channel, "sources": sources, "publisherSource": publisher_source,
                       "rate": rate, "subscriberOptions": subscriber_options or {},
                       "publisherOptions": publisher_options or {}}
        self.process = None
        self.readers = []
        self.lines = queue.Queue()
        self.stderr = []

    def start(self, seconds=30):
        """Starts it; returns once every subscriber is subscribed (the publisher starts then)."""
        self.process = subprocess.Popen([NODE, CROWD, json.dumps(self.config)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=JS_DIR)
        self.readers = [threading.Thread(target=self._read, args=(stream, put), daemon=True)
                        for stream, put in ((self.process.stdout, self.lines.put),
                                            (self.process.stderr, self.stderr.append))]
        for reader in self.readers:
            reader.start()
        ready = self._answer(seconds)
        assert ready == {"ready": True}, ready

    @staticmethod
    def _read(stream, put):
        for line in stream:
            put(line)
        put(None)

    def _answer(self, seconds):
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError("the crowd did not answer within %.0f s; stderr: %s"
                                 % (seconds, "".join(self.stderr)[-2000:]))
        if line is None:
            raise AssertionError("the crowd exited (%r): %s" % (self.process.poll(), "".join(self.stderr)[-2000:]))
        return json.loads(line)

    def command(self, line, seconds=30):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._answer(seconds)

    def mark(self, label):
        """Puts label on the crowd's clock; returns the time (ms)."""
        return self.command("mark " + label)["at"]

    def status(self):
        return self.command("status")

    def stop_publishing(self, seconds=30):
        """Stops the publisher; returns once every publish made has its answer."""
        return self.command("stop", seconds)

    def report(self, seconds=60):
        """The full report (crowd.mjs's header); the process exits after it."""
        report = self.command("report", seconds)
        self.process.wait(timeout=seconds)
        self.stop_process()
        return report

    def stop_process(self):
        """Kills it if it still runs; closes its pipes once read to their end."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self.readers:
            reader.join(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass  # stdin's last write may have found the process gone

    def wait_until(self, predicate, seconds, what):
        """Polls status until predicate(status) holds; the last status. Fails naming what."""
        deadline = time.monotonic() + seconds
        while True:
            status = self.status()
            if predicate(status):
                return status
            if time.monotonic() > deadline:
                raise AssertionError("after %.0f s: %s; %s" % (seconds, what, summarize_status(status)))
            time.sleep(0.05)  # pacing the poll


def all_up(status):
    return all(subscriber["up"] for subscriber in status["subscribers"])


def all_caught_up(status):
    return all(subscriber["missing"] == 0 for subscriber in status["subscribers"])


def summarize_status(status):
    subscribers = status["subscribers"]
    return "accepted %d, %d of %d subscribers up, missing per subscriber %r" % (
        status["accepted"], sum(1 for s in subscribers if s["up"]), len(subscribers),
        [s["missing"] for s in subscribers])


class SubscriberCount:
    """One subscriber's deliveries checked against what the publisher was told."""

    def __init__(self, subscriber, accepted, ambiguous):
        self.source = subscriber["source"]
        seqs = [delivery[0] for delivery in subscriber["deliveries"]]
        seen = {}
        for seq in seqs:
            seen[seq] = seen.get(seq, 0) + 1
        self.delivered = len(seqs)
        self.duplicates = sum(count - 1 for count in seen.values())
        self.missing = sorted(seq for seq in accepted if seq not in seen)
        self.unexpected = sorted(seq for seq in seen if seq not in accepted and seq not in ambiguous)
        self.ambiguous_seen = {seq for seq in seen if seq in ambiguous}
        self.ambiguous_delivered = len(self.ambiguous_seen)
        # The offset each accepted seq was given must be the one delivered.
        self.wrong_offsets = [(seq, offset, accepted[seq]) for seq, offset, _, _ in subscriber["deliveries"]
                              if seq in accepted and accepted[seq] != offset]
        # One publisher: seqs and offsets both increase along the deliveries.
        self.out_of_order = [(before[:2], after[:2]) for before, after
                             in zip(subscriber["deliveries"], subscriber["deliveries"][1:])
                             if not (after[0] > before[0] and after[1] > before[1])]
        self.recovered = sum(delivery[2] for delivery in subscriber["deliveries"])
        self.recoveries = sum(1 for context in subscriber["subscribed"] if context["wasRecovering"])
        self.failed_recoveries = subscriber["recoveryFailed"]
        self.errors = subscriber["errors"]
        self.losses = subscriber["losses"]

    def exact(self):
        """Every accepted seq once, in order, nothing else but ambiguous ones."""
        return not (self.duplicates or self.missing or self.unexpected or self.wrong_offsets or self.out_of_order)


class CrowdCount:
    """The whole crowd's report counted: publisher outcomes, per-subscriber counts, outages."""

    def __init__(self, report):
        publisher = report["publisher"]
        self.marks = {mark["label"]: mark["at"] for mark in report["marks"]}
        self.accepted = {seq: offset for seq, offset, _ in publisher["accepted"]}
        self.epochs = sorted({epoch for _, _, epoch in publisher["accepted"]})
        self.local_only = publisher["localOnly"]
        self.failed = publisher["failed"]
        self.ambiguous = {seq for seq, code, _ in self.failed if code in AMBIGUOUS_FAILURES}
        self.publisher_errors = publisher["errors"]
        self.publisher_disconnects = publisher["disconnects"]
        self.subscribers = [SubscriberCount(subscriber, self.accepted, self.ambiguous)
                            for subscriber in report["subscribers"]]

    def ambiguous_by_reason(self):
        """{failure message: (publishes, how many of them reached a subscriber)}:
        whether publishes in flight at a kill (1006) or a drain (1001) were made."""
        reached = set()
        for count in self.subscribers:
            reached |= count.ambiguous_seen
        out = {}
        for seq, code, message in self.failed:
            if code in AMBIGUOUS_FAILURES:
                made, seen = out.get(message, (0, 0))
                out[message] = (made + 1, seen + (seq in reached))
        return out

    def rejected_at_drains(self):
        """Publishes rejected `disconnected` for any reason but a lost TCP
        connection (1006, a kill): a drain answers what it ran and the SDK
        sends the rest again, so it rejects none (docs/CLIENTS.md)."""
        return [failure for failure in self.failed
                if failure[1] in AMBIGUOUS_FAILURES and "(1006" not in failure[2]]

    def unexplained_failures(self):
        """Publishes that failed in a way docs/CLIENTS.md does not allow here."""
        return [failure for failure in self.failed if failure[1] not in AMBIGUOUS_FAILURES]

    def outages(self, start_ms, end_ms=None):
        """(source, seconds or None while still out, lost at ms) of every loss that began in [start, end)."""
        return [(count.source, None if loss["back"] is None else (loss["back"] - loss["lost"]) / 1000.0, loss["lost"])
                for count in self.subscribers for loss in count.losses
                if loss["lost"] >= start_ms and (end_ms is None or loss["lost"] < end_ms)]

    def figures(self, label, phases):
        """One paragraph for stderr: the counts, and the outages of each phase (name, start, end)."""
        delivered = sum(count.delivered for count in self.subscribers)
        lines = ["%s: %d subscribers, %d publishes accepted (offsets %s), %d failed ambiguously (%d of those "
                 "delivered), %d other failures, %d local_only; %d deliveries, %d missing, %d duplicates, "
                 "%d unexpected, %d out of order; %d resubscribes recovered %d publications, %d failed recoveries; "
                 "the publisher lost its connection %d times"
                 % (label, len(self.subscribers), len(self.accepted),
                    "%d..%d" % (min(self.accepted.values()), max(self.accepted.values())) if self.accepted else "-",
                    len(self.ambiguous), sum(count.ambiguous_delivered for count in self.subscribers),
                    len(self.unexplained_failures()), len(self.local_only), delivered,
                    sum(len(count.missing) for count in self.subscribers),
                    sum(count.duplicates for count in self.subscribers),
                    sum(len(count.unexpected) for count in self.subscribers),
                    sum(len(count.out_of_order) for count in self.subscribers),
                    sum(count.recoveries for count in self.subscribers),
                    sum(count.recovered for count in self.subscribers),
                    sum(len(count.failed_recoveries) for count in self.subscribers),
                    sum(1 for disconnect in self.publisher_disconnects if disconnect["reconnect"]))]
        for message, (made, seen) in sorted(self.ambiguous_by_reason().items()):
            lines.append("  publishes rejected '%s': %d, %d of them delivered" % (message, made, seen))
        for name, start, end in phases:
            outages = self.outages(start, end)
            done = [seconds for _, seconds, _ in outages if seconds is not None]
            lines.append("  %s: %d outages, mean %.2f s, longest %.2f s, %d still out"
                         % (name, len(outages), sum(done) / len(done) if done else 0.0, max(done, default=0.0),
                            len(outages) - len(done)))
        return "\n".join(lines)
