// Why the drain order matters: 100 requests of 200 ms in flight at SIGTERM, against a worker
// that closes its connection first (then finishes the work) and against a Handover worker
// (stop intake, finish work, deregister, then drain the connection). Replies received of 100.
import { startNatsServer, waitFor } from '@handover/testkit';
import { connect } from '@nats-io/transport-node';
import { fixture, startNode } from './proc.js';

const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const received: Record<string, number> = {};
try {
  for (const [label, script] of [
    ['close the connection first', 'nats-naive.mjs'],
    ['Handover drain order', 'nats-worker.mjs'],
  ] as const) {
    const service = script.replace(/\W/g, '');
    const worker = await startNode(fixture(script), {
      NATS_URL: server.url,
      SERVICE: service,
      TASK_MS: '200',
      CONCURRENCY: '100',
      EXPECT: '100',
    });
    let allIn = false;
    worker.child.stdout?.on('data', (chunk: Buffer) => {
      allIn ||= chunk.toString().includes('all in flight');
    });
    const replies = Array.from({ length: 100 }, () =>
      nc.request(`handover.${service}.tasks`, '{}', { timeout: 3000 }).then(
        () => 1,
        () => 0,
      ),
    );
    // Every request has reached the worker: it says so (naive) or its STATS do (Handover).
    await waitFor(async () => {
      if (allIn) return true;
      const stats = await nc
        .request(`$SRV.STATS.${service}`, undefined, { timeout: 500 })
        .catch(() => undefined);
      return (
        stats?.json<{ endpoints: { data: { inflight: number } }[] }>().endpoints[0]?.data
          .inflight === 100
      );
    });
    await worker.stop();
    received[label] = (await Promise.all(replies)).reduce((a: number, b: number) => a + b, 0);
  }
} finally {
  await nc.close();
  await server.dispose();
}
const naive = received['close the connection first'] ?? 0;
const handover = received['Handover drain order'] ?? 0;
console.log(
  `nats: replies received of 100 in flight at SIGTERM: Handover drain order ${handover}, closing the connection first ${naive} (${100 - naive} computed replies lost)`,
);
