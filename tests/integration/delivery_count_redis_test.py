#!/usr/bin/python3
"""Every message counted, with the TypeScript SDK, when Redis itself fails
under the crowd: three `switchboard serve` nodes behind the shipped
deploy/nginx.conf (rewritten to loopback ports by proxy_test.Proxy), and
the SDK crowd (clients/js/test/support/crowd.mjs through sdk_crowd.py): 30
subscribers from three /24s on one channel of a namespace with history, one
publisher numbering {seq: n} at 200/s. Nobody reconnects: the nodes stay
up, only their broker changes under them.

- Redis restarted empty: redis-server (no persistence) gets SIGKILL, stays
  down OUTAGE_S, and starts again on its port, empty. Publishes meanwhile
  are answered local_only (the SDK resolves them with localOnly: true) and
  reach the publisher's node only, unnumbered. Every subscriber is told of
  the new epoch once (onRecoveryFailed with reset: true) and gets the new
  epoch's publications after it; the old epoch's publications arrived
  before it, all but at most the few Redis took in the turn of its loop it
  was killed in (see the check) (crowd_epochs.py says what is checked, from
  docs/PROTOCOL.md).
  The reset loses nothing of the new epoch: it comes at (E, 0), and what
  the new epoch numbered before a node's pub/sub link came back is read
  from the stream (docs/SCALING.md). (The docs allow a reset past 0 when
  Redis does not answer that read; here it is up, and a node's command
  connection comes back with its pub/sub connection: the figures count
  unanswered reads, switchboard_stream_errors_total.)
- A Redis Cluster of three masters (scaling_test.RedisCluster): the slot of
  the crowd's channel moves to another master (its meta key and stream go
  with it) while the publisher runs: one epoch, offsets 1, 2, 3, ...
  throughout, every accepted publication exactly once and in order to
  every subscriber, no reset and no failed recovery. Publishes that reach
  a master that no longer serves the slot are answered local_only until the
  node has followed the move (docs/SCALING.md): counted apart, and checked
  like the first scenario's. The other nodes follow on their refresh
  timer, possibly after the last publish: they read what they missed from
  the stream once subscribed on the new master.

The counted figures go to stderr.
"""
import os
import sys
import tempfile
import time
import unittest

import protocol_client
import redis_streams_test
from cluster_test import start_redis_and_node_config
from crowd_epochs import EpochAccepted, SubscriberEpochs, differences, unnumbered_expected
from protocol_client import metric_samples, stop_server
from proxy_test import API_KEY, NGINX, PING_MS, Proxy
from scaling_test import REDIS, RedisCluster, ready, wait_until
from sdk_crowd import SdkCrowd, all_caught_up, have_sdk, sources_in

CHANNEL = "feed:epochs"
NAMESPACE = "feed:*=history_size:100000,history_ttl:300"
SUBSCRIBER_SOURCES = sources_in(["127.0.1", "127.0.2", "127.0.3"], 10)
PUBLISHER_SOURCE = "127.0.4.1"
RATE = 200  # publishes per second: the scenario's load
STEADY_S = 2.0  # publications flowing before the failure, and after it
OUTAGE_S = 2.0  # Redis down: the scenario's outage
# At most this many publications in Redis's last turn of its loop (see the
# check): 20 ms of the publisher's rate, a few turns' worth.
LAST_TURN = RATE // 50
CATCH_UP_S = 30.0  # generous: a node's pub/sub link comes back within its backoff (up to 5 s), then reads
# Longer than anything the nodes wait for by themselves (a Redis link's
# backoff and a cluster's slot refresh: 5 s each): nothing more will come.
STILL_S = 6.0


def start_nodes_behind_nginx(test, config, directory):
    """Three nodes on config with the crowd's namespace, and nginx in front:
    sets test.ports, test.proxy and test.crowd (not started)."""
    # Not a skip: the ctest's fixture builds the SDK first, and a test that
    # skips for want of a build step would pass without counting.
    test.assertTrue(have_sdk(), "no clients/js/dist or no node: cd clients/js && npm ci && npm run build")
    test.ports = []
    for _ in range(3):
        node, port = protocol_client.start_server(config, "--workers", "1", "--insecure-user-query",
                                                  "--ping-interval-ms", str(PING_MS), "--namespace", NAMESPACE)
        test.addCleanup(stop_server, node)
        test.ports.append(port)
    for port in test.ports:
        test.assertTrue(wait_until(lambda: ready(port)), "node on %d never became ready" % port)
    test.proxy = Proxy("nginx", directory, test.ports)
    test.addCleanup(test.proxy.stop)
    test.proxy.start()
    test.crowd = SdkCrowd("ws://127.0.0.1:%d/" % test.proxy.port, CHANNEL, SUBSCRIBER_SOURCES, PUBLISHER_SOURCE,
                          RATE)
    test.addCleanup(test.crowd.stop_process)


