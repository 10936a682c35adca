// SIGTERM → exit of a JetStream worker process, against the same worker without JetStream:
// - idle: the signal comes at a random moment (so it samples every phase of the pulls);
// - busy: 16 jobs of 100 ms just started (concurrency 16: every slot taken; concurrency 32:
//   half the slots free, so pulls are open while jobs run); the figure is the time past the
//   end of the last job started.
// Also counts the pull requests an idle worker sends a second (the server's cost of waiting).
// EXPIRES=100,200,500,1000 repeats it all for each pull expiry (the trade-off of issue 12).
import { startNatsServer, waitFor } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fixture, startNode, waitForOutput } from './proc.js';
import { fmt, median, quantile, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 10);
const expiries = (process.env.EXPIRES ?? '').split(',').filter(Boolean);
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const spread = (values: number[]) =>
  `median ${fmt(median(values))}, p90 ${fmt(quantile(values, 0.9))}, max ${fmt(Math.max(...values))}`;

async function withStream<T>(name: string, fn: (stream: string) => Promise<T>): Promise<T> {
  await jsm.streams.add({ name, subjects: [`bench.${name}`] });
  await jsm.consumers.add(name, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
  try {
    return await fn(name);
  } finally {
    await jsm.streams.delete(name);
  }
}

async function measure(expires: string | undefined, tag: string): Promise<void> {
  const base = { NATS_URL: server.url, ...(expires ? { PULL_EXPIRES_MS: expires } : {}) };
  const bare: number[] = [];
  const idle: number[] = [];
  const busy: Record<string, number[]> = { '16': [], '32': [] };
  const requestRates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const plain = await startNode(fixture('nats-worker.mjs'), { ...base, SERVICE: `plain${i}` });
    bare.push((await plain.stop()).ms);

    await withStream(`IDLE${tag}x${i}`, async (stream) => {
      const worker = await startNode(fixture('nats-worker.mjs'), {
        ...base,
        STREAM: stream,
        SERVICE: stream,
      });
      let requests = 0;
      const spy = nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream}.bench`, {
        callback: () => {
          requests++;
        },
      });
      const waitMs = 1000 + Math.random() * 1000;
      await sleep(waitMs);
      spy.unsubscribe();
      requestRates.push(requests / (waitMs / 1000));
      const stopped = await worker.stop();
      if (stopped.code !== 0) throw new Error(`idle worker exited ${stopped.code}`);
      idle.push(stopped.ms);
    });

    for (const concurrency of ['16', '32']) {
      await withStream(`BUSY${tag}x${concurrency}x${i}`, async (stream) => {
        const worker = await startNode(fixture('nats-worker.mjs'), {
          ...base,
          STREAM: stream,
          SERVICE: stream,
          CONCURRENCY: concurrency,
          TASK_MS: '100',
          JOB_LOG: '1',
        });
        const started = waitForOutput(worker.child, /(started\n){16}/);
        await Promise.all(Array.from({ length: 16 }, () => js.publish(`bench.${stream}`, '{}')));
        await started;
        const lastStart = performance.now();
        const stopped = await worker.stop();
        const exitedAt = performance.now();
        if (stopped.code !== 0) throw new Error(`busy worker exited ${stopped.code}`);
        const info = await waitFor(async () => {
          const c = await jsm.consumers.info(stream, 'bench');
          return c.num_ack_pending === 0 && c.num_pending === 0 ? c : undefined;
        });
        if (info.num_redelivered !== 0) throw new Error('busy worker redelivered jobs');
        // Exit past the end of the last job to start (it had 100 ms left when it started).
        busy[concurrency]?.push(exitedAt - lastStart - 100);
      });
    }
  }
  const label = expires ? `pull expires ${expires} ms` : 'default pull expiry';
  report(
    `jetstream (${label}): SIGTERM -> exit, idle worker (median of ${runs}: ${spread(idle)})`,
    { value: median(idle), unit: 'ms' },
    { label: 'the same worker without JetStream', value: median(bare) },
  );
  for (const [concurrency, values] of Object.entries(busy)) {
    report(
      `jetstream (${label}): SIGTERM -> exit past the end of 16 jobs of 100 ms, concurrency ${concurrency} (median of ${runs}: ${spread(values)})`,
      { value: median(values), unit: 'ms' },
      { label: 'the same worker without JetStream, idle', value: median(bare) },
    );
  }
  console.log(
    `jetstream (${label}): pull requests a second from an idle worker: ${fmt(median(requestRates))}`,
  );
}

try {
  if (expiries.length === 0) await measure(undefined, 'D');
  for (const expires of expiries) await measure(expires, `E${expires}`);
} finally {
  await nc.close();
  await server.dispose();
}
