// Interop: the npm `ws` client (pinned in package-lock.json) against
// `switchboard serve --echo`. Run from this folder after `npm ci`:
//   SWITCHBOARD_BIN=.../switchboard node --test ws_client.test.mjs
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';

import { loadWs, startServer, stopServer, withTimeout } from './support/echo_server.mjs';

const WebSocket = loadWs();

async function connect(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, maxPayload: 64 << 20 });
  ws.on('error', () => {}); // surfaced through the awaited events instead
  await withTimeout(once(ws, 'open'), 'open');
  return ws;
}

function nextMessage(ws) {
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
      ws.once('close', (code) => reject(new Error(`closed with ${code} while waiting for a message`)));
    }),
    'echo',
  );
}

async function expectEcho(ws, payload, binary) {
  const reply = nextMessage(ws);
  ws.send(payload, { binary });
  const { data, isBinary } = await reply;
  assert.equal(isBinary, binary);
  assert.equal(data.length, Buffer.byteLength(payload));
  assert.ok(Buffer.compare(data, Buffer.from(payload)) === 0, 'echoed bytes differ');
}

function utf8Text(bytes) {
  // A string whose UTF-8 encoding is exactly `bytes` long, with 1-, 2-, 3-
  // and 4-byte characters.
  const unit = 'aé€𝄞 '; // 1 + 2 + 3 + 4 + 1 = 11 bytes
  return unit.repeat(Math.floor(bytes / 11)) + 'z'.repeat(bytes % 11);
}

const SIZES = [0, 125, 126, 65535, 65536, 1 << 20];

describe('ws client against switchboard', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    const code = await stopServer(server.proc);
    assert.equal(code, 0, 'server exit status after SIGTERM');
  });

  for (const size of SIZES) {
    it(`echoes a ${size}-byte text message`, async () => {
      const ws = await connect(server.port);
      const text = utf8Text(size);
      assert.equal(Buffer.byteLength(text), size);
      await expectEcho(ws, text, false);
      ws.terminate();
    });
    it(`echoes a ${size}-byte binary message`, async () => {
      const ws = await connect(server.port);
      await expectEcho(ws, randomBytes(size), true);
      ws.terminate();
    });
  }

  it('echoes many messages on one connection in order', async () => {
    const ws = await connect(server.port);
    const payloads = SIZES.map((n) => randomBytes(n));
    const received = [];
    const done = withTimeout(
      new Promise((resolve) => {
        ws.on('message', (data) => {
          received.push(data);
          if (received.length === payloads.length) resolve();
        });
      }),
      'all echoes',
    );
    for (const p of payloads) ws.send(p);
    await done;
    payloads.forEach((p, i) => assert.ok(Buffer.compare(p, received[i]) === 0, `message ${i} differs`));
    ws.terminate();
  });

  it('reassembles a fragmented text message', async () => {
    const ws = await connect(server.port);
    const reply = nextMessage(ws);
    // '€' split across fragments: the server validates UTF-8 across them.
    const euro = Buffer.from('€');
    ws.send(Buffer.concat([Buffer.from('part one '), euro.subarray(0, 1)]), { binary: false, fin: false });
    ws.send(euro.subarray(1), { binary: false, fin: false });
    ws.send('part two', { binary: false, fin: true });
    const { data, isBinary } = await reply;
    assert.equal(isBinary, false);
    assert.equal(data.toString(), 'part one €part two');
    ws.terminate();
  });

  it('reassembles a fragmented binary message', async () => {
    const ws = await connect(server.port);
    const parts = [randomBytes(10), randomBytes(70000), randomBytes(1)];
    const reply = nextMessage(ws);
    parts.forEach((p, i) => ws.send(p, { binary: true, fin: i === parts.length - 1 }));
    const { data, isBinary } = await reply;
    assert.equal(isBinary, true);
    assert.ok(Buffer.compare(data, Buffer.concat(parts)) === 0);
    ws.terminate();
  });

  it('answers pings with the same payload', async () => {
    const ws = await connect(server.port);
    for (const payload of [Buffer.alloc(0), Buffer.from('ping payload'), randomBytes(125)]) {
      const pong = withTimeout(once(ws, 'pong'), 'pong');
      ws.ping(payload);
      const [data] = await pong;
      assert.ok(Buffer.compare(data, payload) === 0, 'pong payload differs');
    }
    ws.terminate();
  });

  it('completes the close handshake with 1000 and a reason', async () => {
    const ws = await connect(server.port);
    await expectEcho(ws, 'before close', false);
    const closed = withTimeout(once(ws, 'close'), 'close');
    const socketClosed = withTimeout(once(ws._socket, 'close'), 'TCP close');
    ws.close(1000, 'client done');
    const [code] = await closed;
    assert.equal(code, 1000);
    await socketClosed;
  });

  it('reports 1009 for a message over the default 1 MiB limit', async () => {
    const ws = await connect(server.port);
    const closed = withTimeout(once(ws, 'close'), 'close');
    ws.send(randomBytes((1 << 20) + 1));
    const [code] = await closed;
    assert.equal(code, 1009);
  });
});