def node_ids(ports):
    """{node id (the prefix of its client ids): port}, asked of each node."""
    async def ask():
        ids = {}
        for port in ports:
            client = await protocol_client.Client.open("ws://127.0.0.1:%d/" % port)
            ids[(await client.command("connect"))["data"]["client"].rpartition("-")[0]] = port
            await client.ws.close()
        return ids
    return protocol_client.run(ask())


def caught_up_or_still():
    """A status predicate: every subscriber has every accepted publication,
    or none got anything for STILL_S (a reset may have announced a loss:
    then "all" never comes, and the counts say what is missing)."""
    last = {"missing": None, "since": time.monotonic()}

    def settled(status):
        missing = [subscriber["missing"] for subscriber in status["subscribers"]]
        if missing != last["missing"]:
            last.update(missing=missing, since=time.monotonic())
        return all_caught_up(status) or time.monotonic() - last["since"] > STILL_S
    return settled


def settle_and_count(crowd):
    """Stops the publisher, lets every subscriber get what was accepted
    (polled, see caught_up_or_still; those that never do are what the
    checks report), and counts the crowd's report: (EpochAccepted,
    [SubscriberEpochs], report)."""
    crowd.stop_publishing()
    try:
        crowd.wait_until(caught_up_or_still(), CATCH_UP_S, "")
    except AssertionError:
        pass  # the counts say who misses what
    report = crowd.report()
    return EpochAccepted(report["publisher"]), [SubscriberEpochs(s) for s in report["subscribers"]], report


STREAM_METRICS = ("switchboard_stream_resets_total", "switchboard_stream_catch_ups_total",
                  "switchboard_stream_gap_publications_total", "switchboard_stream_errors_total")


def stream_metrics(port):
    """A node's stream counters: resets, catch-up reads, publications read
    back, reads Redis did not answer."""
    sample = metric_samples(port)
    return [int(sample.get((name, frozenset()), 0)) for name in STREAM_METRICS]


def all_stream_metrics(ports):
    """stream_metrics added up over the nodes."""
    return [sum(column) for column in zip(*(stream_metrics(port) for port in ports))]


class CrowdChecks:
    """What both scenarios check of the crowd (mixed into the TestCases)."""

    def check_publisher(self, accepted, report, epochs):
        self.assertEqual(len(accepted.epochs), epochs, accepted.epochs)
        self.assertEqual(accepted.numbering_gaps(), [], "each epoch numbers its publications 1, 2, 3, ...")
        self.assertFalse(accepted.epochs_overlap(), "an older epoch's publication after a newer one's")
        self.assertEqual(report["publisher"]["failed"], [], "publishes failed (only local_only is documented)")
        self.assertEqual(report["publisher"]["errors"], [])
        self.assertEqual(len(accepted.nodes), 1, "the publisher reconnected")

    def check_connection(self, subscriber):
        """Connected once, subscribed once, no error: nobody reconnects here."""
        self.assertEqual((subscriber.subscribes, subscriber.losses, subscriber.errors, len(subscriber.nodes)),
                         (1, [], [], 1), "subscribes, losses, errors, connections")

    def check_unnumbered(self, subscriber, accepted):
        self.assertEqual(differences(subscriber.unnumbered, unnumbered_expected(subscriber, accepted)), {},
                         "the local_only publications: once each on the publisher's node (%s), nowhere else"
                         % accepted.nodes[0])


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(NGINX),
                     "needs redis-server and nginx (scripts/bootstrap)")
