// The Switchboard client: one connection to a server that it keeps up by
// itself. Its life, for each connection attempt:
//
//   connecting ── upgrade, then `connect` (with the token) answered ──▶ connected
//        ▲                                                               │
//        │ backoff with jitter                                           │ socket lost, heartbeat
//        └──────────────────────── disconnected ◀────────────────────────┘ silent, server closed
//
// and `closed` once close() was called or the server ended it for good (a
// refused token, `disconnect` with reconnect false). On every connect it
// re-subscribes every live subscription, then sends what was queued while it
// was away, so a queued publish reaches the client's own subscriptions too.

import { backoffDelay, reconnectPolicy, type FailureKind, type ReconnectPolicy } from './backoff.js';
import { Emitter } from './emitter.js';
import { SwitchboardError } from './errors.js';
import {
  CLOSE_INVALID_TOKEN,
  CLOSE_TOKEN_EXPIRED,
  FINAL_HTTP_STATUSES,
  parseServerFrame,
  type Member,
  type ServerFrame,
} from './protocol.js';
import { InFlight, OfflineQueue, type Command } from './requests.js';
import { checkedPosition, readPublications, type StreamPosition } from './stream.js';
import { Subscription, type SubscribeOptions, type SubscriptionHandlers } from './subscription.js';
import { Transport, type RefusedUpgrade, type WebSocketConstructor } from './transport.js';
import type {
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
} from './client_types.js';
import { unwatchOnline, watchOnline, websocketUrl } from './environment.js';

type ClientEvents = {
  state: [ClientState];
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
  error: [SwitchboardError];
  direct: [DirectMessage];
};

export class Client extends Emitter<ClientEvents> {
  readonly url: string;
  private readonly options: Required<
    Pick<ClientOptions, 'pingInterval' | 'pongTimeout' | 'requestTimeout' | 'connectTimeout' | 'maxQueued'>
  >;
  private readonly policy: ReconnectPolicy | null;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly random: () => number;

  private currentState: ClientState = 'disconnected';
  private info: ConnectedInfo | null = null;
  private transport: Transport | null = null;
  // Bumped for every attempt: callbacks of an older attempt compare and stop.
  private attemptId = 0;
  private failedAttempts = 0;
  private closing = false;
  private notice: { code: number; reason: string; reconnect: boolean; answered: boolean } | null = null;
  private flushed = false;

