// The Node.js entry: the same Client, on the npm `ws` package unless
// options.WebSocket says otherwise. `ws` rather than Node's global WebSocket
// (Node 22+) because it shows the HTTP answer of a refused upgrade, so the
// client can honour Retry-After and stop on 401/403.
import WebSocket from 'ws';

import { Client as BaseClient } from './client.js';
import type { ClientOptions } from './client_types.js';
import type { WebSocketConstructor } from './transport.js';

export * from './index.js';

export class Client extends BaseClient {
  constructor(url: string, options: ClientOptions = {}) {
    super(url, { ...options, WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor) });
  }
}
