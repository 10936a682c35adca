// Ready → change seen by watchWorkers: from the worker's `readyAt` (its transition to ready,
// written into its entry) to the moment a watcher in this process receives the `added` change.
// Same machine, same clock. Baseline: one round trip to the server (a PING) in the same run.
import { watchWorkers } from '@handover/nats/controller';
import { startNatsServer, waitFor } from '@handover/testkit';
import { connect } from '@nats-io/transport-node';
import { fixture, startNode } from './proc.js';
import { median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 10);
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const latencies: number[] = [];
const rtts: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const watch = await watchWorkers(nc, `watch${i}`);
    await watch.loaded;
    const seen: { at: number; readyAt: number }[] = [];
    void (async () => {
      for await (const change of watch) {
        if (change.type === 'added')
          seen.push({ at: change.at, readyAt: Date.parse(change.worker.readyAt) });
      }
    })();
    const worker = await startNode(fixture('nats-worker.mjs'), {
      NATS_URL: server.url,
      SERVICE: `watch${i}`,
    });
    const first = await waitFor(() => seen[0], { what: 'the added change' });
    latencies.push(first.at - first.readyAt);
    const t = performance.now();
    await nc.flush();
    rtts.push(performance.now() - t);
    await worker.stop();
    await watch.stop();
  }
} finally {
  await nc.close();
  await server.dispose();
}
report(
  `nats: ready -> change seen by watchWorkers (median of ${runs})`,
  { value: median(latencies), unit: 'ms' },
  {
    label: 'one client round trip (PING/PONG)',
    value: median(rtts),
  },
);
