// JetStream throughput: N pre-published jobs worked off by a Handover worker (pulls no more
// than its free slots, acks each) against a bare consume() loop on the same kind of consumer,
// same server, alternating rounds in one run. Time: from "ready" to nothing pending.
import { startNatsServer, waitFor } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fixture, startNode } from './proc.js';
import { median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 3);
const jobs = Number(process.env.JOBS ?? 10_000);
const levels = (process.env.CONCURRENCY ?? '16,100').split(',');
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const rates: Record<string, number[]> = { bare: [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of ['bare', ...levels]) {
      const stream = `JS${round}x${variant}`;
      await jsm.streams.add({ name: stream, subjects: [`bench.${stream}`] });
      await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
      const body = JSON.stringify({ n: 1 });
      const acks = [];
      for (let i = 0; i < jobs; i++) acks.push(js.publish(`bench.${stream}`, body));
      await Promise.all(acks);
      const script = fixture(variant === 'bare' ? 'js-bare.mjs' : 'nats-worker.mjs');
      const concurrency = variant === 'bare' ? '' : variant;
      const worker = await startNode(script, {
        NATS_URL: server.url,
        STREAM: stream,
        SERVICE: stream,
        CONCURRENCY: concurrency,
      });
      const started = performance.now();
      await waitFor(
        async () => {
          const info = await jsm.consumers.info(stream, 'bench');
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { timeoutMs: 120_000, intervalMs: 5, what: `${stream} drained` },
      );
      const list = rates[variant] ?? [];
      list.push(jobs / ((performance.now() - started) / 1000));
      rates[variant] = list;
      await worker.stop();
      await jsm.streams.delete(stream);
    }
  }
} finally {
  await nc.close();
  await server.dispose();
}
for (const level of levels) {
  report(
    `jetstream: jobs/s through a Handover worker, concurrency ${level} (median of ${rounds} x ${jobs} jobs)`,
    {
      value: median(rates[level] ?? []),
      unit: 'jobs/s',
    },
    { label: 'bare consume() loop, 100 buffered', value: median(rates.bare ?? []) },
  );
}
