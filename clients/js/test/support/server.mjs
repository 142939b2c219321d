// A real `switchboard serve` for the integration tests: started on a free
// loopback port, killed (SIGKILL, like a crash) and started again on the
// same port, always stopped at the end.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';

export const BINARY = process.env.SWITCHBOARD_BIN;
if (!BINARY) {
  throw new Error('SWITCHBOARD_BIN must name the switchboard binary (ctest sets it; or: SWITCHBOARD_BIN=build/release/src/cli/switchboard npm run test:integration)');
}

// The server reads SWITCHBOARD_* settings: only the test's own get through.
function cleanEnv(extra) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('SWITCHBOARD_')) env[name] = value;
  return { ...env, ...extra };
}

export class Server {
  constructor(flags = [], env = {}) {
    this.flags = flags;
    this.env = env;
    this.port = 0;
    this.process = null;
    this.log = '';
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/`;
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts it (on the port it had before, after a restart); resolves when it listens. */
  async start() {
    const child = spawn(BINARY, ['serve', '--host', '127.0.0.1', '--port', String(this.port), ...this.flags], {
      env: cleanEnv(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    child.stderr.on('data', (chunk) => (this.log += chunk));
    let out = '';
    const listening = new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = out.match(/listening on 127\.0\.0\.1:(\d+)/);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`switchboard exited (${code}) before listening: ${this.log}`)));
    });
    this.port = await withTimeout(listening, 10000, 'the server to listen');
    child.removeAllListeners('exit');
  }

  /** SIGKILL: no drain, no close frames; clients see their sockets drop. */
  async kill() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM: the server drains (answers, `disconnect`, 1001) and exits. */
  async drain() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGTERM');
    await withTimeout(exited, 30000, 'the drained server to exit');
  }

  async stop() {
    await this.kill();
  }

  async api(path, body, key) {
    const response = await fetch(this.httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `apikey ${key}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }
}

export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `check()` is truthy (polling every 10 ms). */
export async function until(check, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An HS256 JWT (RFC 7519) signed with `secret`. */
export function hs256(secret, claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
