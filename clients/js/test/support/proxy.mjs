// A TCP proxy on loopback between a client and the server, so that a test
// can cut a client's connection the way a network does: cut() destroys
// every connection through it at once (no close frame, no FIN to wait
// for), and the client's reconnect comes through the proxy again.
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

export class Proxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.server = createServer((downstream) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      const pair = [downstream, upstream];
      this.pairs.add(pair);
      const end = () => {
        this.pairs.delete(pair);
        downstream.destroy();
        upstream.destroy();
      };
      for (const socket of pair) {
        socket.on('error', end);
        socket.on('close', end);
      }
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
  }

  async start() {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get url() {
    return `ws://127.0.0.1:${this.server.address().port}/`;
  }

  /** Drops every connection through the proxy (both sides reset). */
  cut() {
    for (const pair of [...this.pairs]) for (const socket of pair) socket.resetAndDestroy();
    this.pairs.clear();
  }

  async stop() {
    this.cut();
    this.server.close();
    await once(this.server, 'close');
  }
}
