// An in-memory WebSocket for the unit tests: the test plays the server.
// Each `new FakeSocket()` is recorded in `FakeSocket.all`; the test opens it,
// reads what the client sent, and answers or closes.
import { afterEach, beforeEach } from 'node:test';

export class FakeSocket {
  static all = [];

  static reset() {
    FakeSocket.all = [];
  }

  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.protocol = '';
    this.sent = [];
    this.closedWith = null;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeSocket.all.push(this);
  }

  send(text) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // ---- the test's side

  accept(protocol = 'switchboard.v1.json') {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }

  receive(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  drop(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The commands of this type sent so far. */
  commands(type) {
    return this.sent.filter((frame) => frame.type === type);
  }

  /** Answers every unanswered command of this type with reply `data`. */
  replyAll(type, data = {}) {
    this.answered ??= new Set();
    for (const frame of this.commands(type)) {
      if (this.answered.has(frame.id)) continue;
      this.answered.add(frame.id);
      this.receive({ type: 'reply', id: frame.id, data: typeof data === 'function' ? data(frame) : data });
    }
  }
}

/** Waits until `check()` is truthy (polling), or fails after `ms`. */
export async function until(check, ms = 2000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Fails a socket that never opened, as `ws` does: an error event carrying
 * the system error (code undefined: no detail, as in a browser), then close 1006.
 */
export function refuse(socket, code) {
  socket.readyState = 3;
  socket.onerror?.(code === undefined ? {} : { error: Object.assign(new Error(`connect ${code}`), { code }) });
  socket.onclose?.({ code: 1006, reason: '' });
}

// For a test file of clients on FakeSocket: returns makeClient(options),
// which makes a Client (reconnecting after 5-40 ms; its 'error' events are
// left to the tests that look for them), and registers the hooks that
// start each test with no sockets and close every client it made.
export function useFakeClients(Client) {
  const clients = [];
  beforeEach(() => FakeSocket.reset());
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  return (options = {}) => {
    const client = new Client('ws://127.0.0.1:1/', {
      WebSocket: FakeSocket,
      reconnect: { minDelay: 5, maxDelay: 40 },
      ...options,
    });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
}
