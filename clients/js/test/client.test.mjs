// The client's behaviour against a scripted server (FakeSocket): requests,
// the offline queue, subscriptions across reconnects, what ends a client,
// heartbeats, backoff and tokens. No network; timers are real but short.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client, SwitchboardError } from '../dist/index.js';
import { FakeSocket, tick, until, useFakeClients } from './support/fake_socket.mjs';

const makeClient = useFakeClients(Client);

// Opens the client's newest socket and answers its `connect`.
async function serve(client, info = { client: '1', user: 'ada' }) {
  const socket = await until(() => {
    const last = FakeSocket.last();
    return last && last.readyState === 0 ? last : null;
  }, 2000, 'a new socket');
  socket.accept();
  await until(() => socket.commands('connect').length === 1, 2000, 'connect');
  socket.replyAll('connect', info);
  await until(() => client.state === 'connected', 2000, 'connected');
  return socket;
}

test('connects with the subprotocol and the token in `connect`', async () => {
  const client = makeClient({ token: 'T' });
  const states = [];
  client.on('state', (state) => states.push(state));
  client.connect();
  const socket = await serve(client, { client: '7', user: 'ada' });
  assert.deepEqual(socket.protocols, ['switchboard.v1.json']);
  assert.equal(socket.commands('connect')[0].token, 'T');
  assert.deepEqual(states, ['connecting', 'connected']);
  assert.equal(client.clientId, '7');
  assert.equal(client.user, 'ada');
});

test('a server without the subprotocol is refused', async () => {
  const client = makeClient({ reconnect: false });
  client.connect();
  await until(() => FakeSocket.last(), 1000);
  FakeSocket.last().accept('');
  assert.equal(client.state, 'closed');
  assert.equal(FakeSocket.last().sent.length, 0);
});

test('100 requests in flight each get their own answer, in any order', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  const calls = Array.from({ length: 100 }, (_, i) => client.rpc('getUser', { n: i }));
  await until(() => socket.commands('rpc').length === 100);
  const ids = new Set(socket.commands('rpc').map((frame) => frame.id));
  assert.equal(ids.size, 100, 'every command has its own id');
  for (const frame of [...socket.commands('rpc')].reverse()) {
    socket.receive({ type: 'reply', id: frame.id, data: { echo: frame.data.n } });
  }
  const answers = await Promise.all(calls);
  assert.deepEqual(answers.map((answer) => answer.echo), Array.from({ length: 100 }, (_, i) => i));
});

test('an error answer rejects with its code; other calls are untouched', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  const bad = client.publish('bad name', 1);
  const good = client.publish('chat:a', 2);
  await until(() => socket.commands('publish').length === 2);
  const [first, second] = socket.commands('publish');
  socket.receive({ type: 'error', id: first.id, code: 106, message: 'bad channel' });
  socket.receive({ type: 'reply', id: second.id, data: { offset: 4 } });
  await assert.rejects(bad, (error) => error instanceof SwitchboardError && error.code === 106);
  assert.deepEqual(await good, { offset: 4, localOnly: false });
});

test('no answer within the timeout rejects with `timeout`', async () => {
  const client = makeClient({ requestTimeout: 20 });
  client.connect();
  await serve(client);
  await assert.rejects(client.rpc('slow'), { code: 'timeout' });
  await assert.rejects(client.presence('chat:a', { timeout: 5 }), { code: 'timeout' });
});

test('requests in flight when the connection drops reject with `disconnected`', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  const call = client.rpc('getUser');
  await until(() => socket.commands('rpc').length === 1);
  socket.drop(1006);
  await assert.rejects(call, { code: 'disconnected' });
});

