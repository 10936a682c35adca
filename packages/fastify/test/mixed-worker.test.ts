import { fileURLToPath } from 'node:url';
import {
  expectBuilt,
  getFreePort,
  type NatsServer,
  spawnNode,
  startNatsServer,
  tryHttpRequest,
  waitFor,
} from '@handover/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/mixed-worker.mjs', import.meta.url));
let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  expectBuilt(
    ['../dist/index.js', '../../nats/dist/index.js', '../../core/dist/index.js'].map((path) =>
      fileURLToPath(new URL(path, import.meta.url)),
    ),
  );
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe('a worker with Fastify, NATS request/reply and JetStream intakes', () => {
  it('keeps the lifecycle order across all of them, from ready to exit', async () => {
    const port = await getFreePort();
    const child = spawnNode(fixture, { env: { PORT: String(port), NATS_URL: server.url } });
    const bucket = await new Kvm(nc).create('handover_mixed', { history: 1, ttl: 3000 });

    // Ready means ready everywhere: at the first /readyz 200, the entry is already written and
    // the request intake answers.
    await waitFor(
      async () => {
        const ready = await tryHttpRequest({ port, path: '/readyz' });
        return ready.ok && ready.status === 200;
      },
      { what: '/readyz 200', intervalMs: 5, timeoutMs: 15_000 },
    );
    const entry = await bucket.get('mixed-1');
    expect(entry?.operation, 'the entry when /readyz first said 200').toBe('PUT');
    expect(
      (await nc.request('handover.mixed.tasks', '{"ms":0}', { timeout: 2000 })).json(),
    ).toEqual({
      ok: true,
    });

    // One piece of work in flight on each intake.
    const http = tryHttpRequest({ port, method: 'POST', path: '/slow?ms=1500' });
    const task = nc.request('handover.mixed.tasks', '{"ms":1500}', { timeout: 10_000 });
    await jetstream(nc).publish('handover.mixed.jobs', '{"ms":1500}');
    for (const kind of ['http request', 'nats task', 'jetstream job']) {
      await child.waitForLog((line) => line.msg === `${kind} started`);
    }
    child.signal('SIGTERM');

    const answered = await http;
    expect(answered.ok && answered.status, JSON.stringify(answered)).toBe(200);
    expect((await task).json()).toEqual({ ok: true });
    expect((await child.waitForExit(15_000)).code).toBe(0);
    const consumer = await (await jetstreamManager(nc)).consumers.info('MIXED', 'mixed');
    expect([consumer.num_pending, consumer.num_ack_pending, consumer.num_redelivered]).toEqual([
      0, 0, 0,
    ]);

    const order = child.logs.map((line) => String(line.msg));
    const at = (msg: string) => {
      const index = order.indexOf(msg);
      expect(index, `"${msg}" in the log`).toBeGreaterThan(-1);
      return index;
    };
    expect(at('registered')).toBeLessThan(
      order.findIndex((m, i) => m === 'state changed' && child.logs[i]?.state === 'ready'),
    );
    const lastWork = Math.max(
      at('http request done'),
      at('nats task done'),
      at('jetstream job done'),
    );
    expect(lastWork).toBeLessThan(at('deregistered'));
    expect(at('deregistered')).toBeLessThan(at('fastify onClose hook ran'));
    expect(at('fastify onClose hook ran')).toBeLessThan(at('shutdown hook ran'));
    expect(at('shutdown hook ran')).toBeLessThan(at('stopped'));
  });
});