class RedisRestartedEmptyUnderTheCrowdTest(CrowdChecks, unittest.TestCase):
    def setUp(self):
        directory, config = start_redis_and_node_config(self)
        start_nodes_behind_nginx(self, config, directory.name)
        self.node_ports = node_ids(self.ports)

    def test_every_subscriber_is_told_of_the_new_epoch_and_misses_nothing_of_it(self):
        self.crowd.start()
        time.sleep(STEADY_S)  # scenario pacing: publications flow before the outage
        self.redis.kill()
        self.assertTrue(wait_until(lambda: not any(ready(port) for port in self.ports)), "nodes ready without Redis")
        time.sleep(OUTAGE_S)  # the outage the scenario simulates
        self.redis.start()  # same port, empty
        for port in self.ports:
            self.assertTrue(wait_until(lambda: ready(port), 30), "node on %d not ready again" % port)
        time.sleep(STEADY_S)  # scenario pacing: publications flow in the new epoch
        accepted, subscribers, report = settle_and_count(self.crowd)
        unanswered = {node: stream_metrics(port)[3] for node, port in self.node_ports.items()}
        self.print_figures(accepted, subscribers, unanswered)
        self.check(accepted, report, subscribers, unanswered)

    def print_figures(self, accepted, subscribers, unanswered):
        old, new = (accepted.by_epoch[epoch] for epoch in accepted.epochs) if len(accepted.epochs) == 2 else ([], [])
        reset_at = {}
        for subscriber in subscribers:
            for reset in subscriber.resets:
                key = (subscriber.nodes[0], reset["offset"])
                reset_at[key] = reset_at.get(key, 0) + 1
        resets, catch_ups, read_back, read_errors = all_stream_metrics(self.ports)
        print("\nRedis restarted empty under %d SDK subscribers (3 nodes, nginx): accepted %d before (offsets "
              "1..%d), %d local_only while down (got by the %d subscribers on the publisher's node), %d after "
              "(new epoch, 1..%d); %d resets to subscribers (%s); deliveries: %d of the old epoch (%d short of every "
              "accepted one to every subscriber: Redis killed mid-turn), %d of the new, "
              "%d unnumbered; the nodes: %d resets, %d catch-up reads (%d unanswered: %s), %d publications read back"
              % (len(subscribers), len(old), len(old), len(accepted.local_only),
                 sum(1 for s in subscribers if s.nodes == accepted.nodes), len(new), len(new),
                 sum(len(s.resets) for s in subscribers),
                 ", ".join("%d at offset %d on node %s" % (count, offset, node)
                           for (node, offset), count in sorted(reset_at.items())),
                 sum(len(s.numbered.get(accepted.epochs[0], [])) for s in subscribers),
                 len(old) * len(subscribers) - sum(len(s.numbered.get(accepted.epochs[0], [])) for s in subscribers),
                 sum(len(s.numbered.get(accepted.epochs[-1], [])) for s in subscribers) if len(accepted.epochs) == 2
                 else 0,
                 sum(len(s.unnumbered) for s in subscribers), resets, catch_ups, read_errors,
                 ", ".join("%d on node %s" % (count, node) for node, count in sorted(unanswered.items()) if count)
                 or "none", read_back), file=sys.stderr)

    def check(self, accepted, report, subscribers, unanswered):
        self.check_publisher(accepted, report, epochs=2)
        old, new = accepted.epochs
        self.assertGreater(len(accepted.by_epoch[old]), RATE * STEADY_S / 2, "too few publications before")
        self.assertGreater(len(accepted.by_epoch[new]), RATE * STEADY_S / 2, "too few publications after")
        self.assertGreater(len(accepted.local_only), 0, "no publish while Redis was down")
        for subscriber in subscribers:
            with self.subTest(subscriber=subscriber.source):
                self.check_connection(subscriber)
                self.assertEqual(subscriber.failed_recoveries, [])
                self.assertEqual(subscriber.epoch_order, [old, new], "the old epoch's messages, then the new one's")
                # Redis numbers a publication, answers it and pushes it to
                # the nodes' pub/sub connections in one turn of its loop:
                # killed in that turn, it may have sent the answer and not
                # every push, and the stream that would fill the gap dies
                # with it. So the old epoch may end a few publications
                # early for a node's subscribers: announced, as the reset
                # comes from the last one they got.
                got = subscriber.numbered[old]
                self.assertEqual(differences(got, accepted.by_epoch[old][:len(got)]), {},
                                 "the old epoch's publications once each, in order, at their offsets, from 1")
                self.assertLessEqual(len(accepted.by_epoch[old]) - len(got), LAST_TURN,
                                     "old-epoch publications missing before the reset")
                self.assertEqual([(reset["epoch"], reset["since"]) for reset in subscriber.resets],
                                 [(new, {"epoch": old, "offset": got[-1][1]})],
                                 "one reset, to the new epoch, from the last publication it got")
                self.assertEqual(subscriber.after_reset_gaps(subscriber.resets[0], accepted.by_epoch[new]), {},
                                 "after reset (E, N): E's N + 1, N + 2, ... to its last, once each, in order")
                self.check_unnumbered(subscriber, accepted)
        # A reset at (E, N > 0) loses E's first N publications, announced. A
        # node that learns of the new epoch late (its pub/sub link back
        # after other nodes published under it) reads E from its start and
        # resets at (E, 0) (docs/SCALING.md, "Streams in Redis"). The docs
        # allow a reset past 0 when Redis does not answer that read; here
        # Redis is back and stays up, and a node's command connection comes
        # back with its pub/sub connection, so every read is answered.
        past_start = sorted({(subscriber.nodes[0], reset["offset"], unanswered.get(subscriber.nodes[0]))
                             for subscriber in subscribers for reset in subscriber.resets if reset["offset"] != 0})
        self.assertEqual(past_start, [], "(node, reset offset, its unanswered reads) of resets past the new "
                         "epoch's start")


