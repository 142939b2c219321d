// Protocol v1 fan-out with the npm `ws` client: 1,000 subscribers on two
// workers each receive every message of a 10,000-message burst, in publish
// order, none lost or duplicated; after half of them leave, the rest still
// get everything and nothing else. Run from this folder after `npm ci`:
//   SWITCHBOARD_BIN=.../switchboard node --test hub_burst.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, it } from 'node:test';

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  throw new Error('tests/interop/node_modules is missing: run `npm ci` in tests/interop first');
}

const SUBSCRIBERS = 1000;
const BURST = 10000;
const AFTER = 100;
const CHANNEL = 'burst';

function withTimeout(promise, what, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let server;
let port;

before(async () => {
  const bin = process.env.SWITCHBOARD_BIN;
  assert.ok(bin, 'SWITCHBOARD_BIN is not set');
  // The publisher sends 10,000 messages as fast as it can: past the default
  // per-connection rate limit, which is not what this test is about.
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--workers', '2', '--limit-messages-per-s', '0',
    '--log-level', 'warn'];
  server = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  port = await withTimeout(
    new Promise((resolve, reject) => {
      server.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(seen);
        if (match) resolve(Number(match[1]));
      });
      server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
    }),
    'server start',
    15000,
  );
});

after(async () => {
  if (server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  const killer = setTimeout(() => server.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(killer);
});

// A protocol connection whose frames go to `onFrame` (parsed JSON); `request`
// sends a command and resolves with its answer.
async function open(onFrame = () => {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['switchboard.v1.json'], { perMessageDeflate: false });
  ws.on('error', () => {});
  const pending = new Map();
  let nextId = 0;
  ws.on('message', (data) => {
    const frame = JSON.parse(data);
    if ((frame.type === 'reply' || frame.type === 'error') && pending.has(frame.id)) {
      pending.get(frame.id)(frame);
      pending.delete(frame.id);
    } else {
      onFrame(frame);
    }
  });
  await withTimeout(once(ws, 'open'), 'open', 10000);
  assert.equal(ws.protocol, 'switchboard.v1.json');
  const conn = {
    ws,
    request(type, fields = {}) {
      const id = ++nextId;
      const answer = new Promise((resolve) => pending.set(id, resolve));
      ws.send(JSON.stringify({ id, type, ...fields }));
      return answer;
    },
  };
  const hello = await withTimeout(conn.request('connect'), 'connect reply', 10000);
  assert.equal(hello.type, 'reply');
  conn.worker = Number(hello.data.client) % 256;
  return conn;
}

// Per subscriber: how many messages it got and whether they came in order.
function subscriberState() {
  const state = { count: 0, nextOffset: 1, nextSeq: 0, problem: null, extra: 0 };
  state.onFrame = (frame) => {
    if (frame.type !== 'message' || frame.channel !== CHANNEL) {
      state.extra += 1;
      state.problem ??= `unexpected frame ${JSON.stringify(frame)}`;
      return;
    }
    if (frame.offset !== state.nextOffset || frame.data.seq !== state.nextSeq) {
      state.problem ??= `expected offset ${state.nextOffset} seq ${state.nextSeq}, got ${JSON.stringify(frame)}`;
    }
    state.nextOffset = frame.offset + 1;
    state.nextSeq = frame.data.seq + 1;
    state.count += 1;
  };
  return state;
}

async function waitFor(condition, what, ms) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // pacing the poll
  }
}

it('1,000 subscribers get a 10,000-message burst in order, then half leave', { timeout: 240000 }, async () => {
  const states = [];
  const subscribers = [];
  for (let start = 0; start < SUBSCRIBERS; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, SUBSCRIBERS - start) }, async () => {
        const state = subscriberState();
        const conn = await open(state.onFrame);
        const reply = await withTimeout(conn.request('subscribe', { channel: CHANNEL }), 'subscribe', 10000);
        assert.deepEqual(reply, { type: 'reply', id: 2, data: {} });
        return { conn, state };
      }),
    );
    for (const { conn, state } of batch) {
      subscribers.push(conn);
      states.push(state);
    }
  }
  const workers = new Set(subscribers.map((s) => s.worker));
  assert.deepEqual([...workers].sort(), [0, 1], 'subscribers did not land on both workers');

  const publisher = await open((frame) => assert.fail(`publisher got ${JSON.stringify(frame)}`));
  const publish = async (from, to) => {
    const replies = [];
    for (let seq = from; seq < to; seq += 1) {
      replies.push(publisher.request('publish', { channel: CHANNEL, data: { seq } }));
    }
    return Promise.all(replies);
  };

  const replies = await withTimeout(publish(0, BURST), 'burst replies', 60000);
  replies.forEach((reply, i) => {
    assert.equal(reply.type, 'reply', JSON.stringify(reply));
    assert.equal(reply.data.offset, i + 1);
  });
  await waitFor(
    () => states.every((s) => s.count >= BURST || s.problem),
    'every subscriber to get the burst',
    120000,
  );
  states.forEach((s, i) => {
    assert.equal(s.problem, null, `subscriber ${i}: ${s.problem}`);
    assert.equal(s.count, BURST, `subscriber ${i}`);
  });

  // Half leave (some with a close handshake, some by dropping TCP).
  const leaving = subscribers.splice(0, SUBSCRIBERS / 2);
  states.splice(0, SUBSCRIBERS / 2);
  leaving.forEach((s, i) => (i % 2 === 0 ? s.ws.close(1000) : s.ws.terminate()));
  await Promise.all(leaving.map((s) => (s.ws.readyState === WebSocket.CLOSED ? null : once(s.ws, 'close'))));
  for (const s of states) s.count = 0;

  const more = await withTimeout(publish(BURST, BURST + AFTER), 'second burst replies', 30000);
  assert.deepEqual(
    more.map((r) => r.data.offset),
    Array.from({ length: AFTER }, (_, i) => BURST + i + 1),
  );
  await waitFor(() => states.every((s) => s.count >= AFTER || s.problem), 'the rest to get the second burst', 30000);
  // Nothing else may arrive: one more message, delivered after anything
  // stray (a channel's messages keep their order), shows it without a wait.
  await withTimeout(publish(BURST + AFTER, BURST + AFTER + 1), 'marker reply', 30000);
  await waitFor(() => states.every((s) => s.count >= AFTER + 1 || s.problem), 'the rest to get the marker', 30000);
  states.forEach((s, i) => {
    assert.equal(s.problem, null, `subscriber ${i}: ${s.problem}`);
    assert.equal(s.count, AFTER + 1, `subscriber ${i}`);
  });

  for (const s of [...subscribers, publisher]) s.ws.close(1000);
  await Promise.all([...subscribers, publisher].map((s) => once(s.ws, 'close')));
});
