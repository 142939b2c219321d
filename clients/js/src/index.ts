// The browser entry (no runtime dependencies): the global WebSocket.
export { Client } from './client.js';
export type {
  ClientOptions,
  ClientState,
  ConnectedInfo,
  DirectMessage,
  DisconnectedInfo,
  PublishResult,
  RequestOptions,
  TokenSource,
} from './client.js';
export { SwitchboardError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { Subscription } from './subscription.js';
export type { MessageContext, SubscribeOptions, SubscriptionHandlers, SubscriptionState } from './subscription.js';
export type { Member } from './protocol.js';
export type { ReconnectOptions } from './backoff.js';
export { backoffCap, backoffDelay, reconnectPolicy } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './transport.js';
