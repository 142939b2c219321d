// Tokens and what ends a client, against a real server: refresh of
// short-lived tokens, a refused token, the HTTP API's disconnect, and an
// upgrade refused with Retry-After.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Client } from '../../dist/node.js';
import { Server, hs256, until } from '../support/server.mjs';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const API_KEY = 'test-api-key';
const servers = [];
const clients = [];
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) await server.stop();
});

async function authServer(flags = []) {
  const server = new Server(flags, {
    SWITCHBOARD_AUTH_HMAC_SECRET: SECRET,
    SWITCHBOARD_AUTH_LEEWAY_S: '0',
    SWITCHBOARD_AUTH_REFRESH_GRACE_MS: '1000',
    SWITCHBOARD_API_KEY: API_KEY,
  });
  servers.push(server);
  await server.start();
  return server;
}

function track(client) {
  clients.push(client);
  const seen = { states: [], errors: [], disconnects: [] };
  client.on('state', (state) => seen.states.push(state));
  client.on('error', (error) => seen.errors.push(error));
  client.on('disconnected', (info) => seen.disconnects.push(info));
  return seen;
}

const token = (user, ttlSeconds) => {
  const now = Math.floor(Date.now() / 1000);
  return hs256(SECRET, { sub: user, iat: now, exp: now + ttlSeconds });
};

test('getToken renews a short-lived token when the server asks, on the same connection', async () => {
  const server = await authServer();
  let issued = 0;
  const client = new Client(server.url, {
    getToken: () => {
      issued++;
      // Two seconds at most (the second is floored): enough for the upgrade
      // on a loaded machine, where a 1 s token could expire first (401).
      return token('ada', 2);
    },
  });
  const seen = track(client);
  client.connect();
  await until(() => client.state === 'connected', 5000, 'connected');
  assert.equal(client.user, 'ada');
  const clientId = client.clientId;
  await until(() => issued >= 3, 15000, 'two refreshes');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(client.state, 'connected');
  assert.equal(client.clientId, clientId, 'the same connection');
  assert.deepEqual(seen.disconnects, []);
  assert.deepEqual(seen.errors, []);
});

test('a static token that expires ends the client (4002), with an error saying why', async () => {
  const server = await authServer();
  const client = new Client(server.url, { token: token('ada', 2) });
  const seen = track(client);
  client.connect();
  await until(() => client.state === 'closed', 15000, 'closed');
  assert.equal(seen.disconnects.at(-1).code, 4002);
  assert.equal(seen.disconnects.at(-1).reconnect, false);
  assert.ok(seen.errors.some((error) => /no getToken/.test(error.message)));
});

test('a refused token closes for good: one attempt, error 120', async () => {
  const server = await authServer();
  const client = new Client(server.url, { token: 'not.a.token', reconnect: { minDelay: 10 } });
  const seen = track(client);
  client.connect();
  await until(() => client.state === 'closed', 5000, 'closed');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(seen.states.filter((state) => state === 'connecting').length, 1, 'no second attempt');
  assert.equal(seen.errors[0].code, 120);
  assert.equal(seen.disconnects.at(-1).code, 4001);
});

test('the HTTP API disconnect: reconnect false ends the client, reconnect true brings it back', async () => {
  const server = await authServer();
  const stays = new Client(server.url, { token: token('bob', 300), reconnect: { minDelay: 10 } });
  const leaves = new Client(server.url, { token: token('ada', 300), reconnect: { minDelay: 10 } });
  const staysSeen = track(stays);
  const leavesSeen = track(leaves);
  stays.connect();
  leaves.connect();
  await until(() => stays.state === 'connected' && leaves.state === 'connected', 5000, 'connected');

  const kicked = await server.api('/api/disconnect', { user: 'bob', reason: 'moved', reconnect: true }, API_KEY);
  assert.equal(kicked.body.disconnected, 1);
  await until(() => staysSeen.disconnects.length === 1 && stays.state === 'connected', 5000, 'bob back');
  assert.equal(staysSeen.disconnects[0].reason, 'moved');

  const banned = await server.api('/api/disconnect', { user: 'ada', reason: 'banned', code: 4009 }, API_KEY);
  assert.equal(banned.body.disconnected, 1);
  await until(() => leaves.state === 'closed', 5000, 'ada closed');
  assert.deepEqual(leavesSeen.disconnects.at(-1), { code: 4009, reason: 'banned', reconnect: false });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(leavesSeen.states.filter((state) => state === 'connecting').length, 1);
});

test('an upgrade refused with Retry-After waits at least that long', async () => {
  const server = await authServer(['--max-connections-per-address', '1']);
  const first = new Client(server.url, { token: token('ada', 300) });
  const second = new Client(server.url, { token: token('bob', 300), reconnect: { minDelay: 10, maxDelay: 20 } });
  track(first);
  const seen = track(second);
  first.connect();
  await until(() => first.state === 'connected', 5000, 'the first client');
  second.connect();
  await until(() => seen.disconnects.length === 1, 5000, 'the refusal');
  // The server's Retry-After is 1 to 5 s; the backoff alone would be <= 20 ms.
  assert.ok(seen.disconnects[0].delay >= 1000, `delay ${seen.disconnects[0].delay}`);
  assert.match(seen.disconnects[0].reason, /HTTP 429/);
  first.close();
  await until(() => second.state === 'connected', 8000, 'the second client after the first left');
});
