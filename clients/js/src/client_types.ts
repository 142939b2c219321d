// The client's public types: its options, what its events carry, and what
// its requests take and give. Kept apart from the client's state machine
// (client.ts) so that each file stays readable on its own.

import type { ReconnectOptions } from './backoff.js';
import type { Publication, StreamPosition } from './stream.js';
import type { WebSocketConstructor } from './transport.js';

export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'closed';

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface ClientOptions {
  /** A connection token (JWT), sent in the `connect` command. */
  token?: string;
  /** Called before every connect and when the server asks for a refresh. */
  getToken?: TokenSource;
  /** Backoff between attempts; false: never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** ms between application pings while connected (default 25000; 0: none). */
  pingInterval?: number;
  /** ms of silence after a ping before the connection counts as dead (default 10000). */
  pongTimeout?: number;
  /** ms from sending a command to its answer (default 10000). */
  requestTimeout?: number;
  /** ms for the upgrade and the `connect` answer (default 10000). */
  connectTimeout?: number;
  /** Commands kept while disconnected (default 1000); more are rejected. */
  maxQueued?: number;
  /** The WebSocket class (default: the global one; the Node entry uses `ws`). */
  WebSocket?: WebSocketConstructor;
  /** The random source of the jitter, [0, 1) (default Math.random; for tests). */
  random?: () => number;
}

export interface ConnectedInfo {
  /** This connection's client id (it changes on every reconnect). */
  client: string;
  user: string | null;
}

export interface DisconnectedInfo {
  code: number;
  reason: string;
  /** Whether the client will try again (then after `delay` ms). */
  reconnect: boolean;
  delay?: number;
}

export interface DirectMessage {
  from: string | null;
  data: unknown;
}

export interface PublishResult {
  /** The message's number in the channel; 0 when nobody was subscribed (without a stream). */
  offset: number;
  /** The stream's epoch, on a channel with history. */
  epoch?: string;
  /** Redis was unreachable: only subscribers on the same node got it (offset 0, not kept). */
  localOnly: boolean;
}

export interface PublishOptions extends RequestOptions {
  /** Not delivered to this connection's own subscription (it is still kept in the history). */
  excludeSelf?: boolean;
  /**
   * What a `local_only` answer does: 'resolve' (the default) resolves with
   * localOnly true; 'reject' rejects with code 'local_only', for callers
   * that must know the message reached every node.
   */
  localOnly?: 'resolve' | 'reject';
}

export interface HistoryOptions extends RequestOptions {
  /** At most this many publications (default: all kept). */
  limit?: number;
  /** Those after this position (reverse: before it); its epoch must be the stream's. */
  since?: StreamPosition;
  /** Newest first. */
  reverse?: boolean;
}

export interface HistoryResult {
  /** The stream's epoch and its newest offset. */
  epoch: string;
  offset: number;
  publications: Publication[];
}

export interface RequestOptions {
  /** ms to wait for the answer once sent (default: the client's requestTimeout). */
  timeout?: number;
}
