// The SDK over wss:// to `switchboard serve` serving TLS itself: a test CA
// and an ECDSA P-256 certificate for localhost made here with the `openssl`
// command, trusted through options.WebSocket (a `ws` subclass given the CA).
// Subscribe and publish, a kill and restart (the client reconnects over TLS
// and resubscribes), and a client that does not trust the CA never connects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import WebSocket from 'ws';

import { Client } from '../../dist/node.js';
import { Server, until } from '../support/server.mjs';

let dir;
let server;
let TrustingWebSocket;
const clients = [];

function makeCertificates(where) {
  const openssl = (...args) => execFileSync('openssl', args, { cwd: where, stdio: 'pipe' });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=SDK test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', 'ca.pem');
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  writeFileSync(join(where, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-sha256', '-extfile', 'server.ext', '-out', 'server.pem');
  return { ca: join(where, 'ca.pem'), cert: join(where, 'server.pem'), key: join(where, 'server.key') };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdk-tls-'));
  const certs = makeCertificates(dir);
  const ca = readFileSync(certs.ca);
  // What an application with a private CA passes as options.WebSocket.
  TrustingWebSocket = class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca });
    }
  };
  server = new Server(['--insecure-user-query', '--tls-cert-file', certs.cert, '--tls-key-file', certs.key]);
  await server.start();
});

after(async () => {
  for (const client of clients) client.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(user, options) {
  const made = new Client(`wss://localhost:${server.port}/?user=${user}`, options);
  clients.push(made);
  return made;
}

test('subscribe and publish over wss://, then a restart: the client reconnects over TLS and resubscribes', async () => {
  const ada = client('ada', { WebSocket: TrustingWebSocket, reconnect: { minDelay: 20, maxDelay: 200 } });
  const received = [];
  let subscribed = 0;
  ada.subscribe('chat:tls', { onMessage: (data) => received.push(data), onSubscribed: () => subscribed++ });
  ada.connect();
  await until(() => subscribed === 1, 5000, 'subscribed over wss://');
  await ada.publish('chat:tls', 'secret');
  await until(() => received.length === 1, 5000, 'the message');

  await server.kill();
  await until(() => ada.state !== 'connected', 5000, 'the client to notice');
  await server.start();
  await until(() => subscribed === 2, 10000, 'resubscribed after the restart');
  await ada.publish('chat:tls', 'again');
  await until(() => received.length === 2, 5000, 'the message after the restart');
  assert.deepEqual(received, ['secret', 'again']);
});

test('a client that does not trust the CA never connects', async () => {
  const stranger = client('stranger', { reconnect: { minDelay: 20, maxDelay: 100 } });  // ws with the system's CAs
  const reasons = [];
  stranger.on('disconnected', (info) => reasons.push(info));
  stranger.connect();
  await until(() => reasons.length >= 2, 5000, 'failed attempts');
  assert.notEqual(stranger.state, 'connected');
});
