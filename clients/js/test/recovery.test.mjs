// History and recovery against a scripted server (FakeSocket): the position
// a subscription keeps, `recover` on every resubscribe, recovered
// publications before live ones and each once, a failed recovery, `latest`,
// `history`, a `local_only` publish, and the reconnect delay after a refused
// connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client, SwitchboardError } from '../dist/index.js';
import { FakeSocket, refuse, until, useFakeClients } from './support/fake_socket.mjs';
import { message, recorder, serve, subscribeCommand } from './support/stream_server.mjs';

const makeClient = useFakeClients(Client);

test('a resubscribe recovers from the position: recovered publications first, in order, then live ones, each once', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  let socket = await serve(client);
  const first = await subscribeCommand(socket);
  assert.equal(first.recover, undefined, 'nothing to recover from yet');
  assert.equal(first.since, undefined);
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset: 5 });
  assert.deepEqual(seen.subscribed[0], { recoverable: true, wasRecovering: false, recovered: false, epoch: 'E1', offset: 5 });
  socket.receive(message(6));
  socket.receive(message(7));
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 7 });

  socket.drop(1006);
  socket = await serve(client);
  const again = await subscribeCommand(socket);
  assert.equal(again.recover, true);
  assert.deepEqual(again.since, { epoch: 'E1', offset: 7 });
  // The reply and the live messages after it in one read (`ws` emits a
  // read's frames synchronously): the first live one must not be lost.
  socket.receive({
    type: 'reply',
    id: again.id,
    data: {
      recoverable: true, epoch: 'E1', offset: 10, recovered: true,
      publications: [{ offset: 7, data: 'm7' }, { offset: 8, data: 'm8' }, { offset: 9, data: 'm9' }, { offset: 10, data: 'm10' }],
    },
  });
  socket.receive(message(10)); // a duplicate of the recovered one
  socket.receive(message(11));
  socket.receive(message(11)); // and of a live one
  socket.receive(message(12));
  assert.deepEqual(seen.messages, [
    ['m6', 6, false], ['m7', 7, false],
    ['m8', 8, true], ['m9', 9, true], ['m10', 10, true],
    ['m11', 11, false], ['m12', 12, false],
  ]);
  assert.deepEqual(seen.subscribed[1], {
    recoverable: true, wasRecovering: true, since: { epoch: 'E1', offset: 7 }, recovered: true, epoch: 'E1', offset: 10,
  });
  assert.deepEqual(seen.failed, []);
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 12 });

  // And the next resubscribe goes on from there.
  socket.drop(1006);
  socket = await serve(client);
  assert.deepEqual((await subscribeCommand(socket)).since, { epoch: 'E1', offset: 12 });
});

test('a failed recovery (a new epoch) is its own event, and the position becomes the reply\'s', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  let socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset: 40 });
  socket.receive(message(41));
  socket.drop(1006);

  socket = await serve(client);
  assert.deepEqual((await subscribeCommand(socket)).since, { epoch: 'E1', offset: 41 });
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E2', offset: 2, recovered: false });
  const context = { recoverable: true, wasRecovering: true, since: { epoch: 'E1', offset: 41 }, recovered: false, epoch: 'E2', offset: 2 };
  assert.deepEqual(seen.failed, [context]);
  assert.deepEqual(seen.subscribed.at(-1), context);
  assert.deepEqual(sub.position, { epoch: 'E2', offset: 2 });
  socket.receive(message(2)); // already in the state the application reloads
  socket.receive(message(3)); // a lower offset than before, but of the new epoch
  assert.deepEqual(seen.messages, [['m41', 41, false], ['m3', 3, false]]);
});

test('a channel without a stream: no recover, no position, messages as they come', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  let socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', {});
  assert.deepEqual(seen.subscribed[0], { recoverable: false, wasRecovering: false, recovered: false, epoch: null, offset: null });
  socket.receive(message(3));
  socket.receive(message(3));
  assert.equal(sub.position, null);
  socket.drop(1006);
  socket = await serve(client);
  const again = await subscribeCommand(socket);
  assert.equal(again.recover, undefined);
  socket.replyAll('subscribe', {});
  socket.receive(message(1)); // a restarted server numbers from 1 again
  assert.deepEqual(seen.messages.map(([, offset]) => offset), [3, 3, 1]);
  assert.deepEqual(seen.failed, []);
});

test('history turned off while away: recovery failed, and no position any more', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  let socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset: 0 });
  socket.drop(1006);
  socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', { recoverable: false, recovered: false });
  assert.deepEqual(seen.failed, [{
    recoverable: false, wasRecovering: true, since: { epoch: 'E1', offset: 0 }, recovered: false, epoch: null, offset: null,
  }]);
  assert.equal(sub.position, null);
});