  private readonly inFlight = new InFlight();
  private readonly queue: OfflineQueue;
  private readonly subscriptions = new Map<string, Subscription>();
  // Subscribes in flight and unsubscribes in flight, so that the next command
  // for the same channel goes after them.
  private readonly channelBusy = new Map<string, Promise<void>>();

  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private stableTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, private readonly clientOptions: ClientOptions = {}) {
    super();
    this.url = websocketUrl(url);
    const number = (name: keyof ClientOptions, fallback: number, low: number): number => {
      const value = clientOptions[name] ?? fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < low) {
        throw new RangeError(`${name} must be a number >= ${low}`);
      }
      return value;
    };
    this.options = {
      pingInterval: number('pingInterval', 25000, 0),
      pongTimeout: number('pongTimeout', 10000, 1),
      requestTimeout: number('requestTimeout', 10000, 1),
      connectTimeout: number('connectTimeout', 10000, 1),
      maxQueued: number('maxQueued', 1000, 0),
    };
    this.policy = clientOptions.reconnect === false ? null : reconnectPolicy(clientOptions.reconnect);
    this.WebSocketImpl = clientOptions.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.random = clientOptions.random ?? Math.random;
    this.queue = new OfflineQueue(this.options.maxQueued);
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** This connection's client id, or null when not connected. */
  get clientId(): string | null {
    return this.info?.client ?? null;
  }

  /** The user the server authenticated, or null (anonymous, or not connected). */
  get user(): string | null {
    return this.info?.user ?? null;
  }

  /** Starts connecting (and reconnecting); also after close(). */
  connect(): void {
    if (this.currentState === 'connecting' || this.currentState === 'connected') return;
    this.closing = false;
    watchOnline(this.onOnline);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.open();
  }

  /**
   * Closes for good: no more reconnects; everything waiting is rejected with
   * code 'closed'. Subscriptions are kept, and come back on a later connect().
   */
  close(): void {
    this.closing = true;
    unwatchOnline(this.onOnline);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.transport) {
      this.transport.end(1000, 'client closed');
    } else if (this.currentState !== 'closed') {
      this.attemptId++; // a token request in progress finds it stale
      this.finish();
    }
  }

  /** Subscribes to a channel, now or at the next connect, and after every reconnect. */
  subscribe(channel: string, handlers: SubscriptionHandlers = {}, options: SubscribeOptions = {}): Subscription {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('channel must be a non-empty string');
    if (this.subscriptions.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const subscription = new Subscription(channel, handlers, options, this);
    this.subscriptions.set(channel, subscription);
    if (this.currentState === 'connected') void this.sendSubscribe(subscription);
    return subscription;
  }

  /** The live subscription to a channel, if any. */
  getSubscription(channel: string): Subscription | undefined {
    return this.subscriptions.get(channel);
  }

  /** Publishes to a channel; queued while disconnected. */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const fields: { channel: string; data: unknown; exclude_self?: boolean } = { channel, data: data ?? null };
    if (options.excludeSelf) fields.exclude_self = true;
    const reply = (await this.request('publish', fields, options)) as { offset: number; epoch?: unknown; local_only?: boolean };
    const result: PublishResult = { offset: reply.offset, localOnly: reply.local_only === true };
    if (typeof reply.epoch === 'string') {
      result.epoch = reply.epoch;
      // Kept in the stream, so a recovery would hand it back to this client.
      if (options.excludeSelf) this.subscriptions.get(channel)?.excludeOwn(reply.epoch, reply.offset);
    }
    if (result.localOnly && options.localOnly === 'reject') {
      throw new SwitchboardError('local_only', 'published on this node only: its broker is unreachable, other nodes did not get it');
    }
    return result;
  }

  /**
   * The channel's kept publications (its namespace needs history_size and
   * history_ttl): oldest first, or after/before `since`. Errors: 123 no
   * history, 124 `since` is no longer kept (or of another epoch).
   */
  async history(channel: string, options: HistoryOptions = {}): Promise<HistoryResult> {
    const fields: { channel: string; limit?: number; since?: StreamPosition; reverse?: boolean } = { channel };
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 0) throw new RangeError('limit must be an integer >= 0');
      fields.limit = options.limit;
    }
    if (options.since !== undefined) fields.since = checkedPosition(options.since, 'since');
    if (options.reverse) fields.reverse = true;
    const reply = (await this.request('history', fields, options)) as { epoch?: unknown; offset?: unknown; publications?: unknown };
    if (typeof reply?.epoch !== 'string' || typeof reply.offset !== 'number') {
      throw new SwitchboardError('protocol', 'a history reply without epoch and offset');
    }
    return { epoch: reply.epoch, offset: reply.offset, publications: readPublications(reply.publications) };
  }

  /** Calls a method on the server (or the backend it forwards to); resolves with its answer. */
  rpc(method: string, data?: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.request('rpc', { method, data: data ?? null }, options);
  }

  /**
   * Sends to every connection of a user; `online` says whether there was any,
   * unless the server hides that (`hub.hide_online`): then it is absent.
   */
  async send(user: string, data: unknown, options: RequestOptions = {}): Promise<{ online?: boolean }> {
    const reply = (await this.request('send', { user, data: data ?? null }, options)) as { online?: boolean };
    return reply.online === undefined ? {} : { online: reply.online };
  }

  /** Who is subscribed to a channel (its namespace needs presence). */
  async presence(channel: string, options: RequestOptions = {}): Promise<Member[]> {
    const reply = (await this.request('presence', { channel }, options)) as { members: Member[] };
    return reply.members;
  }

  // ---- commands

  private request(type: string, fields: object, options: RequestOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.currentState === 'closed') {
        reject(new SwitchboardError('closed', 'the client is closed'));
        return;
      }
      // Serialised now, so bad data (a cycle, a BigInt) fails the call at once.
      const command: Command = {
        body: JSON.stringify({ type, ...fields }),
        timeout: options.timeout ?? this.options.requestTimeout,
        resolve,
        reject,
        resendable: true,
      };
      if (this.flushed && this.transport?.isOpen) {
        this.sendNow(command);
      } else if (!this.queue.push(command)) {
        reject(new SwitchboardError('queue_full', `${this.options.maxQueued} commands already wait for a connection`));
      }
    });
  }

  // Sends on the current connection; a command that cannot go out (the
  // socket is already closing) fails as if the connection dropped under it.
  private sendNow(command: Command): void {
    const { id, frame } = this.inFlight.start(command);
    if (!this.transport?.send(frame)) {
      this.inFlight.take(id)?.reject(new SwitchboardError('disconnected', 'the connection was lost'));
    }
  }

  // A command outside the queue (connect, subscribe, refresh, ...): only
  // while the socket is open, else it fails as disconnected. `onReply` runs
  // as the reply is read, before the promise settles.
  private command(
    type: string,
    fields: object,
    timeout = this.options.requestTimeout,
    onReply?: (data: unknown) => void,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.transport?.isOpen) {
        reject(new SwitchboardError('disconnected', 'not connected'));
        return;
      }
      const answered = (data: unknown) => {
        onReply?.(data);
        resolve(data);
      };
      this.sendNow({ body: JSON.stringify({ type, ...fields }), timeout, resolve: answered, reject });
    });
  }

  // ---- subscriptions

  private sendSubscribe(subscription: Subscription): Promise<void> {
    const channel = subscription.channel;
    const done = this.afterChannel(channel, async () => {
      if (this.subscriptions.get(channel) !== subscription || this.currentState !== 'connected') return;
      // Built now, not when queued: the position is the one reached so far.
      const fields = { channel, ...(subscription.options.token ? { token: subscription.options.token } : {}), ...subscription.subscribeFields() };
      try {
        // The reply is handled as it is read, before the next frame: the
        // first live message may be in the same read (`ws` emits them
        // synchronously), and it must find the subscription subscribed.
        await this.command('subscribe', fields, this.options.requestTimeout, (reply) => {
          if (this.subscriptions.get(channel) === subscription) subscription.subscribed(reply, fields.recover === true);
        });
      } catch (error) {
        const failure = error as SwitchboardError;
        // Lost with the connection: it is sent again on the next connect.
        if (failure.code === 'disconnected' || this.subscriptions.get(channel) !== subscription) return;
        this.subscriptions.delete(channel);
        subscription.setState('failed', failure);
      }
    });
    return done;
  }

  /** @internal Called by Subscription.unsubscribe(). */
  unsubscribeChannel(subscription: Subscription): Promise<void> {
    const channel = subscription.channel;
    if (this.subscriptions.get(channel) !== subscription) return Promise.resolve();
    this.subscriptions.delete(channel);
    subscription.setState('unsubscribed');
    return this.afterChannel(channel, async () => {
      if (this.currentState !== 'connected') return; // the server forgets it with the connection
      try {
        await this.command('unsubscribe', { channel });
      } catch (error) {
        // Not subscribed (a subscribe that failed) or gone with the
        // connection: either way the server no longer has it.
        const code = (error as SwitchboardError).code;
        if (code !== 111 && code !== 'disconnected') this.emit('error', error as SwitchboardError);
      }
    });
  }

  // Runs `step` after whatever is still in flight for the channel, so that a
  // subscribe never overtakes an unsubscribe of the same channel.
  private afterChannel(channel: string, step: () => Promise<void>): Promise<void> {
    const previous = this.channelBusy.get(channel) ?? Promise.resolve();
    const next = previous.then(step);
    this.channelBusy.set(channel, next);
    void next.then(() => {
      if (this.channelBusy.get(channel) === next) this.channelBusy.delete(channel);
    });
    return next;
  }

  // ---- connection life

  private open(): void {
    const attempt = ++this.attemptId;
    this.notice = null;
    this.setState('connecting');
    this.connectTimer = setTimeout(() => {
      if (attempt !== this.attemptId) return;
      this.transport?.abort();
      this.lost(attempt, 1006, `not connected within ${this.options.connectTimeout} ms`);
    }, this.options.connectTimeout);
    if (!this.WebSocketImpl) {
      this.lost(attempt, 1006, 'no WebSocket implementation: pass options.WebSocket');
      return;
    }
    try {
      this.transport = new Transport(this.WebSocketImpl, this.url, {
        open: () => void this.onOpen(attempt),
        message: (text) => this.onFrame(text),
        close: (code, reason, refused, failure) => this.lost(attempt, code, reason, refused, failure),
      });
    } catch (error) {
      this.lost(attempt, 1006, `cannot open the WebSocket: ${(error as Error).message}`);
    }
  }

  private async onOpen(attempt: number): Promise<void> {
    let token: string | null | undefined;
    try {
      token = this.clientOptions.getToken ? await this.clientOptions.getToken() : this.clientOptions.token;
    } catch (error) {
      if (attempt !== this.attemptId) return;
      this.emit('error', new SwitchboardError('transport', `getToken failed: ${(error as Error).message}`));
      this.transport?.end(1000, 'no token');
      return;
    }
    if (attempt !== this.attemptId) return;
    let info: ConnectedInfo;
    try {
      info = (await this.command('connect', token ? { token } : {}, this.options.connectTimeout)) as ConnectedInfo;
    } catch (error) {
      if (attempt !== this.attemptId) return;
      const failure = error as SwitchboardError;
      // 120: the server closes with 4001 next, which ends the client.
      this.emit('error', failure);
      if (failure.code !== 120) this.transport?.end(1000, 'connect failed');
      return;
    }
    if (attempt !== this.attemptId) return;
    clearTimeout(this.connectTimer);
    this.info = { client: info.client, user: info.user ?? null };
    this.setState('connected');
    this.emit('connected', this.info);
    this.startHeartbeat(attempt);
    if (this.policy) {
      this.stableTimer = setTimeout(() => {
        this.failedAttempts = 0;
      }, this.policy.stableAfter);
    }
    // Subscriptions first, then what was queued: a publish made while away
    // reaches this client's own subscription to its channel.
    const restoring = [...this.subscriptions.values()].map((subscription) => this.sendSubscribe(subscription));
    await Promise.all(restoring);
    if (attempt !== this.attemptId) return;
    this.flushed = true;
    for (const command of this.queue.drain()) this.sendNow(command);
  }

  private onFrame(text: string): void {
    // Anything from the server proves the connection alive.
    clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    const frame = parseServerFrame(text);
    if (!frame) {
      this.emit('error', new SwitchboardError('protocol', `unreadable frame from the server: ${text.slice(0, 100)}`));
      return;
    }
    this.dispatch(frame);
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'reply':
        this.inFlight.take(frame.id)?.resolve(frame.data);
        break;
      case 'error': {
        const error = new SwitchboardError(frame.code, frame.message);
        const command = frame.id === null ? undefined : this.inFlight.take(frame.id);
        if (command) command.reject(error);
        else this.emit('error', error);
        break;
      }
      case 'pong':
        this.inFlight.take(frame.id)?.resolve(null);
        break;
      case 'message':
        this.subscriptions.get(frame.channel)?.deliverMessage(frame.data, frame.offset);
        break;
      case 'reset':
        // For a channel this client no longer subscribes to: nothing to reset.
        this.subscriptions.get(frame.channel)?.reset(frame.epoch, frame.offset);
        break;
      case 'join':
        this.subscriptions.get(frame.channel)?.deliverJoin({ user: frame.user, client: frame.client, info: frame.info });
        break;
      case 'leave':
        this.subscriptions.get(frame.channel)?.deliverLeave({ user: frame.user, client: frame.client });
        break;
      case 'direct':
        this.emit('direct', { from: frame.from, data: frame.data });
        break;
      case 'refresh':
        void this.refreshToken();
        break;
      case 'disconnect':
        // The close frame follows; its handling reads this.
        this.notice = { code: frame.code, reason: frame.reason, reconnect: frame.reconnect, answered: frame.answered === true };
        break;
      default:
        break; // a newer server's message: ignored, as the protocol allows
    }
  }

  private async refreshToken(): Promise<void> {
    const getToken = this.clientOptions.getToken;
    if (!getToken) {
      this.emit('error', new SwitchboardError('closed', 'the token expired and there is no getToken to renew it'));
      return;
    }
    try {
      const token = await getToken();
      if (!token) throw new Error('getToken gave no token');
      await this.command('refresh', { token });
    } catch (error) {
      const failure =
        error instanceof SwitchboardError ? error : new SwitchboardError('transport', `token refresh failed: ${(error as Error).message}`);
      this.emit('error', failure);
    }
  }

  private startHeartbeat(attempt: number): void {
    if (this.options.pingInterval === 0) return;
    this.pingTimer = setInterval(() => {
      if (attempt !== this.attemptId || !this.transport?.isOpen) return;
      this.command('ping', {}, this.options.pingInterval + this.options.pongTimeout).catch(() => {});
      // Silence from now on means a dead peer (a half-open TCP connection
      // never reports its end); any frame clears the timer.
      this.silenceTimer ??= setTimeout(() => {
        if (attempt !== this.attemptId) return;
        this.transport?.abort();
        this.lost(attempt, 1006, `no answer to a ping within ${this.options.pongTimeout} ms`);
      }, this.options.pongTimeout);
    }, this.options.pingInterval);
  }

  // The connection of `attempt` is gone (or never came): clean up, then
  // reconnect after a backoff, or finish for good.
  private lost(attempt: number, code: number, reason: string, refused?: RefusedUpgrade, failure: FailureKind = 'other'): void {
    if (attempt !== this.attemptId) return;
    this.attemptId++;
    this.transport = null;
    this.info = null;
    this.flushed = false;
    for (const timer of [this.connectTimer, this.silenceTimer, this.stableTimer]) clearTimeout(timer);
    clearInterval(this.pingTimer);
    this.silenceTimer = undefined;
    const notice = this.notice;
    const lostError = new SwitchboardError('disconnected', `the connection was lost (${code}${reason ? ' ' + reason : ''})`);
    if (notice?.answered) {
      // A drain answered everything it ran before its `disconnect`: what is
      // still waiting was not run, so it goes again, first, after the
      // reconnect (or fails 'closed' with the queue if none comes).
      const unanswered = this.inFlight.takeAll();
      this.queue.putBack(unanswered.filter((command) => command.resendable));
      for (const command of unanswered) if (!command.resendable) command.reject(lostError);
    } else {
      this.inFlight.failAll(lostError);
    }
    for (const subscription of this.subscriptions.values()) subscription.setState('subscribing');

    if (notice) {
      code = notice.code;
      reason = notice.reason;
    }
    const final =
      this.closing ||
      !this.policy ||
      (notice !== null && !notice.reconnect) ||
      code === CLOSE_INVALID_TOKEN ||
      (code === CLOSE_TOKEN_EXPIRED && !this.clientOptions.getToken) ||
      (refused !== undefined && FINAL_HTTP_STATUSES.has(refused.status));
    if (final) {
      this.finish({ code, reason, reconnect: false });
      return;
    }
    // A server that moves its clients (a drain: `disconnect` with reconnect
    // true) is no failure: the attempts do not grow, and the delay is the
    // first step's, jittered, however often the client was moved.
    const step = notice?.reconnect ? 0 : this.failedAttempts++;
    const delay = Math.max(backoffDelay(this.policy!, step, this.random, failure), refused?.retryAfterMs ?? 0);
    this.setState('disconnected');
    this.emit('disconnected', { code, reason, reconnect: true, delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
  }

  private finish(info?: DisconnectedInfo): void {
    unwatchOnline(this.onOnline);
    this.queue.failAll(new SwitchboardError('closed', info ? `closed by the server: ${info.code} ${info.reason}` : 'the client is closed'));
    this.setState('closed');
    if (info) this.emit('disconnected', info);
  }

  // Back online (browsers): waiting out a backoff makes no sense any more.
  private readonly onOnline = (): void => {
    if (this.currentState !== 'disconnected' || this.reconnectTimer === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.open();
  };

  private setState(state: ClientState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }
}
