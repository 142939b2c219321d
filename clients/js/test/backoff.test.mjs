import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffCap, backoffDelay, reconnectPolicy } from '../dist/index.js';

test('the cap doubles from minDelay up to maxDelay', () => {
  const policy = reconnectPolicy({ minDelay: 100, maxDelay: 1000 });
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((attempt) => backoffCap(policy, attempt)), [100, 200, 400, 800, 1000, 1000]);
});

test('a long outage never overflows the cap', () => {
  const policy = reconnectPolicy({ minDelay: 500, maxDelay: 20000, factor: 10 });
  assert.equal(backoffCap(policy, 100000), 20000);
});

test('full jitter spreads the delay over 0..cap', () => {
  const policy = reconnectPolicy({ minDelay: 1000, maxDelay: 1000 });
  assert.equal(backoffDelay(policy, 0, () => 0), 1000);
  assert.equal(backoffDelay(policy, 0, () => 0.5), 500);
  assert.equal(backoffDelay(policy, 0, () => 0.999), 1);
});

test('partial jitter keeps the delay in the top part of the cap', () => {
  const policy = reconnectPolicy({ minDelay: 1000, maxDelay: 1000, jitter: 0.2 });
  assert.equal(backoffDelay(policy, 0, () => 0.999), 800);
  assert.equal(backoffDelay(reconnectPolicy({ minDelay: 1000, jitter: 0 }), 0, () => 0.7), 1000);
});

test('bad settings are refused with the setting named', () => {
  assert.throws(() => reconnectPolicy({ jitter: 2 }), /jitter/);
  assert.throws(() => reconnectPolicy({ minDelay: -1 }), /minDelay/);
  assert.throws(() => reconnectPolicy({ minDelay: 100, maxDelay: 50 }), /maxDelay/);
  assert.throws(() => reconnectPolicy({ factor: 0.5 }), /factor/);
});

// mulberry32: a seeded random source, so the spread below is the same on every run.
function seeded(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a refused connection caps the delay at refusedMaxDelay; other failures keep the backoff', () => {
  const policy = reconnectPolicy({ minDelay: 500, maxDelay: 20000 });
  assert.equal(policy.refusedMaxDelay, 1000);
  assert.deepEqual([0, 1, 5, 50].map((attempt) => backoffDelay(policy, attempt, () => 0, 'refused')), [500, 1000, 1000, 1000]);
  assert.deepEqual([0, 1, 5, 50].map((attempt) => backoffDelay(policy, attempt, () => 0, 'other')), [500, 1000, 16000, 20000]);
  assert.equal(backoffDelay(policy, 50, () => 0), 20000, 'the default failure is not a refused one');
  assert.throws(() => reconnectPolicy({ refusedMaxDelay: -1 }), /refusedMaxDelay/);
});

test('1000 clients refused by a restarting server come back spread over the whole second', () => {
  const policy = reconnectPolicy();
  const random = seeded(16);
  const delays = Array.from({ length: 1000 }, () => backoffDelay(policy, 7, random, 'refused'));
  assert.ok(delays.every((delay) => delay >= 0 && delay <= 1000), 'every delay within 0..1000 ms');
  // Ten 100 ms slices: a uniform spread puts about 100 in each (standard
  // deviation about 9.5), never most of them at once.
  const slices = Array(10).fill(0);
  for (const delay of delays) slices[Math.min(9, Math.floor(delay / 100))]++;
  for (const count of slices) assert.ok(count >= 60 && count <= 140, `slices ${slices}`);
  // And no single millisecond gets more than a handful.
  const perMs = new Map();
  for (const delay of delays) perMs.set(delay, (perMs.get(delay) ?? 0) + 1);
  assert.ok(Math.max(...perMs.values()) <= 8, `${Math.max(...perMs.values())} clients in one ms`);
});
