// The server's `reset` and unnumbered messages against a scripted server
// (FakeSocket): a reset is told like a failed recovery and moves the
// position to the new epoch's, whose messages are then delivered even at
// offsets the old epoch had passed; a message with offset 0 (published while
// the broker was unreachable) is always delivered and moves nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client } from '../dist/index.js';
import { FakeSocket, until, useFakeClients } from './support/fake_socket.mjs';
import { message, recorder, serve, subscribeCommand } from './support/stream_server.mjs';

const makeClient = useFakeClients(Client);

const reset = (epoch, offset, channel = 'chat:a') => ({ type: 'reset', channel, epoch, offset });

// A client subscribed to chat:a at (E1, offset).
async function subscribedAt(offset) {
  const client = makeClient();
  const recorded = recorder(client);
  client.connect();
  const socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset });
  return { client, socket, ...recorded };
}

test('a reset is a failed recovery with reset: true; messages 1, 2 of the new epoch are delivered, and a reconnect recovers from there', async () => {
  const { client, socket, sub, seen } = await subscribedAt(5);
  socket.receive(message(6));
  socket.receive(message(7));
  socket.receive(reset('E2', 0));
  assert.deepEqual(seen.failed, [{
    recoverable: true, wasRecovering: false, since: { epoch: 'E1', offset: 7 }, recovered: false, epoch: 'E2', offset: 0, reset: true,
  }]);
  assert.equal(seen.subscribed.length, 1, 'a reset is not a subscribe');
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(sub.position, { epoch: 'E2', offset: 0 });
  socket.receive(message(1));
  socket.receive(message(2));
  socket.receive(message(2)); // a duplicate within the new epoch is still one
  assert.deepEqual(seen.messages, [['m6', 6, false], ['m7', 7, false], ['m1', 1, false], ['m2', 2, false]]);
  assert.deepEqual(sub.position, { epoch: 'E2', offset: 2 });

  socket.drop(1006);
  const again = await serve(client);
  assert.deepEqual((await subscribeCommand(again)).since, { epoch: 'E2', offset: 2 });
});

test('a reset in the same epoch (publications this node missed) jumps the position: the next message after it is delivered', async () => {
  const { socket, sub, seen } = await subscribedAt(3);
  socket.receive(message(4));
  socket.receive(reset('E1', 9));
  assert.equal(seen.failed.length, 1);
  assert.deepEqual(seen.failed[0].since, { epoch: 'E1', offset: 4 });
  assert.equal(seen.failed[0].offset, 9);
  socket.receive(message(10));
  assert.deepEqual(seen.messages.map(([, offset]) => offset), [4, 10]);
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 10 });
});

test('a reset for a channel not subscribed, not yet subscribed, or unsubscribed, or not well formed, is ignored', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  const socket = await serve(client);
  await subscribeCommand(socket);
  socket.receive(reset('E9', 0)); // before the subscribe reply: the reply gives the position
  socket.replyAll('subscribe', { recoverable: true, epoch: 'E1', offset: 5 });
  socket.receive(reset('E2', 0, 'chat:b'));
  socket.receive({ type: 'reset', channel: 'chat:a', offset: 0 }); // no epoch
  socket.receive(reset('E2', -1));
  assert.deepEqual(seen.failed, []);
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 5 });
  socket.receive(message(6));
  assert.deepEqual(seen.messages, [['m6', 6, false]]);

  await sub.unsubscribe();
  socket.receive(reset('E2', 0));
  assert.deepEqual(seen.failed, []);
});

test('after a reset, the offsets of its own old-epoch excludeSelf publishes are delivered again', async () => {
  const { client, socket, seen } = await subscribedAt(1);
  const own = client.publish('chat:a', 'mine', { excludeSelf: true });
  await until(() => socket.commands('publish').length === 1);
  socket.replyAll('publish', { offset: 2, epoch: 'E1' });
  await own;
  socket.receive(reset('E2', 1));
  socket.receive(message(2, 'theirs'));
  assert.deepEqual(seen.messages, [['theirs', 2, false]]);
});

test('offset 0 between numbered messages is delivered in order, every time, and does not move the position', async () => {
  const { socket, sub, seen } = await subscribedAt(5);
  socket.receive(message(6));
  socket.receive(message(0, 'local'));
  assert.deepEqual(sub.position, { epoch: 'E1', offset: 6 });
  socket.receive(message(0, 'local')); // the same again: never a duplicate
  socket.receive(message(7));
  socket.receive(reset('E2', 0));
  socket.receive(message(0, 'after reset'));
  socket.receive(message(1));
  assert.deepEqual(seen.messages, [
    ['m6', 6, false], ['local', 0, false], ['local', 0, false], ['m7', 7, false], ['after reset', 0, false], ['m1', 1, false],
  ]);
  assert.deepEqual(sub.position, { epoch: 'E2', offset: 1 });
});

test('offset 0 on a channel without a stream is delivered too, with no position', async () => {
  const client = makeClient();
  const { sub, seen } = recorder(client);
  client.connect();
  const socket = await serve(client);
  await subscribeCommand(socket);
  socket.replyAll('subscribe', {});
  socket.receive(message(0, 'a'));
  socket.receive(message(0, 'b'));
  assert.deepEqual(seen.messages, [['a', 0, false], ['b', 0, false]]);
  assert.equal(sub.position, null);
});
