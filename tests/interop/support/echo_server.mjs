// What the interop tests with npm `ws` share: the `ws` module (from this
// folder's node_modules), `switchboard serve --echo` started and stopped,
// a deadline on any awaited event, and (for wss://) a test CA with a
// certificate for localhost and 127.0.0.1 made with the `openssl` command.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export function loadWs() {
  try {
    return require('ws');
  } catch {
    throw new Error('tests/interop/node_modules is missing: run `npm ci` in tests/interop first');
  }
}

export const STEP_MS = 10000;  // any single expected event, on a loaded 2-core machine

export function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// `switchboard serve --echo` (SWITCHBOARD_BIN) on a free loopback port,
// with extraArgs: { proc, port } once it listens.
export async function startServer(extraArgs = []) {
  const bin = process.env.SWITCHBOARD_BIN;
  assert.ok(bin, 'SWITCHBOARD_BIN is not set');
  const args = ['serve', '--echo', '--host', '127.0.0.1', '--port', '0', '--workers', '2', ...extraArgs];
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

// SIGTERM (SIGKILL after 10 s); its exit code.
export async function stopServer(proc) {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), 10000);
  const [code] = await exited;
  clearTimeout(killer);
  return code;
}

// A test CA and an ECDSA P-256 server certificate it signs, in dir.
export function makeCertificates(dir) {
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
