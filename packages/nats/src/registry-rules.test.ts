import { describe, expect, it } from 'vitest';
import { bucketTtlProblem, registryBucketTtlMs, registryStalled } from './registry-rules.js';

describe('registryBucketTtlMs', () => {
  it('is 3 x heartbeat, and at least 30 s on a cluster', () => {
    expect(registryBucketTtlMs(1000, false)).toBe(3000);
    expect(registryBucketTtlMs(1000, true)).toBe(30_000);
    expect(registryBucketTtlMs(20_000, true)).toBe(60_000);
  });
});

describe('bucketTtlProblem', () => {
  it('flags a TTL under 2 x heartbeat anywhere, and under 30 s on a cluster', () => {
    expect(bucketTtlProblem(1500, 1000, false)).toMatch(/2 x heartbeat/);
    expect(bucketTtlProblem(3000, 1000, false)).toBeUndefined();
    expect(bucketTtlProblem(3000, 1000, true)).toMatch(/30 s on a cluster/);
    expect(bucketTtlProblem(30_000, 1000, true)).toBeUndefined();
    expect(bucketTtlProblem(0, 1000, true)).toBeUndefined();
  });
});

describe('registryStalled', () => {
  const now = 100_000;
  it('is true when no entry was updated for 2 x the longest heartbeat', () => {
    const entries = [
      { seenAt: now - 3100, heartbeatMs: 1000 },
      { seenAt: now - 2400, heartbeatMs: 1000 },
    ];
    expect(registryStalled(entries, now)).toBe(true);
  });

  it('is false while another worker still writes', () => {
    const entries = [
      { seenAt: now - 3100, heartbeatMs: 1000 },
      { seenAt: now - 400, heartbeatMs: 1000 },
    ];
    expect(registryStalled(entries, now)).toBe(false);
  });

  it('is false for an empty bucket', () => {
    expect(registryStalled([], now)).toBe(false);
  });
});
