// One channel subscription with its own state, handlers and stream position.
// The client owns the wire: it (re)sends `subscribe` after every connect,
// with the fields this object gives (recover from the position it has), and
// routes the reply and the channel's messages and join/leave events here.
//
// On a channel with a stream, the application gets each publication once and
// in order: the recovered ones from a resubscribe reply first, then the live
// ones; a message at or before the position (within the same epoch) is a
// duplicate and is dropped. A message with offset 0 is unnumbered (published
// while the server's broker was unreachable): always delivered, it does not
// move the position. A `reset` from the server (the stream's past is lost
// for this subscription) is told to the application as a failed recovery and
// moves the position to the new epoch's.

import { callSafely } from './emitter.js';
import { SwitchboardError } from './errors.js';
import type { Member } from './protocol.js';
import { checkedPosition, readPosition, readStreamReply, type Publication, type StreamPosition } from './stream.js';

export type SubscriptionState =
  | 'subscribing' // waiting for the server's reply, or for the connection
  | 'subscribed' // the server counts it: messages flow
  | 'unsubscribed' // unsubscribe() was called, or the client was closed
  | 'failed'; // the server refused it (see onError); it is not retried

export interface MessageContext {
  channel: string;
  /** The message's number in the channel (docs/PROTOCOL.md, "Ordering"); 0: unnumbered (not kept). */
  offset: number;
  /** It came from a recovery (published while this client was away), not live. */
  recovered: boolean;
}

/** What a (re)subscribe or a `reset` gave: passed to onSubscribed and onRecoveryFailed. */
export interface SubscribedContext {
  /** The channel keeps a stream: a later resubscribe can recover. */
  recoverable: boolean;
  /** This subscribe asked to recover from a known position. */
  wasRecovering: boolean;
  /** What the application had: the position recovered from (wasRecovering), or the one a reset ended. */
  since?: StreamPosition;
  /** Everything since that position was given back (delivered next, to onMessage). */
  recovered: boolean;
  /** The stream's epoch and last offset when the subscription took effect (null without a stream). */
  epoch: string | null;
  offset: number | null;
  /** With the `latest` option (or a cache namespace): the newest kept publication, or null. */
  latest?: Publication | null;
  /**
   * Present (true) only when the server sent `reset` to a live subscription:
   * not a subscribe; the past it followed is lost, the position is now
   * (epoch, offset). Only onRecoveryFailed gets it.
   */
  reset?: true;
}

export interface SubscriptionHandlers {
  /** After each successful subscribe, the first and every one after a reconnect. */
  onSubscribed?(context: SubscribedContext): void;
  /**
   * A resubscribe could not recover what was published while away (the
   * history was trimmed, or the server lost it: a new epoch), or the server
   * reset a live subscription's stream (context.reset). Reload the state
   * (e.g. client.history()); live messages go on after context.offset.
   */
  onRecoveryFailed?(context: SubscribedContext): void;
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
  /** Ask for the newest kept publication in every subscribe reply (context.latest). */
  latest?: boolean;
  /** Recover from here on the first subscribe too (a position the application kept). */
  since?: StreamPosition;
}

/** The optional fields of a `subscribe` command. */
export interface SubscribeFields {
  recover?: true;
  since?: StreamPosition;
  latest?: true;
}

/** What a subscription asks of its client. */
export interface SubscriptionOwner {
  unsubscribeChannel(subscription: Subscription): Promise<void>;
}

export class Subscription {
  private currentState: SubscriptionState = 'subscribing';
  // Known once a reply said recoverable (or the application gave `since`).
  private streamPosition: StreamPosition | null;
  // Offsets ahead of the position of this client's own publishes made with
  // excludeSelf: the live stream skips them, a recovery would not.
  private readonly ownExcluded = new Set<number>();

  /** @internal Created by Client.subscribe(). */
  constructor(
    readonly channel: string,
    private readonly handlers: SubscriptionHandlers,
    readonly options: SubscribeOptions,
    private readonly owner: SubscriptionOwner,
  ) {
    this.streamPosition = options.since === undefined ? null : checkedPosition(options.since, 'since');
  }

  get state(): SubscriptionState {
    return this.currentState;
  }

  /** The last publication given to the application, or null (no stream, or not known yet). */
  get position(): StreamPosition | null {
    return this.streamPosition ? { ...this.streamPosition } : null;
  }