test('commands made while disconnected are queued and sent after the subscriptions', async () => {
  const client = makeClient();
  const received = [];
  client.subscribe('chat:a', { onMessage: (data) => received.push(data) });
  const published = client.publish('chat:a', 'queued before connect');
  client.connect();
  const socket = await serve(client);
  await until(() => socket.commands('subscribe').length === 1);
  assert.equal(socket.commands('publish').length, 0, 'publish waits for the subscribe reply');
  socket.replyAll('subscribe');
  await until(() => socket.commands('publish').length === 1);
  assert.deepEqual(socket.sent.map((frame) => frame.type), ['connect', 'subscribe', 'publish']);
  socket.replyAll('publish', { offset: 1 });
  assert.equal((await published).offset, 1);
});

test('a full offline queue rejects at once with `queue_full`', async () => {
  const client = makeClient({ maxQueued: 2 });
  const first = client.publish('chat:a', 1);
  const second = client.publish('chat:a', 2);
  await assert.rejects(client.publish('chat:a', 3), { code: 'queue_full' });
  client.close();
  await assert.rejects(first, { code: 'closed' });
  await assert.rejects(second, { code: 'closed' });
});

test('data that is not JSON fails the call, not the connection', async () => {
  const client = makeClient();
  const cycle = {};
  cycle.self = cycle;
  await assert.rejects(client.publish('chat:a', cycle), TypeError);
  await assert.rejects(client.publish('chat:a', 10n), TypeError);
});

test('subscriptions come back after a reconnect, and see messages only while subscribed', async () => {
  const client = makeClient();
  const messages = [];
  let subscribed = 0;
  const sub = client.subscribe('chat:a', {
    onMessage: (data, context) => messages.push([data, context.offset]),
    onSubscribed: () => subscribed++,
  });
  client.connect();
  let socket = await serve(client);
  socket.replyAll('subscribe');
  await until(() => sub.state === 'subscribed');
  socket.receive({ type: 'message', channel: 'chat:a', offset: 1, data: 'one' });
  socket.drop(1006);
  assert.equal(sub.state, 'subscribing');
  socket = await serve(client, { client: '2', user: 'ada' });
  await until(() => socket.commands('subscribe').length === 1);
  socket.replyAll('subscribe');
  await until(() => sub.state === 'subscribed');
  socket.receive({ type: 'message', channel: 'chat:a', offset: 2, data: 'two' });
  assert.deepEqual(messages, [['one', 1], ['two', 2]]);
  assert.equal(subscribed, 2);
  assert.equal(client.clientId, '2');

  const done = sub.unsubscribe();
  assert.equal(sub.state, 'unsubscribed');
  await until(() => socket.commands('unsubscribe').length === 1);
  socket.replyAll('unsubscribe');
  await done;
  socket.receive({ type: 'message', channel: 'chat:a', offset: 3, data: 'three' });
  assert.equal(messages.length, 2);
});

test('a refused subscription fails with the server error and is not retried', async () => {
  const client = makeClient();
  let failure;
  const sub = client.subscribe('secret', { onError: (error) => (failure = error) });
  client.connect();
  const socket = await serve(client);
  await until(() => socket.commands('subscribe').length === 1);
  const [frame] = socket.commands('subscribe');
  socket.receive({ type: 'error', id: frame.id, code: 109, message: 'permission denied' });
  await until(() => sub.state === 'failed');
  assert.equal(failure.code, 109);
  assert.equal(client.getSubscription('secret'), undefined);
  assert.throws(() => client.subscribe('chat:b') && client.subscribe('chat:b'), /already subscribed/);
});

test('join, leave and direct messages reach their handlers', async () => {
  const client = makeClient();
  const events = [];
  client.subscribe('room:x', {
    onJoin: (member) => events.push(['join', member.user]),
    onLeave: (member) => events.push(['leave', member.user]),
  });
  client.on('direct', (message) => events.push(['direct', message.from, message.data]));
  client.connect();
  const socket = await serve(client);
  socket.replyAll('subscribe');
  await until(() => client.getSubscription('room:x').state === 'subscribed');
  socket.receive({ type: 'join', channel: 'room:x', user: 'bob', client: '9', info: null });
  socket.receive({ type: 'leave', channel: 'room:x', user: 'bob', client: '9' });
  socket.receive({ type: 'direct', from: 'carol', data: { hi: 1 } });
  assert.deepEqual(events, [['join', 'bob'], ['leave', 'bob'], ['direct', 'carol', { hi: 1 }]]);
});

