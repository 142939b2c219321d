// A throwaway redis-server for a browser test: on a free loopback port, with
// nothing saved to disk, ready (answers PING) when start() resolves, killed
// by stop(). /usr/bin/redis-server comes from scripts/bootstrap.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';

const REDIS_SERVER = '/usr/bin/redis-server';
const START_MS = 10000;

// A port that was free a moment ago (redis-server cannot pick one itself).
async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// Resolves true when something on `port` answers PING with PONG.
function pongs(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
  });
}

export class RedisServer {
  constructor() {
    this.proc = null;
    this.port = 0;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(output) {
    assert.ok(existsSync(REDIS_SERVER), `${REDIS_SERVER} is missing: apt-get install redis-server (scripts/bootstrap does)`);
    this.port = await freePort();
    this.proc = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (chunk) => output.push(`redis-server: ${String(chunk).trimEnd()}`));
    const deadline = Date.now() + START_MS;
    while (!(await pongs(this.port))) {
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        this.stop();
        throw new Error(`redis-server did not start on port ${this.port} within ${START_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // pacing the poll
    }
  }

  // SIGKILL: nothing to keep; synchronous, so it also serves process 'exit'.
  stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
