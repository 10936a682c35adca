import type { NatsConnection } from '@nats-io/transport-node';
import { quantile } from './stats.js';

export interface LoadResult {
  readonly requests: number;
  readonly failures: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Closed-loop load: `lanes` requesters, each sending the next request when the previous one
 * is answered, for `durationMs`. The same client drives every variant of a benchmark.
 */
export async function requestLoad(
  nc: NatsConnection,
  subject: string,
  { lanes = 32, durationMs = 3000 } = {},
): Promise<LoadResult> {
  const payload = JSON.stringify({ n: 1 });
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await nc.request(subject, payload, { timeout: 5000 });
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    failures,
    perSecond: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}
