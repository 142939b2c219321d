"""The SDK crowd's report (sdk_crowd.py) counted stream by stream, for the
scenarios where the broker's past can be lost (a Redis restarted empty) or
where a publish can be answered local_only (Redis down, a slot moving): the
delivery_count tests of sdk_crowd.CrowdCount assume one epoch and no
unnumbered message.

What the protocol promises a subscriber that stays connected
(docs/PROTOCOL.md, "Streams", "While subscribed"), which the tests check
with what is here (EpochAccepted: what the publisher was told;
SubscriberEpochs: what one subscriber got; differences):
- within one epoch, the numbered publications it gets are in order, each
  once, each at the offset its publish reply gave;
- a change of epoch is signalled by a `reset` {epoch E, offset N} (the SDK's
  onRecoveryFailed with reset: true) before any message of E, and from then
  on it gets E's publications N + 1, N + 2, ... with no gap: what was lost
  is only what the reset says (the old epoch's rest, and E's up to N);
- a publish answered local_only (Redis unreachable) reaches the publisher's
  node only: every subscriber on that node gets it once, unnumbered (offset
  0), and no other subscriber gets it.
"""


class EpochAccepted:
    """What the publisher was told, per epoch: {epoch: [(seq, offset), ...]} in
    seq order, the epochs in the order they began, and the local_only seqs."""

    def __init__(self, publisher):
        self.by_epoch = {}
        for seq, offset, epoch in sorted(publisher["accepted"]):
            self.by_epoch.setdefault(epoch, []).append((seq, offset))
        self.epochs = list(self.by_epoch)
        self.local_only = sorted(seq for seq, _ in publisher["localOnly"])
        self.nodes = publisher["nodes"]

    def numbering_gaps(self):
        """Epochs whose offsets, in seq order, are not 1, 2, 3, ...: (epoch, first wrong)."""
        gaps = []
        for epoch, accepted in self.by_epoch.items():
            for expected, (seq, offset) in enumerate(accepted, 1):
                if offset != expected:
                    gaps.append((epoch, seq, offset, expected))
                    break
        return gaps

    def epochs_overlap(self):
        """Whether some seq of an epoch came after a seq of the next one."""
        return any(self.by_epoch[a][-1][0] > self.by_epoch[b][0][0] for a, b in zip(self.epochs, self.epochs[1:]))


class SubscriberEpochs:
    """One subscriber's report split by epoch: what it got of each, the
    resets it was told, its unnumbered messages."""

    def __init__(self, subscriber):
        self.source = subscriber["source"]
        self.nodes = subscriber["nodes"]
        self.numbered = {}  # epoch -> [(seq, offset)] in delivery order
        self.epoch_order = []  # the epochs of its numbered deliveries, in the order they came
        self.unnumbered = []  # seqs of the offset-0 messages
        for seq, offset, _, epoch_index in subscriber["deliveries"]:
            if offset == 0:
                self.unnumbered.append(seq)
                continue
            epoch = subscriber["epochs"][epoch_index]
            if not self.epoch_order or self.epoch_order[-1] != epoch:
                self.epoch_order.append(epoch)
            self.numbered.setdefault(epoch, []).append((seq, offset))
        self.resets = [context for context in subscriber["recoveryFailed"] if context["reset"]]
        self.failed_recoveries = [context for context in subscriber["recoveryFailed"] if not context["reset"]]
        self.subscribes = len(subscriber["subscribed"])
        self.losses = subscriber["losses"]
        self.errors = subscriber["errors"]

    def after_reset_gaps(self, reset, accepted):
        """What breaks "after reset (E, N), E's publications N + 1, N + 2, ...
        up to the last accepted, with no gap, each at its accepted offset":
        {} when nothing does."""
        return differences(self.numbered.get(reset["epoch"], []),
                           [(seq, offset) for seq, offset in accepted if offset > reset["offset"]])


def differences(got, expected):
    """What keeps got (a list of (seq, offset), or of seqs) from being
    exactly expected, in a few lines: {} when it is."""
    out = {}
    if got == expected:
        return out
    seen = set(got)
    missing = [item for item in expected if item not in seen]
    wanted = set(expected)
    if missing:
        out["missing"] = (len(missing), missing[:5])
    extra = [item for item in got if item not in wanted]
    if extra:
        out["not accepted (or at another offset)"] = (len(extra), extra[:5])
    if len(seen) != len(got):
        out["duplicates"] = len(got) - len(seen)
    if not out:  # the same items once each: another order
        out["out of order, first at"] = next(index for index, (a, b) in enumerate(zip(got, expected)) if a != b)
    return out


def unnumbered_expected(subscriber, accepted):
    """The local_only seqs this subscriber must get: all of them if it was on
    the publisher's node (one connection each, both), none otherwise."""
    return accepted.local_only if subscriber.nodes == accepted.nodes else []
