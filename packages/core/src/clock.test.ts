import { describe, expect, it } from 'vitest';
import { turnClock } from './clock.js';

describe('turnClock', () => {
  it('reads the system clock once per turn of the event loop', async () => {
    const stamp = turnClock();
    const first = stamp();
    // Spin (no timer, no sleep) until the system clock has moved on: still the same turn.
    while (Date.now() === first) {}
    expect(stamp()).toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    const afterTurn = Date.now();
    const next = stamp();
    expect(next).toBeGreaterThan(first);
    expect(next).toBeLessThanOrEqual(afterTurn);
  });

  it('reads the clock again after a turn spent waiting for I/O', async () => {
    const stamp = turnClock();
    const first = stamp();
    // A timer, not an immediate: the stamp must not survive the poll phase in between.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(stamp()).toBeGreaterThan(first);
  });
});
