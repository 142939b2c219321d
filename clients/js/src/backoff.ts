// Reconnect delays: exponential backoff with jitter (pure, no timers).
//
// The cap grows as minDelay * factor^attempt up to maxDelay, and the delay is
// drawn from the top `jitter` part of it: jitter 1 is "full jitter" (anywhere
// from 0 to the cap), 0 is no jitter. Jitter spreads the reconnects of many
// clients that lost the same server at the same moment over the whole window,
// so the restarted server is not hit by all of them at once.

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
}

export type ReconnectPolicy = Required<ReconnectOptions>;

export const defaultReconnect: ReconnectPolicy = {
  minDelay: 500,
  maxDelay: 20000,
  factor: 2,
  jitter: 1,
  stableAfter: 5000,
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

/** The delay before retry number `attempt`; `random` returns [0, 1). */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = backoffCap(policy, attempt);
  return Math.round(cap * (1 - policy.jitter * random()));
}
