// Interop over TLS: the npm `ws` client against `switchboard serve --echo`
// serving wss:// itself, with a test CA and an ECDSA P-256 certificate for
// localhost and 127.0.0.1 made here with the `openssl` command. Echoes a
// small text, a 100 kB binary (several TLS records) and 1,000 messages in
// flight, in order; a client that does not trust the CA is refused.
// Node 18. Run from this folder after `npm ci`:
//   SWITCHBOARD_BIN=.../switchboard node --test wss_client.test.mjs
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  throw new Error('tests/interop/node_modules is missing: run `npm ci` in tests/interop first');
}

const STEP_MS = 10000;  // any single expected event, on a loaded 2-core machine

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A test CA and a server certificate it signs, in dir.
function makeCertificates(dir) {
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=wss interop CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', 'ca.pem');
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-sha256', '-extfile', 'server.ext', '-out', 'server.pem');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

async function startServer(certs) {
  const bin = process.env.SWITCHBOARD_BIN;
  assert.ok(bin, 'SWITCHBOARD_BIN is not set');
  const args = ['serve', '--echo', '--host', '127.0.0.1', '--port', '0', '--workers', '2',
    '--tls-cert-file', certs.cert, '--tls-key-file', certs.key];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      proc.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(seen);
        if (match) resolve(Number(match[1]));
      });
      proc.on('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${seen}`)));
    }),
    'server start',
    15000,
  );
  return { proc, port };
}

async function stopServer(proc) {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), 10000);
  const [code] = await exited;
  clearTimeout(killer);
  return code;
}

describe('npm ws over wss:// against switchboard serve --echo', () => {
  let dir;
  let certs;
  let server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wss-interop-'));
    certs = makeCertificates(dir);
    server = await startServer(certs);
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
