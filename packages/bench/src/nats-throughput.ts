// Throughput of a no-op task through a Handover NATS worker against a bare nats.js queue
// subscriber, same load client, same server, alternating rounds in one run.
import { startNatsServer } from '@handover/testkit';
import { connect } from '@nats-io/transport-node';
import { type LoadResult, requestLoad } from './nats-load.js';
import { fixture, startNode } from './proc.js';
import { fmt, median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 3);
const durationMs = Number(process.env.DURATION_MS ?? 3000);
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const results: Record<'bare' | 'handover', LoadResult[]> = { bare: [], handover: [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of ['bare', 'handover'] as const) {
      const script = fixture(variant === 'bare' ? 'nats-bare.mjs' : 'nats-worker.mjs');
      const worker = await startNode(script, {
        NATS_URL: server.url,
        SERVICE: `tp${round}${variant}`,
      });
      await requestLoad(nc, `handover.tp${round}${variant}.tasks`, { durationMs: 500 }); // warm-up
      results[variant].push(
        await requestLoad(nc, `handover.tp${round}${variant}.tasks`, { durationMs }),
      );
      await worker.stop();
    }
  }
} finally {
  await nc.close();
  await server.dispose();
}
const pick = (variant: 'bare' | 'handover', key: keyof LoadResult) =>
  median(results[variant].map((r) => r[key]));
report(
  `nats: no-op tasks/s through a Handover worker (median of ${rounds} x ${durationMs} ms, 32 lanes)`,
  { value: pick('handover', 'perSecond'), unit: 'req/s' },
  {
    label: 'bare nats.js queue subscriber',
    value: pick('bare', 'perSecond'),
  },
);
console.log(
  `nats: latency p50 ${fmt(pick('handover', 'p50Ms'), 2)} ms (bare ${fmt(pick('bare', 'p50Ms'), 2)}), added ${fmt(pick('handover', 'p50Ms') - pick('bare', 'p50Ms'), 2)} ms | p99 ${fmt(pick('handover', 'p99Ms'), 2)} ms (bare ${fmt(pick('bare', 'p99Ms'), 2)}), added ${fmt(pick('handover', 'p99Ms') - pick('bare', 'p99Ms'), 2)} ms | failures ${results.handover.reduce((n, r) => n + r.failures, 0)}`,
);
