import { captureLogger } from '@handover/testkit';
import { describe, expect, it } from 'vitest';
import { flush, ManualClock } from '../test/manual-clock.js';
import { TaskAbortedError } from './errors.js';
import type { PortContext } from './ports.js';
import { durationBuckets } from './stats.js';
import { createWorker } from './worker.js';

function rig() {
  const clock = new ManualClock();
  const worker = createWorker({
    service: 'orders',
    identity: { id: 'w-1', hostname: 'w-1', addresses: [] },
    clock,
    exit: false,
    signals: [],
    env: {},
    logger: captureLogger(),
  });
  let context!: PortContext;
  worker.use({ kind: 'extension', name: 'metrics', attach: (c) => (context = c) });
  return { worker, clock, context };
}

describe('worker stats', () => {
  it('count nothing until a port enables them', async () => {
    const { worker, context } = rig();
    await worker.start();
    await worker.run(() => 'done', { name: 'nats:orders.tasks' });
    context.count('handover_nats_answers_total', { code: '200' });
    expect(context.stats()).toEqual({ kinds: [], counters: [] });
  });

  it('count finished work by kind and outcome, with durations, and adapters counters', async () => {
    const { worker, clock, context } = rig();
    context.enableStats();
    await worker.start();
    const slow = worker.run(
      () => new Promise((resolve) => clock.setTimeout(() => resolve('ok'), 300)),
      { name: 'nats:orders.tasks' },
    );
    await clock.advance(300);
    await slow;
    await expect(
      worker.run(
        () => {
          throw new Error('boom');
        },
        { name: 'nats:orders.tasks' },
      ),
    ).rejects.toThrow('boom');
    context.track({ name: 'http:GET' }).done();
    context.count('handover_nats_answers_total', { code: '503' });
    context.count('handover_nats_answers_total', { code: '503' }, 2);
    const stats = context.stats();
    const nats = stats.kinds.find((k) => k.kind === 'nats');
    expect(nats?.outcomes).toEqual({ ok: 1, error: 1, cut_off: 0 });
    expect([nats?.count, nats?.sum]).toEqual([2, 0.3]);
    // 0.3 s falls in every bucket from 0.5 s up; 0 s in all of them.
    const at = (bound: number) => nats?.buckets[durationBuckets.indexOf(bound)];
    expect([at(0.25), at(0.5), at(60)]).toEqual([1, 2, 2]);
    expect(stats.kinds.find((k) => k.kind === 'http')?.outcomes).toEqual({
      ok: 1,
      error: 0,
      cut_off: 0,
    });
    expect(stats.counters).toEqual([
      { name: 'handover_nats_answers_total', labels: { code: '503' }, value: 3 },
    ]);
  });

  it('count work cut off at the drain deadline as cut_off, tracked requests included', async () => {
    const { worker, clock, context } = rig();
    context.enableStats();
    await worker.start();
    const request = context.track({ name: 'http:GET' });
    const task = worker.run(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      {
        name: 'jetstream:ORDERS/orders',
      },
    );
    const cut = expect(task).rejects.toBeInstanceOf(TaskAbortedError);
    void worker.drain();
    await clock.advance(9000);
    await cut;
    request.done();
    await flush();
    const outcomes = Object.fromEntries(context.stats().kinds.map((k) => [k.kind, k.outcomes]));
    expect(outcomes).toEqual({
      http: { ok: 0, error: 0, cut_off: 1 },
      jetstream: { ok: 0, error: 0, cut_off: 1 },
    });
  });
});
