// Benchmark peer: the npm `ws` package as a single-threaded WebSocket server.
//
//   node bench/peers/ws/server.mjs --port P --mode echo|broadcast
//
// echo:      every text/binary message goes back to its sender, same opcode.
// broadcast: every text/binary message goes to every open connection,
//            the sender included, same opcode.
// Plain JS only: the optional native addons (bufferutil, utf-8-validate) are
// not installed, and permessage-deflate is off, so the numbers are the
// library's own. ws answers pings and completes the close handshake itself.
import { parseArgs } from 'node:util';
import { WebSocketServer, WebSocket } from 'ws';

const usage = 'usage: node server.mjs --port P --mode echo|broadcast';
let values;
try {
  ({ values } = parseArgs({
    options: { port: { type: 'string' }, mode: { type: 'string', default: 'echo' } },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const port = Number(values.port);
const mode = values.mode;
if (!Number.isInteger(port) || port < 0 || port > 65535 || !['echo', 'broadcast'].includes(mode)) {
  console.error(usage);
  process.exit(2);
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
  clientTracking: true, // wss.clients is the broadcast set
});

wss.on('connection', (socket) => {
  socket.on('error', () => {}); // a peer that misbehaves only loses its own connection
  if (mode === 'echo') {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  } else {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
  }
});

wss.on('listening', () => {
  process.stdout.write(`listening on 127.0.0.1:${wss.address().port}\n`);
});
wss.on('error', (error) => {
  console.error(`ws peer: ${error.message}`);
  process.exit(1);
});

const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
