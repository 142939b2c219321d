// The crowd: many SDK subscribers and one SDK publisher, for tests that count
// every message through a proxy and several nodes (tests/integration's
// delivery_count_test.py and delivery_count_redis_test.py drive it). It
// lives with the SDK's tests because it is the SDK (dist/node.js, on the
// `ws` this package depends on) that it runs, as an application would; the
// test that drives it owns the servers.
//
// Each subscriber is its own Client, bound to its own source address (a
// subclass of ws's WebSocket that passes `localAddress`: 127.0.x.y are all
// loopback on Linux), so that the proxy's hash spreads them over the nodes,
// subscribed to one channel of a namespace with history: after every
// reconnect the SDK recovers by itself. The publisher publishes {seq: n}
// n = 1, 2, ... at `rate` per second, without waiting for answers (the SDK
// queues while disconnected), and records how each publish ended.
//
// Usage: node crowd.mjs '<config JSON>'
//   {url, channel, sources: [address, ...], publisherSource, rate,
//    subscriberOptions?, publisherOptions?}   (options: SDK ClientOptions)
// Commands on stdin, one a line; each is answered by one JSON line on stdout
// (nothing else is written there; diagnostics go to stderr):
//   (at start)    -> {"ready": true} once every subscriber was subscribed and
//                    the publisher connected; then the publisher starts
//   mark LABEL    -> {"mark": LABEL, "at": ms}: a point on the crowd's clock
//                    (e.g. "kill node 2"), kept in the report
//   status        -> {"at", "publishing", "accepted", "settled", "inFlight",
//                    "subscribers": [{"up", "delivered", "missing"}]}:
//                    missing counts accepted seqs not yet delivered to it
//   stop          -> {"stopped": true, ...status} once no publish is waiting
//                    for its answer (none is made after `stop`)
//   report        -> the report (below), then every client is closed and the
//                    process exits 0
// All times are ms on one clock (performance.now() from the crowd's start).
//
// The report: {marks: [{label, at}], publisher: {nodes, accepted: [[seq,
// offset, epoch]], localOnly: [[seq, epoch]], failed: [[seq, code,
// message]], errors, disconnects: [{at, code, reason}]}, subscribers:
// [{source, nodes, deliveries: [[seq, offset, recovered 0/1, epoch
// index]], epochs: [epoch], subscribed: [{at, recovered, wasRecovering,
// epoch, offset, since}],
// recoveryFailed: [{at, reset, recovered, wasRecovering, epoch, offset,
// since}], losses: [{lost, back, code, reason, attempts}], errors}]}.
// A loss starts at the `disconnected` event that ended a subscribed
// connection and ends (`back`) at the next onSubscribed; back is null while
// out. attempts counts the failed reconnects in between. nodes: per
// connection, the node it landed on (the node part of its client id).
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

import { Client } from '../../dist/node.js';

const config = JSON.parse(process.argv[2] ?? '{}');
for (const key of ['url', 'channel', 'sources', 'publisherSource', 'rate']) {
  if (config[key] === undefined) throw new Error(`crowd: the config needs ${key}`);
}
const now = () => Math.round(performance.now() * 10) / 10;

// A ws WebSocket whose TCP connections come from one source address.
function boundTo(localAddress) {
  return class BoundWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { localAddress });
    }
  };
}

function userUrl(user) {
  const url = new URL(config.url);
  url.searchParams.set('user', user);
  return url.toString();
}

// The node a connection landed on: the prefix of the client id it was given
// (docs/SCALING.md: "<node>-<n>").
function nodeOf(clientId) {
  return String(clientId).replace(/-[^-]*$/, '');
}

function errorRecord(error) {
  return { at: now(), code: error.code ?? null, message: String(error.message ?? error) };
}

class Subscriber {
  constructor(source, index) {
    this.source = source;
    this.deliveries = [];
    this.epochs = [];
    this.subscribed = [];
    this.recoveryFailed = [];
    this.losses = [];
    this.errors = [];
    this.up = false;
    this.have = new Set(); // delivered seqs, for `status`
    this.client = new Client(userUrl(`crowd${index}`), { ...config.subscriberOptions, WebSocket: boundTo(source) });
    this.nodes = [];
    this.client.on('connected', (info) => this.nodes.push(nodeOf(info.client)));
    this.client.on('error', (error) => this.errors.push(errorRecord(error)));
    this.closing = false;
    this.client.on('disconnected', (info) => {
      if (this.closing) return; // the crowd's own close() at the end
      if (this.up) {
        this.up = false;
        this.losses.push({ lost: now(), back: null, code: info.code, reason: info.reason, attempts: 0 });
      } else if (this.losses.length > 0 && this.losses.at(-1).back === null) {
        this.losses.at(-1).attempts++;
      }
    });
    this.subscription = this.client.subscribe(config.channel, {
      onSubscribed: (context) => {
        this.subscribed.push({ at: now(), ...context });
        if (this.losses.length > 0 && this.losses.at(-1).back === null) this.losses.at(-1).back = now();
        this.up = true;
      },
      onRecoveryFailed: (context) => this.recoveryFailed.push({ at: now(), reset: context.reset === true, ...context }),
      onMessage: (data, context) => this.deliver(data, context),
      onError: (error) => this.errors.push(errorRecord(error)),
    });
  }

