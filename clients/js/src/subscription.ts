// One channel subscription with its own state and handlers. The client owns
// the wire: it (re)sends `subscribe` after every connect and routes the
// channel's messages and join/leave events here.

import { callSafely } from './emitter.js';
import { SwitchboardError } from './errors.js';
import type { Member } from './protocol.js';

export type SubscriptionState =
  | 'subscribing' // waiting for the server's reply, or for the connection
  | 'subscribed' // the server counts it: messages flow
  | 'unsubscribed' // unsubscribe() was called, or the client was closed
  | 'failed'; // the server refused it (see onError); it is not retried

export interface MessageContext {
  channel: string;
  /** The message's number in the channel (docs/PROTOCOL.md, "Ordering"). */
  offset: number;
}

export interface SubscriptionHandlers {
  /** After each successful subscribe, the first and every one after a reconnect. */
  onSubscribed?(): void;
  onMessage?(data: unknown, context: MessageContext): void;
  onJoin?(member: Member): void;
  onLeave?(member: Member): void;
  /** The server refused the subscription; it is now `failed`. */
  onError?(error: SwitchboardError): void;
  /** Any state change. */
  onState?(state: SubscriptionState): void;
}

export interface SubscribeOptions {
  /** A subscription token, for private (`$`) channels. */
  token?: string;
}

/** What a subscription asks of its client. */
export interface SubscriptionOwner {
  unsubscribeChannel(subscription: Subscription): Promise<void>;
}

export class Subscription {
  private currentState: SubscriptionState = 'subscribing';

  /** @internal Created by Client.subscribe(). */
  constructor(
    readonly channel: string,
    private readonly handlers: SubscriptionHandlers,
    readonly options: SubscribeOptions,
    private readonly owner: SubscriptionOwner,
  ) {}

  get state(): SubscriptionState {
    return this.currentState;
  }

  /** Stops it: no more events; the server is told when connected. */
  unsubscribe(): Promise<void> {
    return this.owner.unsubscribeChannel(this);
  }

  /** @internal */
  setState(state: SubscriptionState, error?: SwitchboardError): void {
    if (state === this.currentState) return;
    this.currentState = state;
    callSafely(this.handlers.onState, state);
    if (state === 'subscribed') callSafely(this.handlers.onSubscribed);
    if (state === 'failed' && error) callSafely(this.handlers.onError, error);
  }

  /** @internal */
  deliverMessage(data: unknown, context: MessageContext): void {
    if (this.currentState === 'subscribed') callSafely(this.handlers.onMessage, data, context);
  }

  /** @internal */
  deliverJoin(member: Member): void {
    if (this.currentState === 'subscribed') callSafely(this.handlers.onJoin, member);
  }

  /** @internal */
  deliverLeave(member: Member): void {
    if (this.currentState === 'subscribed') callSafely(this.handlers.onLeave, member);
  }
}
