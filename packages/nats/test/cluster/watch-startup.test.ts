// A controller started with its cluster: watchWorkers' set-up (create the registry bucket, start
// the watch, read its size) meets the same race as a worker's start-up, no answer until
// JetStream has leaders, and retries it within `setupTimeoutMs`.
import { type NatsCluster, startNatsCluster } from '@handover/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { watchWorkers } from '../../src/exports/controller.js';
import { transientReason } from '../../src/jetstream-errors.js';

let cluster: NatsCluster | undefined;
let nc: NatsConnection | undefined;
afterEach(async () => {
  await nc?.close();
  await cluster?.dispose();
});

describe('watchWorkers on a cluster with no JetStream quorum yet', () => {
  it('retries its set-up until the cluster answers, and creates the bucket R3', async () => {
    cluster = await startNatsCluster({ size: 3 });
    const [first, ...others] = cluster.servers;
    if (!first) throw new Error('no node');
    // Two of three nodes down: the one left cannot elect a leader, so JetStream cannot answer.
    await Promise.all(others.map((node) => node.stop()));
    nc = await connect({ servers: first.url, maxReconnectAttempts: -1 });

    // The fault is real: tried once, the set-up fails.
    const once = await watchWorkers(nc, 'orders', { setupTimeoutMs: 0 }).catch(
      (error: unknown) => error,
    );
    expect(transientReason(once), String(once)).toBeDefined();

    // Retried, it waits for the quorum the other nodes bring back.
    const watching = watchWorkers(nc, 'orders', { setupTimeoutMs: 45_000 });
    // Not handled until awaited below: keep an early rejection from counting as unhandled.
    watching.catch(() => {});
    await Promise.all(others.map((node) => node.restart()));
    const watch = await watching;
    await watch.loaded;
    expect(watch.snapshot()).toEqual([]);
    await watch.stop();

    // Created as a worker would create it on a cluster: three replicas.
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('KV_handover_orders');
    expect(info.config.num_replicas).toBe(3);
  }, 90_000);
});