test('`since` recovers on the first subscribe; `latest` is asked every time and handed over', async () => {
  const client = makeClient();
  const { seen } = recorder(client, { since: { epoch: 'E1', offset: 3 }, latest: true });
  assert.throws(() => client.subscribe('chat:b', {}, { since: { epoch: 'E1', offset: -1 } }), /since/);
  client.connect();
  const socket = await serve(client);
  const command = await subscribeCommand(socket);
  assert.equal(command.recover, true);
  assert.deepEqual(command.since, { epoch: 'E1', offset: 3 });
  assert.equal(command.latest, true);
  socket.replyAll('subscribe', {
    recoverable: true, epoch: 'E1', offset: 4, recovered: true,
    publications: [{ offset: 4, data: 'm4' }], latest: { offset: 4, data: 'm4' },
  });
  assert.deepEqual(seen.subscribed[0].latest, { offset: 4, data: 'm4' });
  assert.deepEqual(seen.messages, [['m4', 4, true]]);
});

test('history(): the request as the protocol has it, the reply, and its errors', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  const all = client.history('chat:a');
  const some = client.history('chat:a', { limit: 2, since: { epoch: 'E1', offset: 5 }, reverse: true });
  await until(() => socket.commands('history').length === 2);
  const [plain, full] = socket.commands('history');
  assert.deepEqual(Object.keys(plain).sort(), ['channel', 'id', 'type']);
  assert.deepEqual({ ...full, id: 0 }, { id: 0, type: 'history', channel: 'chat:a', limit: 2, since: { epoch: 'E1', offset: 5 }, reverse: true });
  socket.receive({ type: 'reply', id: plain.id, data: { epoch: 'E1', offset: 7, publications: [{ offset: 6, data: 'a' }, { offset: 7, data: 'b' }] } });
  socket.receive({ type: 'error', id: full.id, code: 124, message: 'unrecoverable position' });
  assert.deepEqual(await all, { epoch: 'E1', offset: 7, publications: [{ offset: 6, data: 'a' }, { offset: 7, data: 'b' }] });
  await assert.rejects(some, (error) => error instanceof SwitchboardError && error.code === 124);
  await assert.rejects(client.history('chat:a', { limit: -1 }), RangeError);
});

test('a local_only publish resolves as such, or rejects when asked to; a stream publish gives its epoch', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  const plain = client.publish('chat:a', 1);
  const strict = client.publish('chat:a', 2, { localOnly: 'reject' });
  const kept = client.publish('chat:a', 3, { localOnly: 'reject' });
  await until(() => socket.commands('publish').length === 3);
  const [a, b, c] = socket.commands('publish');
  socket.receive({ type: 'reply', id: a.id, data: { offset: 0, local_only: true } });
  socket.receive({ type: 'reply', id: b.id, data: { offset: 0, local_only: true } });
  socket.receive({ type: 'reply', id: c.id, data: { offset: 9, epoch: 'E1' } });
  assert.deepEqual(await plain, { offset: 0, localOnly: true });
  await assert.rejects(strict, (error) => error instanceof SwitchboardError && error.code === 'local_only');
  assert.deepEqual(await kept, { offset: 9, epoch: 'E1', localOnly: false });
});

test('while the connection is refused the delay stays under a second; other failures back off', async () => {
  const client = makeClient({ reconnect: { minDelay: 400, maxDelay: 60000, factor: 4 }, random: () => 0 });
  const delays = [];
  client.on('disconnected', (info) => delays.push(info.delay));
  client.connect();
  const next = async (count) => until(() => FakeSocket.all.length === count && FakeSocket.last(), 3000, `attempt ${count}`);
  refuse(await next(1), 'ECONNREFUSED'); // cap 400
  refuse(await next(2), 'ECONNREFUSED'); // cap 1600, refused: 1000
  refuse(await next(3), undefined); // a browser: no detail, never opened: refused
  assert.deepEqual(delays, [400, 1000, 1000]);
  // A DNS failure (Node says why) is not a restarting server.
  client.close();
  const other = makeClient({ reconnect: { minDelay: 400, maxDelay: 60000, factor: 4 }, random: () => 0 });
  const otherDelays = [];
  other.on('disconnected', (info) => otherDelays.push(info.delay));
  other.connect();
  refuse(await next(4), 'ENOTFOUND');
  assert.deepEqual(otherDelays, [400]);
  other.close();
});

test('a connection lost after it opened keeps the exponential backoff', async () => {
  const client = makeClient({ reconnect: { minDelay: 2000, maxDelay: 60000 }, random: () => 0 });
  const delays = [];
  client.on('disconnected', (info) => delays.push(info.delay));
  client.connect();
  const socket = await serve(client);
  socket.drop(1006);
  assert.deepEqual(delays, [2000]); // the full cap, not the refused one's 1000
});

test('its own excludeSelf publishes are not handed back by a recovery', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  let socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset: 1 });
  const own = client.publish('chat:a', 'mine', { excludeSelf: true });
  await until(() => socket.commands('publish').length === 1);
  assert.equal(socket.commands('publish')[0].exclude_self, true);
  socket.replyAll('publish', { offset: 2, epoch: 'E1' });
  await own;
  socket.drop(1006);
  socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', {
    recoverable: true, epoch: 'E1', offset: 3, recovered: true,
    publications: [{ offset: 2, data: 'mine' }, { offset: 3, data: 'theirs' }],
  });
  assert.deepEqual(seen.messages, [['theirs', 3, true]]);
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 3 });
});