for (const [name, end] of [
  ['close 4001 (invalid token)', (socket) => socket.drop(4001, 'invalid token')],
  ['a disconnect notice with reconnect false', (socket) => {
    socket.receive({ type: 'disconnect', code: 4004, reason: 'banned', reconnect: false });
    socket.drop(4004, 'banned');
  }],
  ['close 4002 with a static token', (socket) => socket.drop(4002, 'token expired')],
]) {
  test(`${name} ends the client for good`, async () => {
    const client = makeClient({ token: 'T' });
    const seen = [];
    client.on('disconnected', (info) => seen.push(info));
    client.connect();
    const socket = await serve(client);
    end(socket);
    assert.equal(client.state, 'closed');
    assert.equal(seen.at(-1).reconnect, false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(FakeSocket.all.length, 1, 'no new connection');
    await assert.rejects(client.publish('chat:a', 1), { code: 'closed' });
  });
}

test('close 4002 with getToken reconnects with a fresh token', async () => {
  let issued = 0;
  const client = makeClient({ getToken: async () => `token-${++issued}` });
  client.connect();
  let socket = await serve(client);
  assert.equal(socket.commands('connect')[0].token, 'token-1');
  socket.drop(4002, 'token expired');
  assert.equal(client.state, 'disconnected');
  socket = await serve(client);
  assert.equal(socket.commands('connect')[0].token, 'token-2');
});

test('the server\'s refresh request is answered with a new token from getToken', async () => {
  let issued = 0;
  const client = makeClient({ getToken: () => `token-${++issued}` });
  client.connect();
  const socket = await serve(client);
  socket.receive({ type: 'refresh', grace_ms: 1000 });
  await until(() => socket.commands('refresh').length === 1);
  assert.equal(socket.commands('refresh')[0].token, 'token-2');
  socket.replyAll('refresh');
  assert.equal(client.state, 'connected');
});

test('a drain (1001 with reconnect true) reconnects', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  socket.receive({ type: 'disconnect', code: 1001, reason: 'server shutting down', reconnect: true });
  socket.drop(1001, 'going away');
  assert.equal(client.state, 'disconnected');
  await serve(client);
});

test('reconnect delays grow by the factor up to the cap, jittered', async () => {
  const randoms = [0, 0.5, 0, 0, 0];
  const client = makeClient({
    reconnect: { minDelay: 4, maxDelay: 16, factor: 2 },
    random: () => randoms.shift() ?? 0,
  });
  const delays = [];
  client.on('disconnected', (info) => delays.push(info.delay));
  client.connect();
  for (let i = 0; i < 5; i++) {
    const socket = await until(() => (FakeSocket.last()?.readyState === 0 ? FakeSocket.last() : null));
    socket.drop(1006); // refused: never opened
  }
  // caps 4, 8, 16, 16, 16; the second drawn at 0.5 of its cap
  assert.deepEqual(delays, [4, 4, 16, 16, 16]);
});

test('a connection that stays up resets the backoff', async () => {
  const client = makeClient({ reconnect: { minDelay: 8, maxDelay: 64, stableAfter: 30 }, random: () => 0 });
  const delays = [];
  client.on('disconnected', (info) => delays.push(info.delay));
  client.connect();
  FakeSocket.last().drop(1006);
  await until(() => FakeSocket.all.length === 2);
  FakeSocket.last().drop(1006);
  let socket = await serve(client);
  socket.drop(1006); // up only briefly: the backoff goes on growing
  socket = await serve(client);
  await new Promise((resolve) => setTimeout(resolve, 50)); // stable
  socket.drop(1006);
  assert.deepEqual(delays, [8, 16, 32, 8]);
});

