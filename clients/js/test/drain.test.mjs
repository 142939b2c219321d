// A server's drain as the client sees it, against a scripted server
// (FakeSocket): after a `disconnect` with answered: true, the requests
// still waiting were not run, so they go again after the reconnect, in
// their order and before what was queued later, and each settles once;
// without answered: true they fail `disconnected` as before. A drain
// (reconnect: true) is no failure for the backoff: a client moved twice
// in a row waits the first step's delay each time. No network.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client } from '../dist/index.js';
import { FakeSocket, until, useFakeClients } from './support/fake_socket.mjs';

const makeClient = useFakeClients(Client);

// Opens the client's newest socket and answers its `connect`.
async function serve(client) {
  const socket = await until(() => {
    const last = FakeSocket.last();
    return last && last.readyState === 0 ? last : null;
  }, 2000, 'a new socket');
  socket.accept();
  await until(() => socket.commands('connect').length === 1, 2000, 'connect');
  socket.replyAll('connect', { client: '1', user: 'ada' });
  await until(() => client.state === 'connected', 2000, 'connected');
  return socket;
}

function drain(socket, answered) {
  const notice = { type: 'disconnect', code: 1001, reason: 'server shutting down', reconnect: true };
  socket.receive(answered === undefined ? notice : { ...notice, answered });
  socket.drop(1001, 'going away');
}

test('after a drain that answered everything, the unanswered requests go again first, in order', async () => {
  const client = makeClient();
  client.connect();
  const first = await serve(client);
  const answeredBefore = client.publish('chat:a', 1);
  const waiting = [client.publish('chat:a', 2), client.rpc('slow', 3), client.publish('chat:a', 4)];
  await until(() => first.commands('publish').length === 3 && first.commands('rpc').length === 1);
  first.receive({ type: 'reply', id: first.commands('publish')[0].id, data: { offset: 1 } });
  drain(first, true);
  const later = client.publish('chat:a', 5); // queued while away
  const second = await serve(client);
  await until(() => second.sent.length === 5, 2000, 'everything sent again');
  assert.deepEqual(
    second.sent.slice(1).map((frame) => [frame.type, frame.data]),
    [['publish', 2], ['rpc', 3], ['publish', 4], ['publish', 5]],
  );
  second.replyAll('publish', { offset: 9 });
  second.replyAll('rpc', 'done');
  assert.equal((await answeredBefore).offset, 1);
  const results = await Promise.all([...waiting, later]);
  assert.deepEqual(results.map((result) => result.offset ?? result), [9, 'done', 9, 9]);
});

for (const [name, answered] of [['answered: false', false], ['no answered field (an older server)', undefined]]) {
  test(`after a drain with ${name}, the unanswered requests fail 'disconnected'`, async () => {
    const client = makeClient();
    client.connect();
    const socket = await serve(client);
    const call = client.publish('chat:a', 1);
    await until(() => socket.commands('publish').length === 1);
    drain(socket, answered);
    await assert.rejects(call, { code: 'disconnected' });
    const again = await serve(client);
    assert.equal(again.commands('publish').length, 0);
  });
}

test('a drain does not count as a failure: moved twice, the client waits the first delay each time', async () => {
  const client = makeClient({ reconnect: { minDelay: 8, maxDelay: 64, stableAfter: 60000 }, random: () => 0 });
  const delays = [];
  client.on('disconnected', (info) => delays.push(info.delay));
  client.connect();
  FakeSocket.last().drop(1006); // a failure: the next one waits longer
  let socket = await serve(client);
  drain(socket, true);
  socket = await serve(client);
  drain(socket, true);
  socket = await serve(client);
  socket.drop(1006); // a failure again, after one before the drains
  assert.deepEqual(delays, [8, 8, 8, 16]);
});
