// The SDK against a real `switchboard serve`: the server is killed and
// started again under subscribed clients.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Client } from '../../dist/node.js';
import { Server, until } from '../support/server.mjs';

const servers = [];
const clients = [];
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) await server.stop();
});

function client(url, options = {}) {
  const made = new Client(url, { reconnect: { minDelay: 100, maxDelay: 800 }, requestTimeout: 5000, ...options });
  made.on('error', () => {});
  clients.push(made);
  return made;
}

test('after a server restart the client reconnects with growing jittered delays, resubscribes, and its queued publishes arrive once', async () => {
  const server = new Server(['--insecure-user-query', '--namespace', 'chat:*=join_leave']);
  servers.push(server);
  await server.start();

  // One client subscribes and publishes: it re-subscribes before it sends
  // its queue, so its own publishes made while away reach it. (Another
  // client's could be sent before this one is back: pub/sub without history
  // keeps nothing for a subscriber that is away.)
  const ada = client(server.url + '?user=ada');
  const received = [];
  let subscribedTimes = 0;
  ada.subscribe('chat:room', {
    onMessage: (data) => received.push(data),
    onSubscribed: () => subscribedTimes++,
  });
  const delays = [];
  ada.on('disconnected', (info) => delays.push(info.delay));
  ada.connect();
  await until(() => subscribedTimes === 1, 5000, 'subscribed');
  assert.equal((await ada.publish('chat:room', 'before')).offset, 1);
  await until(() => received.length === 1, 5000, 'the first message');

  await server.kill();
  await until(() => ada.state !== 'connected', 5000, 'the client to notice');
  // Made while the server is down: queued, then sent once, after the resubscribe.
  const queued = [ada.publish('chat:room', 'while down 1'), ada.publish('chat:room', 'while down 2')];
  await until(() => delays.length >= 4, 10000, 'several failed attempts');
  await server.start();

  const results = await Promise.all(queued);
  await until(() => received.length === 3, 10000, 'the queued messages');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show by now
  assert.deepEqual(received, ['before', 'while down 1', 'while down 2']);
  assert.deepEqual(results.map((result) => result.offset), [1, 2]); // a new server numbers from 1
  assert.equal(subscribedTimes, 2);
  assert.equal(ada.state, 'connected');

  // Each delay within its cap (100, 200, 400, 800, 800, ...), jittered (full
  // jitter: not simply the caps), and the caps grow.
  const caps = delays.map((_, attempt) => Math.min(800, 100 * 2 ** attempt));
  delays.forEach((delay, attempt) => assert.ok(delay >= 0 && delay <= caps[attempt], `delay ${attempt}: ${delay} not in 0..${caps[attempt]}`));
  assert.notDeepEqual(delays, caps, 'delays are jittered');
});

test('presence and join/leave come back after a restart', async () => {
  const server = new Server(['--insecure-user-query', '--namespace', 'room:*=join_leave']);
  servers.push(server);
  await server.start();
  const ada = client(server.url + '?user=ada');
  const bob = client(server.url + '?user=bob');
  const joins = [];
  ada.subscribe('room:x', { onJoin: (member) => joins.push(member.user) });
  bob.subscribe('room:x');
  ada.connect();
  await until(() => ada.getSubscription('room:x').state === 'subscribed', 5000, 'ada subscribed');
  bob.connect();
  await until(() => joins.includes('bob'), 5000, 'bob joining');
  await server.kill();
  await server.start();
  await until(() => ada.getSubscription('room:x').state === 'subscribed' && bob.getSubscription('room:x').state === 'subscribed', 10000, 'both back');
  await until(async () => (await ada.presence('room:x')).length === 2, 5000, 'both present');
  const users = (await bob.presence('room:x')).map((member) => member.user).sort();
  assert.deepEqual(users, ['ada', 'bob']);
});