@unittest.skipUnless(os.path.exists(REDIS) and os.path.exists(NGINX),
                     "needs redis-server and nginx (scripts/bootstrap)")
class SlotMovedUnderTheCrowdTest(CrowdChecks, unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        os.chmod(directory.name, 0o755)
        self.cluster = RedisCluster(directory.name)
        self.addCleanup(self.cluster.stop)
        self.cluster.start()
        config = os.path.join(directory.name, "node.toml")
        with open(config, "w") as file:
            file.write('[broker]\nurl = "redis://127.0.0.1:%d"\ncluster = true\n[api]\nkey = "%s"\n'
                       % (self.cluster.ports[0], API_KEY))
        start_nodes_behind_nginx(self, config, directory.name)

    holders = redis_streams_test.RedisClusterStreamsTest.holders

    def test_every_publication_exactly_once_while_the_channels_slot_moves(self):
        self.crowd.start()
        time.sleep(STEADY_S)  # scenario pacing: publications flow before the move
        stream = "sb:stream:{%s}" % CHANNEL
        [source] = self.holders(stream)
        target = (source + 1) % 3
        self.cluster.move_slot(stream, source, target)
        time.sleep(STEADY_S)  # scenario pacing: publications flow after the move
        accepted, subscribers, report = settle_and_count(self.crowd)
        [epoch] = accepted.epochs or [None]
        numbered = accepted.by_epoch.get(epoch, [])
        resets, catch_ups, read_back, _ = all_stream_metrics(self.ports)
        print("\nslot of %s moved from master %d to %d under %d SDK subscribers (3 nodes, nginx): accepted %d "
              "(offsets 1..%d, one epoch), %d local_only while the publisher's node followed the move (got by the "
              "%d subscribers on it); %d deliveries, %d missing, %d resets, %d failed recoveries; the nodes: %d "
              "catch-up reads, %d publications read back"
              % (CHANNEL, source, target, len(subscribers), len(numbered), len(numbered), len(accepted.local_only),
                 sum(1 for s in subscribers if s.nodes == accepted.nodes),
                 sum(len(s.numbered.get(epoch, [])) for s in subscribers),
                 sum(len(set(numbered) - set(s.numbered.get(epoch, []))) for s in subscribers),
                 sum(len(s.resets) for s in subscribers), sum(len(s.failed_recoveries) for s in subscribers),
                 catch_ups, read_back), file=sys.stderr)
        self.check_publisher(accepted, report, epochs=1)
        self.assertEqual(self.holders(stream), [target], "the stream moved with its slot")
        self.assertEqual(self.holders("sb:meta:{%s}" % CHANNEL), [target], "the meta key moved with its slot")
        self.assertGreater(len(numbered), RATE * STEADY_S, "too few publications")
        self.assertEqual(resets, 0, "the nodes sent reset")
        for subscriber in subscribers:
            with self.subTest(subscriber=subscriber.source):
                self.check_connection(subscriber)
                self.assertEqual((subscriber.resets, subscriber.failed_recoveries), ([], []))
                self.assertEqual(list(subscriber.numbered), [epoch], "one epoch")
                self.assertEqual(differences(subscriber.numbered[epoch], numbered), {},
                                 "every accepted publication once, in order, at its offset")
                self.check_unnumbered(subscriber, accepted)


if __name__ == "__main__":
    unittest.main(verbosity=2)
