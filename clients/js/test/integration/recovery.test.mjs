// History and recovery against a real `switchboard serve` whose namespace
// keeps a stream: a subscriber's connection is cut (through a TCP proxy)
// again and again while another client publishes, and it still gets every
// offset once and in order; a server restart (a new epoch) is a failed
// recovery; history() and `latest`; and a client is back within about a
// second of a restarted server however long it was down.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Client } from '../../dist/node.js';
import { Proxy } from '../support/proxy.mjs';
import { Server, until } from '../support/server.mjs';

// No per-connection message limit: the writer publishes as fast as it can.
const STREAM = ['--insecure-user-query', '--limit-messages-per-s', '0', '--namespace', 'feed:*=history_size:100000,history_ttl:300'];

const servers = [];
const proxies = [];
const clients = [];
after(async () => {
  for (const client of clients) client.close();
  for (const proxy of proxies) await proxy.stop();
  for (const server of servers) await server.stop();
});

function client(url, options = {}) {
  const made = new Client(url, { reconnect: { minDelay: 100, maxDelay: 400 }, requestTimeout: 5000, ...options });
  made.on('error', () => {});
  clients.push(made);
  return made;
}

async function startServer(flags = STREAM) {
  const server = new Server(flags);
  servers.push(server);
  await server.start();
  return server;
}

// A subscription that records what it is told.
function record(subscriber, channel, options) {
  const seen = { offsets: [], recovered: 0, subscribed: [], failed: [] };
  subscriber.subscribe(channel, {
    onMessage: (data, context) => {
      assert.equal(data.n, context.offset, 'each message carries its offset as n');
      seen.offsets.push(context.offset);
      if (context.recovered) seen.recovered++;
    },
    onSubscribed: (context) => seen.subscribed.push(context),
    onRecoveryFailed: (context) => seen.failed.push(context),
  }, options);
  return seen;
}

test('a subscriber cut off three times while messages flow gets every offset exactly once, in order', async () => {
  const server = await startServer();
  const proxy = await new Proxy(server.port).start();
  proxies.push(proxy);
  // 200 ms away after every cut (no jitter): messages are published meanwhile.
  const reader = client(proxy.url + '?user=reader', { reconnect: { minDelay: 200, maxDelay: 200, jitter: 0 } });
  const seen = record(reader, 'feed:a');
  reader.connect();
  await until(() => seen.subscribed.length === 1, 5000, 'subscribed');
  assert.equal(seen.subscribed[0].recoverable, true);
  assert.equal(seen.subscribed[0].offset, 0);

  const writer = client(server.url + '?user=writer');
  writer.connect();
  let published = 0;
  let writing = true;
  const publishing = (async () => {
    while (writing) {
      // n is the offset the stream gives it: one publisher, in order.
      const result = await writer.publish('feed:a', { n: published + 1 });
      assert.equal(result.offset, ++published);
      assert.equal(result.epoch, seen.subscribed[0].epoch);
      if (published % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1)); // pacing
    }
  })();
  for (let cut = 1; cut <= 3; cut++) {
    await until(() => reader.state === 'connected' && seen.offsets.length >= published - 5 && published >= 100 * cut, 10000, `catching up before cut ${cut}`);
    proxy.cut();
    await until(() => seen.subscribed.length === cut + 1, 10000, `resubscribed after cut ${cut}`);
  }
  writing = false;
  await publishing;
  await until(() => seen.offsets.length >= published, 10000, `all ${published} messages`);
  await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would show by now

  assert.deepEqual(seen.offsets, Array.from({ length: published }, (_, i) => i + 1));
  assert.ok(seen.recovered > 0, 'some came from a recovery');
  assert.deepEqual(seen.failed, []);
  for (const context of seen.subscribed.slice(1)) {
    assert.equal(context.wasRecovering, true);
    assert.equal(context.recovered, true);
    assert.equal(context.epoch, seen.subscribed[0].epoch);
  }
  console.log(`${published} messages, ${seen.recovered} of them recovered over 3 cuts`);
});

