#!/usr/bin/python3
"""Every message counted, with the TypeScript SDK, across a node killed and
a rolling restart: three `switchboard serve` nodes over a real
redis-server, behind the shipped deploy/nginx.conf, and the same behind the
shipped deploy/haproxy.cfg (rewritten to loopback ports by
proxy_test.Proxy, health check timers as shipped). The crowd
(clients/js/test/support/crowd.mjs, driven through sdk_crowd.py): 30 SDK
subscribers from three /24s (127.0.1.x, 127.0.2.x, 127.0.3.x) on one
channel of a namespace with history, and one SDK publisher (127.0.4.1)
publishing {seq: n} at 200/s, all through the proxy.

The scenario: publications flow; the publisher's node (and its share of
the subscribers) is killed with SIGKILL, every client it had comes back
through the proxy to another node, and it is started again; once those
reconnections have lasted the SDK's stableAfter (5 s), a rolling restart
of all three (SIGTERM, drain, down ROLL_DOWNTIME_S, start on the same
port, /readyz 200, next). Then the publisher stops and every subscriber is given time to
catch up (polled). Asserted per subscriber:
- every publication the publisher saw accepted arrives exactly once, in
  order (seqs and offsets increase), at the offset its publish reply gave;
  nothing arrives that was not published; a publish rejected `disconnected`
  (in flight when the kill dropped its connection: docs/CLIENTS.md says it
  may have been made) may arrive, at most once;
- no recovery failed, no `reset` (Redis kept the streams all along), no
  SDK error event;
- back within BACK_WITHIN_S (5 s) after every loss during the rolling
  restart: from the SDK's `disconnected` event that ended a subscribed
  connection to the `onSubscribed` of the resubscribe that followed (the
  recovery done). The losses to the kill are held to KILL_BACK_WITHIN_S:
  see there.
And for the publisher: no failure but `disconnected`, and that only for
the kill (1006): none for the drains, which answer every publish they ran
and leave the rest to the SDK to send again; no local_only (Redis was up
throughout). The counted figures go to stderr; with
CROWD_REPORT_DIR set, the crowd's whole report too (crowd-<proxy>.json).
"""
import json
import os
import signal
import sys
import time
import unittest

from cluster_test import connections_on, start_redis_and_node_config
from proxy_test import (BACK_WITHIN_S, HAPROXY, NGINX, PING_MS, ROLL_DOWNTIME_S, ROLL_NODE_FLAGS, STABLE_AFTER_S,
                        Proxy, RestartableNode, answers_ready)
from scaling_test import REDIS, ready, wait_until
from sdk_crowd import CrowdCount, SdkCrowd, all_caught_up, all_up, have_sdk, sources_in

CHANNEL = "feed:count"
NAMESPACE = "feed:*=history_size:100000,history_ttl:300"
SUBSCRIBER_SOURCES = sources_in(["127.0.1", "127.0.2", "127.0.3"], 10)
PUBLISHER_SOURCE = "127.0.4.1"
RATE = 200  # publishes per second: the scenario's load
STEADY_S = 2.0  # publications flowing before the kill
# A killed node closes its sockets (the kernel does), so the proxy sees its
# tunnels end at once and the SDKs reconnect after their first backoff
# (at most 0.5 s); the proxy then retries the dead node's port (refused)
# and moves on. Measured: longest 0.51 s (docs/SCALING.md). The same
# bound as a drain.
KILL_BACK_WITHIN_S = BACK_WITHIN_S
CATCH_UP_S = 30.0  # generous: recoveries of a few thousand publications on a loaded machine


