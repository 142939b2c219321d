// Half-open connections: a peer that took the connection and then went
// silent (a crashed host, a dropped NAT entry) never reports its end over
// TCP. The client's pings find it, and it reconnects. The silent peer is
// an npm `ws` server that answers `connect` and then nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';

import { WebSocketServer } from 'ws';

import { Client } from '../../dist/node.js';
import { until } from '../support/server.mjs';

let peer;
let client;
after(() => {
  client?.close();
  peer?.close();
});

test('a peer that stops answering is found by the heartbeat and the client reconnects', async () => {
  let connections = 0;
  peer = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => [...protocols][0] });
  peer.on('connection', (socket) => {
    connections++;
    socket.once('message', (text) => {
      const command = JSON.parse(text);
      socket.send(JSON.stringify({ type: 'reply', id: command.id, data: { client: String(connections), user: null } }));
      // ...and from now on, silence: pings go unanswered.
    });
  });
  await once(peer, 'listening');
  client = new Client(`ws://127.0.0.1:${peer.address().port}/`, {
    pingInterval: 100,
    pongTimeout: 200,
    reconnect: { minDelay: 10, maxDelay: 20 },
  });
  const disconnects = [];
  client.on('disconnected', (info) => disconnects.push(info));
  client.connect();
  await until(() => client.state === 'connected', 5000, 'connected');
  const connectedAt = Date.now();
  await until(() => disconnects.length === 1, 3000, 'the silence noticed');
  const noticedAfter = Date.now() - connectedAt;
  assert.match(disconnects[0].reason, /no answer to a ping within 200 ms/);
  assert.ok(noticedAfter >= 250 && noticedAfter < 1500, `noticed after ${noticedAfter} ms`);
  await until(() => client.state === 'connected' && client.clientId === '2', 3000, 'the reconnect');
});