test('after a server restart (memory broker: a new epoch) recovery fails, and messages go on from the new position', async () => {
  const server = await startServer();
  const reader = client(server.url + '?user=reader');
  const seen = record(reader, 'feed:b');
  reader.connect();
  await until(() => seen.subscribed.length === 1, 5000, 'subscribed');
  const writer = client(server.url + '?user=writer');
  writer.connect();
  for (let n = 1; n <= 3; n++) await writer.publish('feed:b', { n });
  await until(() => seen.offsets.length === 3, 5000, 'three messages');
  const before = seen.subscribed[0].epoch;

  await server.kill();
  await server.start();
  await until(() => seen.subscribed.length === 2, 10000, 'resubscribed');
  assert.equal(seen.failed.length, 1, 'onRecoveryFailed once');
  const context = seen.failed[0];
  assert.equal(context.wasRecovering, true);
  assert.equal(context.recovered, false);
  assert.equal(context.recoverable, true);
  assert.notEqual(context.epoch, before);
  assert.deepEqual(seen.subscribed[1], context);

  await until(() => writer.state === 'connected', 10000, 'the writer back');
  const result = await writer.publish('feed:b', { n: context.offset + 1 });
  assert.equal(result.epoch, context.epoch);
  await until(() => seen.offsets.length === 4, 5000, 'the message after the restart');
  assert.deepEqual(seen.offsets, [1, 2, 3, context.offset + 1]);
});

test('history() and `latest` on the real server', async () => {
  const server = await startServer();
  const writer = client(server.url + '?user=writer');
  writer.connect();
  for (let n = 1; n <= 5; n++) await writer.publish('feed:c', { n });
  const all = await writer.history('feed:c');
  assert.deepEqual(all.publications.map((publication) => publication.offset), [1, 2, 3, 4, 5]);
  assert.equal(all.offset, 5);
  const newest = await writer.history('feed:c', { limit: 2, reverse: true });
  assert.deepEqual(newest.publications.map((publication) => publication.data.n), [5, 4]);
  const after2 = await writer.history('feed:c', { since: { epoch: all.epoch, offset: 2 } });
  assert.deepEqual(after2.publications.map((publication) => publication.offset), [3, 4, 5]);
  await assert.rejects(writer.history('feed:c', { since: { epoch: 'not-the-epoch', offset: 2 } }), { code: 124 });
  await assert.rejects(writer.history('plain'), { code: 123 });

  const reader = client(server.url + '?user=reader');
  const seen = record(reader, 'feed:c', { latest: true });
  reader.connect();
  await until(() => seen.subscribed.length === 1, 5000, 'subscribed');
  assert.deepEqual(seen.subscribed[0].latest, { offset: 5, data: { n: 5 } });
  assert.equal(seen.subscribed[0].offset, 5);
});

test('a client is back within about a second of a restarted server, however long it was down', async () => {
  const server = await startServer(['--insecure-user-query']);
  const watcher = client(server.url + '?user=watcher', { reconnect: {} }); // the defaults: 500 ms .. 20 s
  const delays = [];
  watcher.on('disconnected', (info) => delays.push(info.delay));
  watcher.connect();
  await until(() => watcher.state === 'connected', 5000, 'connected');
  await server.kill();
  // Six refused attempts: without the refused cap the next delay's cap would be 16 s.
  await until(() => delays.length >= 6, 15000, 'six refused attempts');
  await server.start();
  const restarted = Date.now();
  await until(() => watcher.state === 'connected', 5000, 'back');
  const back = Date.now() - restarted;
  assert.ok(delays.every((delay) => delay <= 1000), `delays ${delays}`);
  assert.ok(back < 1500, `back ${back} ms after the server`);
  console.log(`back ${back} ms after the restart; delays while refused: ${delays.join(', ')} ms`);
});