class DeliveryCountTests:
    """The scenario, run once per proxy (the subclasses set KIND)."""
    KIND = None

    def setUp(self):
        # Not a skip: the ctest's fixture builds the SDK first, and a test
        # that skips for want of a build step would pass without counting.
        self.assertTrue(have_sdk(), "no clients/js/dist or no node: cd clients/js && npm ci && npm run build")
        directory, config = start_redis_and_node_config(self)
        self.nodes = []
        for _ in range(3):
            self.nodes.append(RestartableNode(config, "--workers", "1", "--insecure-user-query",
                                              "--ping-interval-ms", str(PING_MS), "--namespace", NAMESPACE,
                                              *ROLL_NODE_FLAGS))
            self.addCleanup(self.nodes[-1].stop)
        for node in self.nodes:
            self.assertTrue(wait_until(lambda: ready(node.port)), "node on %d never became ready" % node.port)
        self.proxy = Proxy(self.KIND, directory.name, [node.port for node in self.nodes], check_timers="shipped")
        self.addCleanup(self.proxy.stop)
        self.proxy.start()
        self.crowd = SdkCrowd("ws://127.0.0.1:%d/" % self.proxy.port, CHANNEL, SUBSCRIBER_SOURCES, PUBLISHER_SOURCE,
                              RATE)
        self.addCleanup(self.crowd.stop_process)

    def restart_when_ready(self, node):
        node.start()
        self.assertTrue(wait_until(lambda: answers_ready(node.port), 30), "node on %d not ready again" % node.port)

    def publishers_node(self):
        """The node the publisher is on: the one that logged its connection
        (the only one the publisher has made so far)."""
        opened = [node for node in self.nodes
                  if b"user=crowd-publisher " in os.pread(node.process.log.fileno(), 1 << 24, 0)]
        self.assertEqual(len(opened), 1, "the publisher's connection in %d node logs" % len(opened))
        return opened[0]

    def kill_the_publishers_node(self):
        """SIGKILL to the publisher's node (its subscribers' node too): the
        publishes in flight then fail `disconnected`, those made meanwhile
        wait in the SDK's queue. Waits until every subscriber is back, then
        starts it again. Returns the connections each node had, and when
        (time.monotonic()) every subscriber was back."""
        per_node = [connections_on(node.port) for node in self.nodes]
        victim = self.publishers_node()
        self.crowd.mark("kill")
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        victim.stop()
        self.crowd.wait_until(all_up, KILL_BACK_WITHIN_S * 3, "not every subscriber back after the kill")
        back = time.monotonic()
        self.restart_when_ready(victim)
        return per_node, back

    def roll(self):
        for node in self.nodes:
            status = node.drain(30)
            self.assertEqual(status, 0, "node on %d exited %r: %s" % (node.port, status, node.logs[-1]))
            time.sleep(ROLL_DOWNTIME_S)  # scenario pacing: the node stays down a while
            self.restart_when_ready(node)

    def test_every_publication_exactly_once_across_a_kill_and_a_rolling_restart(self):
        self.crowd.start()
        time.sleep(STEADY_S)  # scenario pacing: publications flow before the kill
        per_node, back = self.kill_the_publishers_node()
        # Scenario pacing: the roll starts once the connections the kill
        # moved have lasted the SDK's stableAfter, as a deploy does not
        # follow a crash within seconds. (A drain is no failure for the
        # SDK's backoff, so a client moved by two or three drains in a row
        # waits the first step's delay each time, whenever the roll starts.)
        time.sleep(max(0.0, back + STABLE_AFTER_S + 0.5 - time.monotonic()))
        self.crowd.mark("roll")
        self.roll()
        self.crowd.mark("rolled")
        # BACK_WITHIN_S and a margin: tell "late" (asserted below) from "never".
        self.crowd.wait_until(all_up, BACK_WITHIN_S * 3, "not every subscriber back after the roll")
        self.crowd.stop_publishing()
        try:
            self.crowd.wait_until(all_caught_up, CATCH_UP_S, "")
        except AssertionError:
            pass  # the counts below say who misses what
        report = self.crowd.report()
        if os.environ.get("CROWD_REPORT_DIR"):  # for a closer look: the whole report, as JSON
            with open(os.path.join(os.environ["CROWD_REPORT_DIR"], "crowd-%s.json" % self.KIND), "w") as file:
                json.dump(report, file)
        count = CrowdCount(report)
        kill, roll = count.marks["kill"], count.marks["roll"]
        print("\n" + count.figures("%s, 3 nodes over Redis (connections per node before the kill: %r)"
                                   % (self.KIND, per_node),
                                   [("kill -9", kill, roll), ("rolling restart", roll, None)]), file=sys.stderr)
        self.check(count, kill, roll)

    def check(self, count, kill, roll):
        self.maxDiff = None
        self.assertGreater(len(count.accepted), RATE * 5, "too few publications to count")
        self.assertEqual(count.unexplained_failures(), [], "publishes failed as the docs do not say they can")
        self.assertEqual(count.rejected_at_drains(), [], "publishes rejected at a drain")
        self.assertEqual(count.local_only, [], "local_only answers while Redis was up")
        self.assertEqual(count.publisher_errors, [])
        self.assertEqual(len(count.epochs), 1, count.epochs)
        for subscriber in count.subscribers:
            with self.subTest(subscriber=subscriber.source):
                self.assertEqual((subscriber.missing[:20], len(subscriber.missing), subscriber.duplicates,
                                  subscriber.unexpected[:20], subscriber.wrong_offsets[:5],
                                  subscriber.out_of_order[:5]),
                                 ([], 0, 0, [], [], []), "missing (first 20, count), duplicates, unexpected, "
                                 "wrong offsets, out of order")
                self.assertEqual(subscriber.failed_recoveries, [])
                self.assertEqual(subscriber.errors, [])
        too_long = [(source, seconds) for source, seconds, _ in count.outages(roll)
                    if seconds is None or seconds > BACK_WITHIN_S]
        self.assertEqual(too_long, [], "out longer than %.0f s in the roll" % BACK_WITHIN_S)
        too_long = [(source, seconds) for source, seconds, _ in count.outages(kill, roll)
                    if seconds is None or seconds > KILL_BACK_WITHIN_S]
        self.assertEqual(too_long, [], "out longer than %.0f s after the kill" % KILL_BACK_WITHIN_S)
        self.assertTrue(count.outages(kill, roll), "the kill reached no subscriber")
        # Every node was drained once; its subscribers lost their connection.
        self.assertGreaterEqual(len(count.outages(roll)), len(count.subscribers), "the roll moved too few")


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(NGINX),
                     "needs redis-server and nginx (scripts/bootstrap)")
class DeliveryCountThroughNginxTest(DeliveryCountTests, unittest.TestCase):
    KIND = "nginx"


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(HAPROXY),
                     "needs redis-server and haproxy (scripts/bootstrap)")
class DeliveryCountThroughHAProxyTest(DeliveryCountTests, unittest.TestCase):
    KIND = "haproxy"


if __name__ == "__main__":
    unittest.main(verbosity=2)
