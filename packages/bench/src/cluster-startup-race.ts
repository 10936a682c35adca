// Three workers starting at the same instant on a fresh 3-node cluster (issue 13: one exited
// with `cannot read stream orders_jobs: timeout`). Each opens the registry bucket and the jobs
// stream + consumer, R3, as the adapter does: once as released (no retry, nats.js's 5 s API
// timeout), once with the retry building block (2 s API timeout, retried until 15 s). Prints
// how many workers failed and the median time to set up; baseline: one worker alone.
import { captureLogger, startNatsCluster } from '@handover/testkit';
import {
  AckPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { alreadyExists } from '../../nats/src/jetstream-errors.js';
import { ReplicaPolicy } from '../../nats/src/replicas.js';
import { retryTransient } from '../../nats/src/retry.js';
import { errorKey } from './cluster-util.js';
import { median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 8);
const notFound = (error: unknown) =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamNotFound ||
    error.code === JetStreamApiCodes.ConsumerNotFound);

async function setUp(nc: NatsConnection, withRetry: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  const step = <T>(name: string, op: () => Promise<T>) =>
    (withRetry ? retryTransient(op, { deadline }) : op()).catch((error: unknown) => {
      throw new Error(`${name}: ${errorKey(error)}`);
    });
  const policy = new ReplicaPolicy(nc.info, captureLogger());
  const jsm = await step('$JS.API.INFO', () =>
    jetstreamManager(nc, withRetry ? { timeout: 2000 } : {}),
  );
  await step('KV create (STREAM.INFO, then STREAM.CREATE)', () =>
    policy.create({ kind: 'bucket', name: 'handover_orders' }, (replicas) =>
      new Kvm(jsm.jetstream()).create('handover_orders', { history: 1, ttl: 30_000, replicas }),
    ),
  );
  await step('stream info/add', async () => {
    try {
      await jsm.streams.info('orders_jobs');
    } catch (error) {
      if (!notFound(error)) throw error;
      await jsm.streams
        .add({
          name: 'orders_jobs',
          subjects: ['handover.orders.jobs'],
          retention: RetentionPolicy.Workqueue,
          num_replicas: 3,
        })
        .catch((cause: unknown) => {
          if (!alreadyExists(cause)) throw cause;
        });
    }
  });
  await step('consumer info/add', async () => {
    try {
      await jsm.consumers.info('orders_jobs', 'orders');
    } catch (error) {
      if (!notFound(error)) throw error;
      await jsm.consumers
        .add('orders_jobs', { durable_name: 'orders', ack_policy: AckPolicy.Explicit })
        .catch((cause: unknown) => {
          if (!alreadyExists(cause)) throw cause;
        });
    }
  });
}

async function round(workers: number, withRetry: boolean) {
  const cluster = await startNatsCluster();
  try {
    const ncs = await Promise.all(
      cluster.urls.slice(0, workers).map((url) => connect({ servers: url })),
    );
    const times: number[] = [];
    const failures: string[] = [];
    await Promise.all(
      ncs.map(async (nc) => {
        const started = Date.now();
        try {
          await setUp(nc, withRetry);
          times.push(Date.now() - started);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }),
    );
    await Promise.all(ncs.map((nc) => nc.close()));
    return { times, failures };
  } finally {
    await cluster.dispose();
  }
}

const results: Record<string, { times: number[]; failures: string[]; failedRounds: number }> = {};
for (const [label, workers, withRetry] of [
  ['alone', 1, false],
  ['released', 3, false],
  ['retry', 3, true],
] as const) {
  const all = { times: [] as number[], failures: [] as string[], failedRounds: 0 };
  for (let i = 0; i < rounds; i++) {
    const r = await round(workers, withRetry);
    all.times.push(...r.times);
    all.failures.push(...r.failures);
    if (r.failures.length > 0) all.failedRounds++;
  }
  results[label] = all;
  console.log(
    `  ${label}: ${all.failures.length} failed worker(s) in ${all.failedRounds}/${rounds} rounds ${JSON.stringify(all.failures)}; set-up ms ${all.times.sort((a, b) => a - b).join(', ')}`,
  );
}
for (const label of ['released', 'retry']) {
  const r = results[label];
  report(
    `cluster: 3 workers at once on a fresh cluster, ${label}: ${r?.failures.length} of ${3 * rounds} failed; median set-up`,
    { value: median(r?.times ?? []), unit: 'ms' },
    { label: 'one worker alone', value: median(results.alone?.times ?? []) },
  );
}
