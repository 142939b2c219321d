// Requests against a real server: rpc through the server's HTTP rpc proxy
// (a Node http server here), send to a user, errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { Client, SwitchboardError } from '../../dist/node.js';
import { Server, until } from '../support/server.mjs';

let backend;
let server;
const clients = [];

before(async () => {
  // The rpc backend: answers {method, echo: data, user} after a random delay,
  // so answers come back in another order than the calls went out.
  backend = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const call = JSON.parse(body);
      setTimeout(() => {
        if (call.method === 'fail') {
          response.writeHead(500).end('backend says no');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ method: call.method, echo: call.data, user: call.user }));
      }, Math.random() * 50);
    });
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  server = new Server(['--insecure-user-query', '--rpc-proxy-url', `http://127.0.0.1:${backend.address().port}/rpc`]);
  await server.start();
});

after(async () => {
  for (const client of clients) client.close();
  await server?.stop();
  backend?.close();
});

async function connected(user) {
  const client = new Client(`${server.url}?user=${user}`);
  clients.push(client);
  client.connect();
  await until(() => client.state === 'connected', 5000, `${user} connected`);
  return client;
}

test('100 concurrent rpcs resolve to the right callers', async () => {
  const client = await connected('ada');
  const answers = await Promise.all(Array.from({ length: 100 }, (_, n) => client.rpc('getUser', { n })));
  answers.forEach((answer, n) => assert.deepEqual(answer, { method: 'getUser', echo: { n }, user: 'ada' }));
});

test('rpcs of two clients never cross', async () => {
  const [ada, bob] = await Promise.all([connected('ada'), connected('bob')]);
  const calls = [];
  for (let n = 0; n < 50; n++) {
    calls.push(ada.rpc('who', n).then((answer) => assert.deepEqual([answer.user, answer.echo], ['ada', n])));
    calls.push(bob.rpc('who', n).then((answer) => assert.deepEqual([answer.user, answer.echo], ['bob', n])));
  }
  await Promise.all(calls);
});

test('a failing rpc rejects with the server error code', async () => {
  const client = await connected('ada');
  await assert.rejects(client.rpc('fail'), (error) => error instanceof SwitchboardError && error.code === 115);
  await assert.rejects(client.rpc('bad method!'), { code: 108 });
});

test('send reaches every connection of the user', async () => {
  const [ada, bob] = await Promise.all([connected('ada'), connected('bob')]);
  const got = [];
  bob.on('direct', (message) => got.push(message));
  assert.deepEqual(await ada.send('bob', { text: 'psst' }), { online: true });
  assert.deepEqual(await ada.send('nobody', 1), { online: false });
  await until(() => got.length === 1, 5000, 'the direct message');
  assert.deepEqual(got[0], { from: 'ada', data: { text: 'psst' } });
});
