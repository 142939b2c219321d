// The SDK's publisher at a node that drains (SIGTERM), against real
// servers: two nodes over a real redis-server, the publisher on the one
// drained and started again, a subscriber on the other. The drain answers
// every publish it ran and says so (`answered: true`); the SDK sends the
// rest again after its reconnect. No publish is rejected, each resolves
// once with its own offset, and the subscriber gets every one once, in order.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Client } from '../../dist/node.js';
import { Redis } from '../support/redis.mjs';
import { Server, until } from '../support/server.mjs';

// Bursts keep publishes in flight (sent, not yet answered) whenever the
// drain comes: those the node never ran are the ones the SDK sends again.
const PUBLISHES = 2000;
const BURST = 100;
const EVERY_MS = 5; // the publisher's pace: the scenario, a burst every 5 ms
const DRAIN_AFTER = 500; // publishes made before the SIGTERM

const stops = [];
const clients = [];
after(async () => {
  for (const client of clients) client.close();
  for (const stop of stops.reverse()) await stop();
});

function client(url) {
  // maxQueued: everything published while the node restarts waits in the queue.
  const made = new Client(url, { reconnect: { minDelay: 100, maxDelay: 800 }, requestTimeout: 10000, maxQueued: PUBLISHES });
  made.on('error', () => {});
  clients.push(made);
  return made;
}

test('a publisher at a draining node sees no rejected publish; each resolves once and arrives once, in order', { skip: !Redis.available && 'no redis-server' }, async () => {
  const redis = new Redis();
  await redis.start();
  stops.push(() => redis.stop());
  const flags = ['--workers', '1', '--broker', redis.url, '--namespace', 'feed:*=history_size:10000,history_ttl:300',
    '--drain-spread-ms', '0'];
  const drained = new Server(flags);
  const other = new Server(flags);
  for (const server of [drained, other]) {
    await server.start();
    stops.push(() => server.stop());
  }

  const subscriber = client(other.url);
  const received = [];
  let subscribed = false;
  subscriber.subscribe('feed:d', { onMessage: (data) => received.push(data), onSubscribed: () => (subscribed = true) });
  subscriber.connect();
  await until(() => subscribed, 10000, 'the subscriber');

  const publisher = client(drained.url);
  const drains = [];
  publisher.on('disconnected', (info) => drains.push(info));
  publisher.connect();
  await until(() => publisher.state === 'connected', 10000, 'the publisher');

  const outcomes = Array.from({ length: PUBLISHES }, () => ({ resolved: 0, rejected: [] }));
  const settled = [];
  let restarted = null;
  for (let seq = 1; seq <= PUBLISHES; seq++) {
    const outcome = outcomes[seq - 1];
    settled.push(
      publisher.publish('feed:d', seq).then(
        (result) => {
          outcome.resolved++;
          outcome.offset = result.offset;
        },
        (error) => outcome.rejected.push(error.code),
      ),
    );
    if (seq === DRAIN_AFTER) restarted = drained.drain().then(() => drained.start());
    if (seq % BURST === 0) await new Promise((resolve) => setTimeout(resolve, EVERY_MS)); // pacing: the scenario's rate
  }
  await restarted;
  await Promise.all(settled);
  const rejected = outcomes.flatMap((outcome, index) => outcome.rejected.map((code) => [index + 1, code]));
  assert.deepEqual(rejected, [], 'no publish rejected');
  assert.deepEqual(outcomes.filter((outcome) => outcome.resolved !== 1), [], 'each publish resolved once');
  assert.equal(new Set(outcomes.map((outcome) => outcome.offset)).size, PUBLISHES, 'each with its own offset');
  assert.ok(drains.length >= 1 && drains[0].code === 1001, `the publisher was drained: ${JSON.stringify(drains)}`);

  await until(() => received.length >= PUBLISHES, 20000, 'every publication at the subscriber');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show by now
  assert.deepEqual(received, Array.from({ length: PUBLISHES }, (_, index) => index + 1));
});
