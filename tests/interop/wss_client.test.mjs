// Interop over TLS: the npm `ws` client against `switchboard serve --echo`
// serving wss:// itself, with a test CA and an ECDSA P-256 certificate for
// localhost and 127.0.0.1 made here with the `openssl` command. Echoes a
// small text, a 100 kB binary (several TLS records) and 1,000 messages in
// flight, in order; a client that does not trust the CA is refused.
// Node 18. Run from this folder after `npm ci`:
//   SWITCHBOARD_BIN=.../switchboard node --test wss_client.test.mjs
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadWs, makeCertificates, startServer, stopServer, withTimeout } from './support/echo_server.mjs';

const WebSocket = loadWs();

describe('npm ws over wss:// against switchboard serve --echo', () => {
  let dir;
  let certs;
  let server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wss-interop-'));
    certs = makeCertificates(dir);
    server = await startServer(['--tls-cert-file', certs.cert, '--tls-key-file', certs.key]);
  });

  after(async () => {
    if (server) assert.equal(await stopServer(server.proc), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(options) {
    const ws = new WebSocket(`wss://localhost:${server.port}/`, options);
    await withTimeout(once(ws, 'open'), 'open');
    return ws;
  }

  it('echoes text, a 100 kB binary and 1,000 messages in flight, in order', async () => {
    const ws = await connect({ ca: readFileSync(certs.ca) });
    const received = [];
    ws.on('message', (data, isBinary) => received.push({ data, isBinary }));
    const until = (count) => withTimeout(new Promise((resolve) => {
      const check = () => (received.length >= count ? resolve() : setTimeout(check, 5));
      check();
    }), `${count} echoes`);

    ws.send('hello over TLS');
    await until(1);
    assert.equal(received[0].data.toString(), 'hello over TLS');
    assert.equal(received[0].isBinary, false);

    const big = randomBytes(100 * 1024);
    ws.send(big);
    await until(2);
    assert.equal(received[1].isBinary, true);
    assert.ok(Buffer.compare(received[1].data, big) === 0, '100 kB binary echoed intact');

    for (let i = 0; i < 1000; i++) ws.send(`m${i}`);
    await until(1002);
    assert.deepEqual(received.slice(2).map((m) => m.data.toString()),
      Array.from({ length: 1000 }, (_, i) => `m${i}`));
    ws.close(1000);
    const [code] = await withTimeout(once(ws, 'close'), 'close');
    assert.equal(code, 1000);
  });

  it('refuses the server when the test CA is not trusted', async () => {
    const ws = new WebSocket(`wss://localhost:${server.port}/`);
    const [error] = await withTimeout(once(ws, 'error'), 'error');
    assert.match(String(error.code || error.message), /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });
});
