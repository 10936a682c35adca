import { createWorker, type Worker } from '@handover/core';
import { startProbeServer } from '@handover/http';
import { natsBroker, TaskError } from '@handover/nats';
import { captureLogger, type NatsServer, startNatsServer, waitFor } from '@handover/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handoverMetrics } from '../src/index.js';

let server: NatsServer;
let nc: NatsConnection;
const workers: Worker[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.drain('test-cleanup')));
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

/** A worker whose tasks wait for `release` (or its signal): the load a scrape sees. */
function newWorker(options: { gracePeriodMs?: number } = {}) {
  const worker = createWorker({
    service: 'metered',
    identity: { id: `m-${workers.length + 1}`, hostname: 'h', addresses: [] },
    exit: false,
    signals: [],
    env: {},
    logger: captureLogger(),
    ...options,
  });
  workers.push(worker);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  worker.use(
    natsBroker({
      servers: server.url,
      registry: false,
      handler: async (payload: { wait?: boolean }, { signal }) => {
        if (payload.wait) {
          await Promise.race([
            gate,
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason)),
            ),
          ]);
        }
        return 'ok';
      },
    }),
  );
  return { worker, release };
}

/** The value of one sample line (`name{labels} value`) in a text exposition, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('handoverMetrics', () => {
  it('serves the lifecycle, work in flight and finished work at /metrics of the probe server', async () => {
    const { worker, release } = newWorker();
    const metrics = handoverMetrics();
    worker.use(metrics);
    const probes = await startProbeServer(worker, { port: 0, host: '127.0.0.1', metrics });
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${probes.port}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };
    expect(sample(await scrape(), 'handover_worker_state', 'state="created"')).toBe(1);
    await worker.start();
    for (let i = 0; i < 5; i++) await nc.request('handover.metered.tasks', '{}', { timeout: 2000 });
    const held = [1, 2].map(() =>
      nc.request('handover.metered.tasks', '{"wait":true}', { timeout: 5000 }),
    );
    await waitFor(() => worker.inflight === 2);
    const busy = await scrape();
    expect(sample(busy, 'handover_worker_state', 'state="ready"')).toBe(1);
    expect(sample(busy, 'handover_worker_ready')).toBe(1);
    expect(sample(busy, 'handover_tasks_in_flight')).toBe(2);
    expect(sample(busy, 'handover_concurrency')).toBe(16);
    expect(sample(busy, 'handover_tasks_total', 'kind="nats",outcome="ok"')).toBe(5);
    expect(sample(busy, 'handover_task_duration_seconds_count', 'kind="nats"')).toBe(5);
    expect(sample(busy, 'handover_nats_answers_total', 'code="200"')).toBe(5);
    expect(sample(busy, 'handover_component_healthy', 'component="nats"')).toBe(1);
    expect(busy).toMatch(
      /^handover_worker_info\{service="metered",id="m-1",instance="[0-9A-Za-z]{22}",version="0.0.0"\} 1$/m,
    );
    release();
    await Promise.all(held);
  });

  it('shows a drain as it goes: state, reason, time spent, and the work cut off at its deadline', async () => {
    const { worker } = newWorker({ gracePeriodMs: 1500 });
    const registry = new Registry();
    const metrics = handoverMetrics({ registry });
    worker.use(metrics);
    await worker.start();
    const cut = nc.request('handover.metered.tasks', '{"wait":true}', { timeout: 5000 });
    await waitFor(() => worker.inflight === 1);
    const stopped = worker.drain('SIGTERM');
    const draining = await waitFor(async () => {
      const text = await registry.metrics();
      return (sample(text, 'handover_draining_seconds') ?? 0) > 0 ? text : undefined;
    });
    expect(sample(draining, 'handover_worker_state', 'state="draining"')).toBe(1);
    expect(sample(draining, 'handover_worker_ready')).toBe(0);
    expect(sample(draining, 'handover_drains_total', 'reason="SIGTERM"')).toBe(1);
    expect(sample(draining, 'handover_draining_seconds')).toBeGreaterThan(0);
    const answer = await cut;
    expect(answer.headers?.get('Nats-Service-Error-Code')).toBe('503');
    await stopped;
    const after = await metrics.render();
    expect(sample(after, 'handover_tasks_total', 'kind="nats",outcome="cut_off"')).toBe(1);
    expect(sample(after, 'handover_nats_answers_total', 'code="503"')).toBe(1);
  });

  it('counts JetStream settlements by how: ack, nak for a retry, term for a rejection', async () => {
    const worker = createWorker({
      service: 'settled',
      identity: { id: 's-1', hostname: 'h', addresses: [] },
      exit: false,
      signals: [],
      env: {},
      logger: captureLogger(),
    });
    workers.push(worker);
    const tries = new Map<string, number>();
    worker.use(
      natsBroker({
        servers: server.url,
        registry: false,
        jetstream: {
          stream: 'SETTLED',
          nakDelayMs: { base: 50, max: 50 },
          handler: async (job: { id: string; failOnce?: boolean; reject?: boolean }) => {
            const n = (tries.get(job.id) ?? 0) + 1;
            tries.set(job.id, n);
            if (job.reject) throw new TaskError(422, 'no such account');
            if (job.failOnce && n === 1) throw new Error('flaky');
          },
        },
      }),
    );
    const metrics = handoverMetrics({ registry: new Registry() });
    worker.use(metrics);
    await worker.start();
    // A request to a stream's subject is a JetStream publish: the answer is its PubAck.
    for (const job of [
      { id: 'a' },
      { id: 'b' },
      { id: 'c', failOnce: true },
      { id: 'd', reject: true },
    ]) {
      const ack = await nc.request('handover.settled.jobs', JSON.stringify(job));
      expect(ack.json<{ seq?: number }>().seq).toBeGreaterThan(0);
    }
    const text = await waitFor(async () => {
      const t = await metrics.render();
      return sample(t, 'handover_jetstream_settled_total', 'how="ack"') === 3 ? t : undefined;
    });
    expect(tries.get('c')).toBe(2);
    expect(sample(text, 'handover_jetstream_settled_total', 'how="nak"')).toBe(1);
    expect(sample(text, 'handover_jetstream_settled_total', 'how="term"')).toBe(1);
  });

  it('registers into the registry it is given, next to the application own metrics', async () => {
    const { worker } = newWorker();
    const registry = new Registry();
    worker.use(handoverMetrics({ registry }));
    expect(registry.getMetricsAsArray().map((m) => m.name)).toContain('handover_tasks_total');
    expect(() => worker.use(handoverMetrics({ registry }))).toThrow(/already been registered/);
  });
});
