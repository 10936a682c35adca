import { waitFor } from '@handover/testkit';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { type WorkerChange, watchWorkers } from '../src/exports/controller.js';
import { schemas } from '../src/exports/wire.js';
import { useNats } from './helpers.js';

const { nc } = useNats();

const entry = (state: 'ready' | 'draining') =>
  JSON.stringify({
    schema: schemas.worker,
    service: 'order',
    id: 'order-1',
    instance: 'OrderInstance00000000001',
    version: '1.0.0',
    state,
    hostname: 'order-1',
    addresses: [],
    pid: 1,
    startedAt: new Date().toISOString(),
    readyAt: new Date().toISOString(),
    heartbeatAt: new Date().toISOString(),
    heartbeatMs: 1000,
    inflight: 0,
    concurrency: 1,
    endpoints: {},
    metadata: {},
  });

describe('watchWorkers, when the registry and the events disagree on order', () => {
  it('never turns a draining worker back to ready on a heartbeat written before its drain', async () => {
    const watch = await watchWorkers(nc(), 'order');
    await watch.loaded;
    const changes: WorkerChange[] = [];
    void (async () => {
      for await (const change of watch) changes.push(change);
    })();
    const kv = await new Kvm(nc()).open('handover_order');
    const changesAfter = (n: number) => () => changes.length > n || undefined;

    await kv.put('order-1', entry('ready'));
    await waitFor(changesAfter(0), { what: 'the worker added' });
    // The worker's draining event (core NATS) arrives before its entry says so (JetStream).
    nc().publish(
      'handover.order.events.order-1',
      JSON.stringify({
        schema: schemas.event,
        type: 'draining',
        service: 'order',
        id: 'order-1',
        instance: 'OrderInstance00000000001',
        version: '1.0.0',
        at: new Date().toISOString(),
        reason: 'SIGTERM',
      }),
    );
    await waitFor(changesAfter(1), { what: 'the draining event seen' });
    // A heartbeat written just before the drain, delivered only now; then the draining entry.
    await kv.put('order-1', entry('ready'));
    await waitFor(changesAfter(2), { what: 'the late heartbeat seen' });
    await kv.put('order-1', entry('draining'));
    await waitFor(changesAfter(3), { what: 'the draining entry seen' });
    await watch.stop();

    expect(changes.map((c) => `${c.type} ${c.worker.state}`)).toEqual([
      'added ready',
      'updated draining',
      'updated draining',
      'updated draining',
    ]);
  });
});
