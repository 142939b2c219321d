// One WebSocket connection, whatever implementation runs it: the browser's,
// Node's global one (22+), or the npm `ws` package (src/node.ts). It turns the
// socket's events into three calls — open, message, close — and reports each
// socket's end exactly once, so the client above never sees a stale socket.
// The close says whether the connection was refused before it opened, which
// the client's backoff treats apart (a restarting server).

import type { FailureKind } from './backoff.js';
import { SUBPROTOCOL } from './protocol.js';

/** What the client needs of a WebSocket (the WHATWG interface). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

// The npm `ws` package's extras, used when present: the HTTP answer to a
// refused upgrade (for its status and Retry-After), and terminate().
interface NodeWsExtras {
  on(event: 'unexpected-response', listener: (request: { destroy(): void }, response: NodeResponse) => void): void;
  terminate(): void;
}
interface NodeResponse {
  statusCode?: number;
  headers: { [name: string]: string | string[] | undefined };
}

/** The HTTP answer when the server refused the upgrade (Node only). */
export interface RefusedUpgrade {
  status: number;
  /** From Retry-After (seconds or an HTTP date), in ms. */
  retryAfterMs?: number;
}

export interface TransportEvents {
  open(): void;
  message(text: string): void;
  /**
   * The socket is gone: `code` 1006 when it ended without a close frame;
   * `failure` 'refused' when the TCP connection was refused.
   */
  close(code: number, reason: string, refused: RefusedUpgrade | undefined, failure: FailureKind): void;
}

const OPEN = 1;

export class Transport {
  private socket: WebSocketLike | null;
  private refused: RefusedUpgrade | undefined;
  private opened = false;
  // What the error event said: undefined when it gave no detail (browsers,
  // on purpose), else the system error code ('' when it had none).
  private errorCode: string | undefined;

  constructor(WebSocketImpl: WebSocketConstructor, url: string, private readonly events: TransportEvents) {
    const socket = new WebSocketImpl(url, [SUBPROTOCOL]);
    this.socket = socket;
    socket.onopen = () => {
      this.opened = true;
      if (socket.protocol !== SUBPROTOCOL) {
        // A server that does not speak v1 (or a proxy that dropped the
        // header): fail now rather than send commands it cannot read.
        this.end(1002, `server did not accept the subprotocol ${SUBPROTOCOL}`);
        return;
      }
      this.events.open();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.events.message(event.data);
      else this.end(1003, 'binary frame from the server');
    };
    socket.onerror = (event) => {
      // Always followed by a close event; only why it failed is kept.
      this.errorCode ??= systemErrorCode(event);
    };
    socket.onclose = (event) => this.finish(event.code || 1006, event.reason || '');
    const nodeWs = socket as unknown as Partial<NodeWsExtras>;
    if (typeof nodeWs.on === 'function') {
      nodeWs.on('unexpected-response', (request, response) => {
        this.refused = { status: response.statusCode ?? 0, retryAfterMs: retryAfterMs(response.headers['retry-after']) };
        request.destroy();
        this.abort();
        this.events.close(1006, `upgrade refused with HTTP ${this.refused.status}`, this.refused, 'other');
      });
    }
  }

  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.socket!.send(text);
    return true;
  }

  /** Starts a closing handshake and reports the close at once. */
  end(code: number, reason: string): void {
    const socket = this.detach();
    if (!socket) return;
    try {
      socket.close(code >= 3000 || code === 1000 ? code : 1000, reason);
    } catch {
      // Already closing: nothing more to do.
    }
    this.events.close(code, reason, undefined, 'other');
  }

  /** Drops the socket without a handshake and without an event (dead peer). */
  abort(): void {
    const socket = this.detach();
    if (!socket) return;
    const nodeWs = socket as unknown as Partial<NodeWsExtras>;
    try {
      if (typeof nodeWs.terminate === 'function') nodeWs.terminate();
      else socket.close(4000, 'heartbeat timeout');
    } catch {
      // Already closing.
    }
  }

  private finish(code: number, reason: string): void {
    if (!this.detach()) return;
    this.events.close(code, reason, this.refused, this.failureKind());
  }

  // Refused: never opened, no HTTP answer, and either ECONNREFUSED (Node's
  // `ws` says why) or no detail at all (a browser shows a failed connection
  // only as close 1006 before open, whatever the cause).
  private failureKind(): FailureKind {
    if (this.opened || this.refused) return 'other';
    return this.errorCode === undefined || this.errorCode === 'ECONNREFUSED' ? 'refused' : 'other';
  }

  // Unhooks the socket so that nothing it does later reaches the client.
  private detach(): WebSocketLike | null {
    const socket = this.socket;
    if (!socket) return null;
    this.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => {};
    return socket;
  }
}

// The system error code in an error event (`ws`: event.error.code; undici
// puts it in error.cause; Node's dual-stack connect in AggregateError's
// errors); undefined when the event carries no error at all.
function systemErrorCode(event: unknown): string | undefined {
  type Coded = { code?: unknown; cause?: Coded; errors?: Coded[] };
  const error = (event as { error?: Coded } | null)?.error;
  if (!error || typeof error !== 'object') return undefined;
  for (const candidate of [error, error.cause, ...(Array.isArray(error.errors) ? error.errors : [])]) {
    if (candidate && typeof candidate.code === 'string') return candidate.code;
  }
  return '';
}

/** Retry-After (RFC 9110 §10.2.3): seconds, or an HTTP date; ms or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