  /** Stops it: no more events; the server is told when connected. */
  unsubscribe(): Promise<void> {
    return this.owner.unsubscribeChannel(this);
  }

  /** @internal The stream fields of the next `subscribe`: recover once a position is known. */
  subscribeFields(): SubscribeFields {
    const fields: SubscribeFields = {};
    if (this.streamPosition) {
      fields.recover = true;
      fields.since = { ...this.streamPosition };
    }
    if (this.options.latest) fields.latest = true;
    return fields;
  }

  /**
   * @internal The subscribe reply, handled before any later frame: the state,
   * onSubscribed, onRecoveryFailed, then the recovered publications in order.
   */
  subscribed(data: unknown, wasRecovering: boolean): void {
    const reply = readStreamReply(data);
    const recovered = wasRecovering && reply.recovered;
    const context: SubscribedContext = {
      recoverable: reply.recoverable,
      wasRecovering,
      recovered,
      epoch: reply.position?.epoch ?? null,
      offset: reply.position?.offset ?? null,
    };
    const since = this.streamPosition;
    if (wasRecovering && since) context.since = { ...since };
    if (reply.latest !== undefined) context.latest = reply.latest;
    // Recovered publications come after the old position; without recovery
    // the position is the reply's (the live messages start after it).
    this.streamPosition = recovered && since ? since : reply.position;
    this.setState('subscribed', undefined, context);
    if (wasRecovering && !recovered) callSafely(this.handlers.onRecoveryFailed, context);
    if (recovered) {
      for (const publication of reply.publications) {
        this.deliver(publication.data, publication.offset, true);
      }
    }
    this.streamPosition = reply.position;
    if (!recovered) this.ownExcluded.clear(); // of another epoch, or already past
  }

  /**
   * @internal The server's `reset`: what the subscription followed is lost;
   * its position is now (epoch, offset), and later messages of the new epoch
   * are delivered even where their offsets are at or below the old ones.
   * Ignored unless subscribed: a reply not read yet sets the position itself.
   */
  reset(epoch: unknown, offset: unknown): void {
    const position = readPosition(epoch, offset);
    if (this.currentState !== 'subscribed' || !position) return;
    const context: SubscribedContext = {
      recoverable: true,
      wasRecovering: false,
      recovered: false,
      epoch: position.epoch,
      offset: position.offset,
      reset: true,
    };
    if (this.streamPosition) context.since = { ...this.streamPosition };
    this.streamPosition = position;
    this.ownExcluded.clear(); // offsets of the old epoch, or already past
    callSafely(this.handlers.onRecoveryFailed, context);
  }

  /** @internal A publish of this client with excludeSelf was kept at (epoch, offset). */
  excludeOwn(epoch: string, offset: number): void {
    const position = this.streamPosition;
    if (position && position.epoch === epoch && offset > position.offset) this.ownExcluded.add(offset);
  }

  /** @internal */
  setState(state: SubscriptionState, error?: SwitchboardError, context?: SubscribedContext): void {
    if (state === this.currentState) return;
    this.currentState = state;
    callSafely(this.handlers.onState, state);
    if (state === 'subscribed' && context) callSafely(this.handlers.onSubscribed, context);
    if (state === 'failed' && error) callSafely(this.handlers.onError, error);
  }

  /** @internal A live message. */
  deliverMessage(data: unknown, offset: number): void {
    this.deliver(data, offset, false);
  }

  /** @internal */
  deliverJoin(member: Member): void {
    if (this.currentState === 'subscribed') callSafely(this.handlers.onJoin, member);
  }

  /** @internal */
  deliverLeave(member: Member): void {
    if (this.currentState === 'subscribed') callSafely(this.handlers.onLeave, member);
  }

  // Once each: a publication at or before the position is one the
  // application already has; its own excludeSelf publishes it never gets.
  // An unnumbered one (offset 0, not kept) is neither: always delivered.
  private deliver(data: unknown, offset: number, recovered: boolean): void {
    if (this.currentState !== 'subscribed') return;
    const position = this.streamPosition;
    if (position && offset > 0) {
      if (offset <= position.offset) return;
      position.offset = offset;
      const ownExcluded = this.ownExcluded.delete(offset);
      for (const own of this.ownExcluded) if (own < offset) this.ownExcluded.delete(own);
      if (ownExcluded) return;
    }
    callSafely(this.handlers.onMessage, data, { channel: this.channel, offset, recovered });
  }
}
