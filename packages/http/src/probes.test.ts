import type { Worker } from '@handover/core';
import { holdTask, httpRequest, waitFor } from '@handover/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, listen, testWorker } from '../test/helpers.js';
import { createProbeHandler } from './endpoints.js';
import { probePasses } from './probes.js';

afterEach(cleanup);

const as = (state: string, ready: boolean, hasBeenReady: boolean) =>
  ({ state, ready, hasBeenReady, waitingFor: () => ({}) }) as unknown as Worker;

describe('probePasses', () => {
  it.each([
    ['created', false, false, { livez: true, readyz: false, startupz: false, healthz: false }],
    ['warming', false, false, { livez: true, readyz: false, startupz: false, healthz: false }],
    ['ready', true, true, { livez: true, readyz: true, startupz: true, healthz: true }],
    // A ready worker whose broker is away: not ready, but healthy (a restart would not help).
    ['ready', false, true, { livez: true, readyz: false, startupz: true, healthz: true }],
    ['draining', false, true, { livez: true, readyz: false, startupz: true, healthz: true }],
    ['stopping', false, false, { livez: true, readyz: false, startupz: false, healthz: false }],
    ['failed', false, true, { livez: false, readyz: false, startupz: true, healthz: false }],
  ] as const)(
    'in state %s (ready %s, hasBeenReady %s) passes %j',
    (state, ready, hasBeenReady, expected) => {
      const worker = as(state, ready, hasBeenReady);
      for (const [probe, pass] of Object.entries(expected)) {
        expect(probePasses(worker, probe as keyof typeof expected), probe).toBe(pass);
      }
    },
  );
});

describe('createProbeHandler', () => {
  async function serve(options?: Parameters<typeof createProbeHandler>[1]) {
    const { worker } = testWorker();
    const probes = createProbeHandler(worker, options);
    const { port } = await listen((req, res) => {
      if (!probes(req, res)) res.end('app');
    });
    return { worker, port };
  }

  it('answers 503 while warming and 200 once ready, with a JSON body naming the state', async () => {
    const { worker, port } = await serve();
    const before = await httpRequest({ port, path: '/readyz' });
    expect(before.status).toBe(503);
    expect(JSON.parse(before.body)).toEqual({
      probe: 'readyz',
      status: 'fail',
      state: 'created',
      ready: false,
      hasBeenReady: false,
    });
    await worker.start();
    const after = await httpRequest({ port, path: '/readyz' });
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ status: 'pass', state: 'ready', ready: true });
  });

  it('says what a warming worker waits for: the warm-up hook running now', async () => {
    const { worker, port } = await serve();
    let release!: () => void;
    worker.warmup('cache', () => new Promise<void>((resolve) => (release = resolve)));
    const started = worker.start();
    const during = await waitFor(async () => {
      const answer = await httpRequest({ port, path: '/startupz' });
      return JSON.parse(answer.body).state === 'warming' ? answer : undefined;
    });
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toMatchObject({
      state: 'warming',
      waitingFor: { 'warm-up': 'running warm-up hook "cache"' },
    });
    release();
    await started;
    expect(
      JSON.parse((await httpRequest({ port, path: '/readyz' })).body).waitingFor,
    ).toBeUndefined();
  });

  it('turns /readyz 503 with the reason while draining, and keeps /livez and /healthz 200', async () => {
    const { worker, port } = await serve();
    await worker.start();
    const tracked = holdTask(worker, 'keeps the worker draining');
    void worker.drain();
    const ready = await httpRequest({ port, path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ state: 'draining', reason: 'state:draining' });
    expect((await httpRequest({ port, path: '/livez' })).status).toBe(200);
    expect((await httpRequest({ port, path: '/healthz' })).status).toBe(200);
    expect((await httpRequest({ port, path: '/startupz' })).status).toBe(200);
    tracked.done();
  });

  it('sends no-store JSON, ignores query strings, and answers HEAD without a body', async () => {
    const { port } = await serve();
    const get = await httpRequest({ port, path: '/livez?verbose=1&x=/readyz' });
    expect(get.status).toBe(200);
    expect(get.headers['cache-control']).toBe('no-store');
    expect(get.headers['content-type']).toBe('application/json; charset=utf-8');
    const head = await httpRequest({ port, path: '/livez', method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  it('answers other methods 405 with Allow', async () => {
    const { port } = await serve();
    const post = await httpRequest({ port, path: '/readyz', method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('leaves other paths to the app, and serves probes at the configured paths only', async () => {
    const { port } = await serve({ paths: { readyz: '/health/ready', livez: false } });
    expect((await httpRequest({ port, path: '/health/ready' })).status).toBe(503);
    expect((await httpRequest({ port, path: '/livez' })).body).toBe('app');
    expect((await httpRequest({ port, path: '/readyz' })).body).toBe('app');
    expect((await httpRequest({ port, path: '/livez/x' })).body).toBe('app');
    expect((await httpRequest({ port, path: '/startupz' })).status).toBe(503);
  });
});
