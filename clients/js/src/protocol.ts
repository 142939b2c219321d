// Protocol v1 as this client sees it (docs/PROTOCOL.md): the subprotocol
// name, the frames the server sends, and the close codes that end a client
// for good.

export const SUBPROTOCOL = 'switchboard.v1.json';

/** Ids run from 1 to 2^53 - 1 (docs/PROTOCOL.md), so they stay exact in JSON. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

export interface Member {
  user: string | null;
  client: string;
  info?: unknown;
}

export type ServerFrame =
  | { type: 'reply'; id: number; data: unknown }
  | { type: 'error'; id: number | null; code: number; message: string }
  | { type: 'pong'; id: number }
  | { type: 'message'; channel: string; offset: number; data: unknown }
  | { type: 'reset'; channel: string; epoch: string; offset: number }
  | { type: 'join'; channel: string; user: string | null; client: string; info: unknown }
  | { type: 'leave'; channel: string; user: string | null; client: string }
  | { type: 'direct'; from: string | null; data: unknown }
  | { type: 'refresh'; grace_ms: number }
  // answered: a drain answered every command it had read before this (so those
  // not answered were not run); absent from older servers and kicks.
  | { type: 'disconnect'; code: number; reason: string; reconnect: boolean; answered?: boolean };

/** Reads one text frame; null when it is not a server frame of v1. */
export function parseServerFrame(text: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const frame = value as { type?: unknown };
  return typeof frame.type === 'string' ? (frame as ServerFrame) : null;
}

// Close codes after which reconnecting cannot help (docs/PROTOCOL.md, "Close
// codes"): 4001, the token was refused. 4002 (expired) only with a static
// token, decided by the client, which knows whether it can get a new one.
export const CLOSE_INVALID_TOKEN = 4001;
export const CLOSE_TOKEN_EXPIRED = 4002;

// Upgrade answers (seen in Node only: browsers hide the HTTP status) after
// which trying the same URL again cannot help.
export const FINAL_HTTP_STATUSES = new Set([400, 401, 403, 404]);
