// The building blocks of issue 13 on real clusters: server lists, replicas, and the start-up
// of three workers at the same instant on a fresh cluster.

import { captureLogger, startNatsCluster, startNatsServer } from '@handover/testkit';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveServers } from '../../src/connection.js';
import { alreadyExists } from '../../src/jetstream-errors.js';
import { ReplicaPolicy } from '../../src/replicas.js';
import { retryTransient } from '../../src/retry.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
const open = async (servers: string | string[]): Promise<NatsConnection> => {
  const nc = await connect({ servers, maxReconnectAttempts: -1 });
  cleanup.push(() => nc.close());
  return nc;
};

/**
 * What a worker does at start-up, built from the blocks: the registry bucket and a jobs stream,
 * replicated as the policy says, each call retried while JetStream's answer is transient.
 */
async function setUp(nc: NatsConnection, policy: ReplicaPolicy, deadline: number) {
  let retries = 0;
  const retry = <T>(op: () => Promise<T>) =>
    retryTransient(op, { deadline, onRetry: () => retries++ });
  // A short API timeout: a STREAM.INFO that nobody answers costs 2 s, not nats.js's 5 s.
  const jsm: JetStreamManager = await retry(() => jetstreamManager(nc, { timeout: 2000 }));
  const kv = await retry(() =>
    policy.create({ kind: 'bucket', name: 'handover_orders' }, (replicas) =>
      new Kvm(jsm.jetstream()).create('handover_orders', { history: 1, ttl: 30_000, replicas }),
    ),
  );
  // Its STREAM.INFO meets the same race as the creation: retried too.
  const bucket = await retry(() => kv.status());
  policy.check({ kind: 'bucket', name: 'handover_orders' }, bucket.replicas);
  const stream = await retry(async () => {
    try {
      return await jsm.streams.info('orders_jobs');
    } catch (error) {
      const notFound =
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
      if (!notFound) throw error;
      return policy
        .create({ kind: 'stream', name: 'orders_jobs' }, (replicas) =>
          jsm.streams.add({
            name: 'orders_jobs',
            subjects: ['handover.orders.jobs'],
            retention: RetentionPolicy.Workqueue,
            num_replicas: replicas,
          }),
        )
        .catch((cause: unknown) => {
          if (alreadyExists(cause)) return jsm.streams.info('orders_jobs');
          throw cause;
        });
    }
  });
  policy.check({ kind: 'stream', name: 'orders_jobs' }, stream.config.num_replicas);
  return {
    bucketReplicas: bucket.replicas,
    streamReplicas: stream.config.num_replicas,
    retries,
  };
}

describe('a NATS server list', () => {
  it('spreads connections over the nodes of a NATS_URL-style list', async () => {
    const cluster = await startNatsCluster();
    cleanup.push(() => cluster.dispose());
    const servers = resolveServers({}, { NATS_URL: cluster.url });
    const nodes = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const nc = await connect({ servers });
      nodes.add(cluster.nodeOf(nc).name);
      await nc.close();
    }
    // nats.js shuffles a list; the same string passed whole lands on one node every time.
    expect(nodes.size, `20 connections used ${[...nodes].join(', ')}`).toBeGreaterThan(1);
  });
});

describe('replicas', () => {
  it('are 3 on a 3-node cluster, for the bucket and the stream', async () => {
    const cluster = await startNatsCluster();
    cleanup.push(() => cluster.dispose());
    const nc = await open(cluster.urls[0] as string);
    const logger = captureLogger();
    const result = await setUp(nc, new ReplicaPolicy(nc.info, logger), Date.now() + 15_000);
    expect(result).toMatchObject({ bucketReplicas: 3, streamReplicas: 3 });
    expect(logger.entries).toEqual([]);
  });

  it('fall back to 1 with one warning each on a 2-node cluster', async () => {
    const cluster = await startNatsCluster({ size: 2 });
    cleanup.push(() => cluster.dispose());
    const nc = await open(cluster.urls[0] as string);
    const logger = captureLogger();
    const result = await setUp(nc, new ReplicaPolicy(nc.info, logger), Date.now() + 15_000);
    expect(result).toMatchObject({ bucketReplicas: 1, streamReplicas: 1 });
    // The bucket's failure teaches the policy: the stream is asked for 1 at once, silently.
    expect(logger.entries.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /cannot place 3 replicas of bucket handover_orders.*nats stream edit KV_handover_orders --replicas 3/,
      ),
    ]);
  });

  it('are 1 on a single server, without a warning', async () => {
    const server = await startNatsServer();
    cleanup.push(() => server.dispose());
    const nc = await open(server.url);
    const logger = captureLogger();
    const result = await setUp(nc, new ReplicaPolicy(nc.info, logger), Date.now() + 15_000);
    expect(result).toMatchObject({ bucketReplicas: 1, streamReplicas: 1 });
    expect(logger.entries).toEqual([]);
  });

  it('of an existing R1 bucket on a cluster are kept, with a warning that says how to fix it', async () => {
    const cluster = await startNatsCluster();
    cleanup.push(() => cluster.dispose());
    const nc = await open(cluster.urls[0] as string);
    await new Kvm(nc).create('handover_orders', { history: 1, replicas: 1 });
    const logger = captureLogger();
    const result = await setUp(nc, new ReplicaPolicy(nc.info, logger), Date.now() + 15_000);
    expect(result).toMatchObject({ bucketReplicas: 1, streamReplicas: 3 });
    expect(logger.entries).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/bucket handover_orders has 1 replica/),
      }),
    ]);
  });
});

describe('three workers starting at the same instant on a fresh cluster', () => {
  it('all set up R3 assets, retrying what the race makes time out', async () => {
    const rounds = 3;
    const outcomes: string[] = [];
    let retries = 0;
    for (let round = 0; round < rounds; round++) {
      const cluster = await startNatsCluster();
      cleanup.push(() => cluster.dispose());
      const ncs = await Promise.all(cluster.urls.map((url) => open(url)));
      const deadline = Date.now() + 15_000;
      const results = await Promise.allSettled(
        ncs.map((nc) => setUp(nc, new ReplicaPolicy(nc.info, captureLogger()), deadline)),
      );
      for (const result of results) {
        if (result.status === 'rejected') outcomes.push(`failed: ${String(result.reason)}`);
        else {
          retries += result.value.retries;
          outcomes.push(`R${result.value.bucketReplicas}/R${result.value.streamReplicas}`);
        }
      }
      for (const step of cleanup.splice(0).reverse()) await step();
    }
    // The race is timing-dependent: without retries, one worker of three timed out on
    // STREAM.INFO (or KV create) in 1 to 8 rounds of 8, depending on how the starts line up.
    expect(outcomes, `${retries} retries over ${rounds} rounds`).toEqual(
      Array.from({ length: 3 * rounds }, () => 'R3/R3'),
    );
  }, 60_000);
});
