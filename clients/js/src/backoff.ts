// Reconnect delays: exponential backoff with jitter (pure, no timers).
//
// The cap grows as minDelay * factor^attempt up to maxDelay, and the delay is
// drawn from the top `jitter` part of it: jitter 1 is "full jitter" (anywhere
// from 0 to the cap), 0 is no jitter. Jitter spreads the reconnects of many
// clients that lost the same server at the same moment over the whole window,
// so the restarted server is not hit by all of them at once.
//
// A refused connection (nothing listens: the server is restarting) is the
// one failure that ends the moment the server is back, so while that is the
// failure the cap stops at refusedMaxDelay (1 s): a client is back within
// about a second of its server, still jittered over that second.

export interface ReconnectOptions {
  /** Cap of the first retry's delay, ms (default 500). */
  minDelay?: number;
  /** Largest cap, ms (default 20000). */
  maxDelay?: number;
  /** Growth of the cap per failed attempt (default 2). */
  factor?: number;
  /** Part of the cap that is random, 0 to 1 (default 1: full jitter). */
  jitter?: number;
  /** A connection that stays up this long resets the attempts, ms (default 5000). */
  stableAfter?: number;
  /** Largest cap while the connection is refused (the server is not listening), ms (default 1000). */
  refusedMaxDelay?: number;
}

/** Why an attempt ended, as far as the reconnect delay cares. */
export type FailureKind =
  | 'refused' // the TCP connection was refused, or (browsers, which hide why) failed before the upgrade
  | 'other'; // anything else: a lost connection, a refused upgrade, a timeout

export type ReconnectPolicy = Required<ReconnectOptions>;

export const defaultReconnect: ReconnectPolicy = {
  minDelay: 500,
  maxDelay: 20000,
  factor: 2,
  jitter: 1,
  stableAfter: 5000,
  refusedMaxDelay: 1000,
};

export function reconnectPolicy(options: ReconnectOptions = {}): ReconnectPolicy {
  const policy = { ...defaultReconnect, ...options };
  const finite = (name: keyof ReconnectPolicy, low: number) => {
    const value = policy[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < low) {
      throw new RangeError(`reconnect.${name} must be a number >= ${low}`);
    }
  };
  finite('minDelay', 0);
  finite('maxDelay', policy.minDelay);
  finite('factor', 1);
  finite('jitter', 0);
  finite('stableAfter', 0);
  finite('refusedMaxDelay', 0);
  if (policy.jitter > 1) throw new RangeError('reconnect.jitter must be from 0 to 1');
  return policy;
}

/** The cap of the delay before retry number `attempt` (0 for the first). */
export function backoffCap(policy: ReconnectPolicy, attempt: number): number {
  // Computed by steps so a long outage cannot overflow to Infinity.
  let cap = policy.minDelay;
  for (let i = 0; i < attempt && cap < policy.maxDelay; i++) cap *= policy.factor;
  return Math.min(cap, policy.maxDelay);
}

/**
 * The delay before retry number `attempt`; `random` returns [0, 1). After a
 * refused connection the cap is at most refusedMaxDelay.
 */
export function backoffDelay(
  policy: ReconnectPolicy,
  attempt: number,
  random: () => number = Math.random,
  failure: FailureKind = 'other',
): number {
  let cap = backoffCap(policy, attempt);
  if (failure === 'refused') cap = Math.min(cap, policy.refusedMaxDelay);
  return Math.round(cap * (1 - policy.jitter * random()));
}