test('a silent connection (no answer to ping) is dropped and reconnected', async () => {
  const client = makeClient({ pingInterval: 15, pongTimeout: 25 });
  const seen = [];
  client.on('disconnected', (info) => seen.push(info));
  client.connect();
  const socket = await serve(client);
  await until(() => socket.commands('ping').length >= 1);
  await until(() => seen.length === 1, 1000, 'the dead connection noticed');
  assert.match(seen[0].reason, /no answer to a ping/);
  await serve(client);
});

test('a connection that answers pings stays up', async () => {
  const client = makeClient({ pingInterval: 10, pongTimeout: 15 });
  client.connect();
  const socket = await serve(client);
  const answerer = setInterval(() => {
    for (const frame of socket.commands('ping')) socket.receive({ type: 'pong', id: frame.id });
    socket.sent = socket.sent.filter((frame) => frame.type !== 'ping');
  }, 3);
  await new Promise((resolve) => setTimeout(resolve, 120));
  clearInterval(answerer);
  assert.equal(client.state, 'connected');
  assert.equal(FakeSocket.all.length, 1);
});

test('no answer to the upgrade within connectTimeout counts as a failed attempt', async () => {
  const client = makeClient({ connectTimeout: 20 });
  client.connect();
  await until(() => FakeSocket.all.length === 2, 1000, 'a second attempt');
  assert.equal(FakeSocket.all[0].closedWith === null, false);
});

test('close() stops reconnecting and rejects what waits', async () => {
  const client = makeClient();
  client.connect();
  const socket = await serve(client);
  socket.drop(1006);
  const queued = client.publish('chat:a', 'x');
  client.close();
  assert.equal(client.state, 'closed');
  await assert.rejects(queued, { code: 'closed' });
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(FakeSocket.all.length, 1);
  // and connect() starts again
  client.connect();
  await serve(client);
});

test('an unreadable frame is reported and does not break the connection', async () => {
  const client = makeClient();
  const errors = [];
  client.on('error', (error) => errors.push(error));
  client.connect();
  const socket = await serve(client);
  socket.receive('not json');
  assert.equal(errors[0].code, 'protocol');
  const call = client.rpc('x');
  await until(() => socket.commands('rpc').length === 1);
  socket.replyAll('rpc', 5);
  assert.equal(await call, 5);
});

test('URLs: http(s) maps to ws(s); anything else is refused', () => {
  assert.equal(new Client('http://h:1/x', { WebSocket: FakeSocket }).url, 'ws://h:1/x');
  assert.equal(new Client('https://h/', { WebSocket: FakeSocket }).url, 'wss://h/');
  assert.throws(() => new Client('ftp://h/', { WebSocket: FakeSocket }), /ws:\/\//);
  assert.throws(() => new Client('ws://h/', { WebSocket: FakeSocket, pingInterval: -1 }), /pingInterval/);
  void tick;
});

test('in a page, coming back online reconnects at once instead of waiting out the backoff', async () => {
  // A page's globals: `document`, and window's online event.
  const page = new EventTarget();
  globalThis.document = {};
  globalThis.addEventListener = page.addEventListener.bind(page);
  globalThis.removeEventListener = page.removeEventListener.bind(page);
  try {
    const client = makeClient({ reconnect: { minDelay: 60000, maxDelay: 60000 }, random: () => 0 });
    const delays = [];
    client.on('disconnected', (info) => delays.push(info.delay));
    client.connect();
    const socket = await serve(client);
    socket.drop(1006);
    assert.deepEqual(delays, [60000]);
    assert.equal(FakeSocket.all.length, 1);
    page.dispatchEvent(new Event('online'));
    assert.equal(FakeSocket.all.length, 2, 'a new attempt at once');
    await serve(client);
    client.close();
    page.dispatchEvent(new Event('online')); // closed: the listener is gone
    assert.equal(FakeSocket.all.length, 2);
  } finally {
    delete globalThis.document;
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  }
});
