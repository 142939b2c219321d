// The browser entry (no runtime dependencies): the global WebSocket.
export { Client } from './client.js';
export type {
  ClientOptions,
  ClientState,
  ConnectedInfo,
  DirectMessage,
  DisconnectedInfo,
  HistoryOptions,
  HistoryResult,
  PublishOptions,
  PublishResult,
  RequestOptions,
  TokenSource,
} from './client_types.js';
export { SwitchboardError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { Subscription } from './subscription.js';
export type {
  MessageContext,
  SubscribedContext,
  SubscribeOptions,
  SubscriptionHandlers,
  SubscriptionState,
} from './subscription.js';
export type { Publication, StreamPosition } from './stream.js';
export type { Member } from './protocol.js';
export type { FailureKind, ReconnectOptions } from './backoff.js';
export { backoffCap, backoffDelay, reconnectPolicy } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './transport.js';