  deliver(data, context) {
    const epoch = this.subscription.position?.epoch ?? null;
    if (this.epochs.at(-1) !== epoch) this.epochs.push(epoch);
    const seq = typeof data === 'object' && data !== null ? data.seq : undefined;
    this.deliveries.push([seq ?? null, context.offset, context.recovered ? 1 : 0, this.epochs.length - 1]);
    this.have.add(seq);
  }

  report() {
    const { source, nodes, deliveries, epochs, subscribed, recoveryFailed, losses, errors } = this;
    return { source, nodes, deliveries, epochs, subscribed, recoveryFailed, losses, errors };
  }
}

class Publisher {
  constructor() {
    this.accepted = [];
    this.localOnly = [];
    this.failed = [];
    this.errors = [];
    this.disconnects = [];
    this.inFlight = 0;
    this.next = 1;
    this.timer = undefined;
    this.client = new Client(userUrl('crowd-publisher'), {
      ...config.publisherOptions,
      WebSocket: boundTo(config.publisherSource),
    });
    this.nodes = [];
    this.client.on('connected', (info) => this.nodes.push(nodeOf(info.client)));
    this.client.on('error', (error) => this.errors.push(errorRecord(error)));
    // (The crowd's own close() at the end is the last one, reconnect false.)
    this.client.on('disconnected', (info) => this.disconnects.push({ at: now(), ...info }));
  }

  get publishing() {
    return this.timer !== undefined;
  }

  // Seq n is due (n - 1) / rate seconds after the start: a late timer
  // publishes every seq that fell due meanwhile, so the rate holds on average.
  start() {
    const started = performance.now();
    const tick = () => {
      const due = Math.floor(((performance.now() - started) * config.rate) / 1000) + 1;
      while (this.next <= due) this.publish(this.next++);
    };
    this.timer = setInterval(tick, 5); // pacing the load: this is the scenario's rate
    tick();
  }

  publish(seq) {
    this.inFlight++;
    this.client.publish(config.channel, { seq }).then(
      (result) => {
        if (result.localOnly) this.localOnly.push([seq, result.epoch ?? null]);
        else this.accepted.push([seq, result.offset, result.epoch ?? null]);
      },
      (error) => this.failed.push([seq, error.code ?? null, String(error.message ?? error)]),
    ).finally(() => this.inFlight--);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  report() {
    const { nodes, accepted, localOnly, failed, errors, disconnects } = this;
    return { nodes, accepted, localOnly, failed, errors, disconnects };
  }
}

const marks = [];
const subscribers = config.sources.map((source, index) => new Subscriber(source, index));
const publisher = new Publisher();

function answer(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function status() {
  const accepted = publisher.accepted.map(([seq]) => seq);
  return {
    at: now(),
    publishing: publisher.publishing,
    accepted: accepted.length,
    settled: publisher.accepted.length + publisher.localOnly.length + publisher.failed.length,
    inFlight: publisher.inFlight,
    subscribers: subscribers.map((subscriber) => ({
      up: subscriber.up,
      delivered: subscriber.deliveries.length,
      missing: accepted.reduce((count, seq) => count + (subscriber.have.has(seq) ? 0 : 1), 0),
    })),
  };
}

async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10)); // pacing the poll
}

async function handle(line) {
  const [command, ...rest] = line.trim().split(' ');
  if (command === 'mark') {
    const mark = { label: rest.join(' '), at: now() };
    marks.push(mark);
    answer({ mark: mark.label, at: mark.at });
  } else if (command === 'status') {
    answer(status());
  } else if (command === 'stop') {
    publisher.stop();
    await until(() => publisher.inFlight === 0);
    answer({ stopped: true, ...status() });
  } else if (command === 'report') {
    for (const subscriber of subscribers) {
      subscriber.closing = true;
      subscriber.client.close();
    }
    publisher.client.close();
    const report = {
      marks,
      publisher: publisher.report(),
      subscribers: subscribers.map((subscriber) => subscriber.report()),
    };
    // Exit once the (large) line is written out.
    process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
  } else if (command !== '') {
    answer({ error: `unknown command: ${line}` });
  }
}

// Commands run one after another, in the order they came.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(() => handle(line));
});
process.stdin.on('end', () => queue.then(() => process.exit(0)));

for (const subscriber of subscribers) subscriber.client.connect();
publisher.client.connect();
await until(() => subscribers.every((subscriber) => subscriber.up) && publisher.client.state === 'connected');
answer({ ready: true });
publisher.start();
