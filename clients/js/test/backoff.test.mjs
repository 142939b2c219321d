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
