import { describe, expect, it } from 'vitest';
import { type LbLoadReport, rateBetween } from './lb-load.js';

const report = (per100Ms: number[]): LbLoadReport => ({
  total: per100Ms.reduce((a, b) => a + b, 0),
  ok: 0,
  failed: 0,
  statuses: {},
  errors: {},
  headerValues: {},
  samples: [],
  status5xx: 0,
  resets: 0,
  posts: 0,
  startedAt: 0,
  durationMs: per100Ms.length * 100,
  rate: 0,
  per100Ms,
});

describe('rateBetween', () => {
  it('counts the whole 100 ms steps of the window, per second', () => {
    // 0–1 s: 100 per step (1,000/s); 1–2 s: 250 per step (2,500/s).
    const r = report([...Array(10).fill(100), ...Array(10).fill(250)]);
    expect(rateBetween(r, 1000, 2000)).toBe(2500);
    expect(rateBetween(r, 0, 1000)).toBe(1000);
    // A window across both halves; a partial last step is left out.
    expect(rateBetween(r, 500, 1550)).toBe(1750);
  });

  it('clamps a window that starts before the load, and counts missing steps as 0', () => {
    const r = report([200, 200, 200]);
    expect(rateBetween(r, -700, 300)).toBe(2000);
    expect(rateBetween(r, 200, 600)).toBe(500);
  });
});
