// SIGTERM → exit of a Handover NATS worker process: idle, and with 100 tasks of 200 ms in
// flight (all running: concurrency 100). Baseline: a bare nats.js subscriber that drains its
// connection and exits on SIGTERM. Median of RUNS, in one run against one private server.
import { startNatsServer, waitFor } from '@handover/testkit';
import { connect } from '@nats-io/transport-node';
import { fixture, startNode } from './proc.js';
import { median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 10);
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const idle: number[] = [];
const busy: number[] = [];
const bare: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const env = { NATS_URL: server.url, SERVICE: `exit${i}` };
    bare.push((await (await startNode(fixture('nats-bare.mjs'), env)).stop()).ms);
    const quiet = await startNode(fixture('nats-worker.mjs'), env);
    const a = await quiet.stop();
    if (a.code !== 0) throw new Error(`idle worker exited ${a.code}`);
    idle.push(a.ms);

    const loaded = await startNode(fixture('nats-worker.mjs'), {
      ...env,
      TASK_MS: '200',
      CONCURRENCY: '100',
    });
    const replies = Array.from({ length: 100 }, () =>
      nc
        .request(`handover.exit${i}.tasks`, '{}', { timeout: 10_000 })
        .then((m) => !m.headers?.get('Nats-Service-Error-Code')),
    );
    await waitFor(async () => {
      const stats = (await nc.request(`$SRV.STATS.exit${i}`, undefined, { timeout: 1000 })).json<{
        endpoints: { data: { inflight: number } }[];
      }>();
      return stats.endpoints[0]?.data.inflight === 100;
    });
    const b = await loaded.stop();
    const ok = (await Promise.all(replies)).filter(Boolean).length;
    if (b.code !== 0 || ok !== 100)
      throw new Error(`busy worker exited ${b.code} with ${ok}/100 replies`);
    busy.push(b.ms);
  }
} finally {
  await nc.close();
  await server.dispose();
}
report(
  `nats: SIGTERM -> exit, idle worker (median of ${runs})`,
  { value: median(idle), unit: 'ms' },
  {
    label: 'bare subscriber: drain + exit',
    value: median(bare),
  },
);
report(
  `nats: SIGTERM -> exit, 100 tasks of 200 ms in flight (median of ${runs}; all 100 answered)`,
  {
    value: median(busy),
    unit: 'ms',
  },
  { label: 'the 200 ms of work left', value: 200 },
);
