import { createWorker, isHandoverError, type PortContext, type Worker } from '@handover/core';
import { httpRequest, silentLogger } from '@handover/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { handoverFastify } from './plugin.js';

const silent = silentLogger;
const apps: FastifyInstance[] = [];
const workers: Worker[] = [];

function setup(): { app: FastifyInstance; worker: Worker } {
  const worker = createWorker({
    service: 'fastify-unit',
    identity: { id: 'f-1', hostname: 'f-1', addresses: ['10.0.0.7'] },
    exit: false,
    signals: [],
    env: {},
    logger: silent,
  });
  const app = Fastify();
  apps.push(app);
  workers.push(worker);
  return { app, worker };
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.drain('test-cleanup')));
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('handoverFastify', () => {
  it('is a fastify-plugin for Fastify 5 named @handover/fastify', () => {
    const meta = (handoverFastify as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')];
    expect(meta).toMatchObject({ fastify: '5.x', name: '@handover/fastify' });
  });

  it('serves the probes as routes: GET, HEAD without a body, 405 otherwise, query ignored', async () => {
    const { app, worker } = setup();
    let spy: PortContext | undefined;
    worker.use({ kind: 'extension', name: 'spy', attach: (context) => (spy = context) });
    await app.register(handoverFastify, { worker });
    app.get('/', async () => 'app');
    const port = await listen(app);
    expect((await httpRequest({ port, path: '/readyz' })).status).toBe(503);
    await worker.start();
    const ready = await httpRequest({ port, path: '/readyz?full=1' });
    expect(ready.status).toBe(200);
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(ready.body)).toMatchObject({ probe: 'readyz', state: 'ready' });
    const head = await httpRequest({ port, path: '/livez', method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
    const post = await httpRequest({ port, path: '/livez', method: 'POST' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect(spy?.snapshot().http).toBe(`http://10.0.0.7:${port}`);
  });

  it('registers no route with probes: false, and the drain endpoint when configured', async () => {
    const { app, worker } = setup();
    await app.register(handoverFastify, {
      worker,
      probes: true,
      paths: { livez: false },
      drain: { token: 'fastify-drain-token-0001' },
    });
    const port = await listen(app);
    await worker.start();
    expect((await httpRequest({ port, path: '/livez' })).status).toBe(404);
    expect((await httpRequest({ port, path: '/drain' })).status).toBe(401);

    const other = setup();
    await other.app.register(handoverFastify, { worker: other.worker, probes: false });
    const otherPort = await listen(other.app);
    expect((await httpRequest({ port: otherPort, path: '/readyz' })).status).toBe(404);
  });

  it('fails registration with HANDOVER_E_INVALID_OPTION for bad options or an HTTP/2 instance', async () => {
    const failure = async (app: FastifyInstance, options: unknown): Promise<unknown> => {
      try {
        await app.register(handoverFastify, options as never);
        await app.ready();
      } catch (error) {
        return error;
      }
      throw new Error('expected the registration to fail');
    };
    const { app, worker } = setup();
    const error = await failure(app, { worker, drain: {} });
    expect(isHandoverError(error, 'HANDOVER_E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain('Expected `drain` to be protected');

    const h2 = Fastify({ http2: true }) as unknown as FastifyInstance;
    apps.push(h2);
    expect(((await failure(h2, { worker: setup().worker })) as Error).message).toBe(
      'Expected a Fastify instance serving HTTP/1.1, got one created with `http2: true`',
    );
    expect(((await failure(setup().app, {})) as Error).message).toBe(
      'Expected `worker` to be a worker from createWorker(), got undefined',
    );
  });

  it('closes the Fastify instance (onClose hooks) when the worker drains', async () => {
    const { app, worker } = setup();
    const order: string[] = [];
    await app.register(handoverFastify, { worker });
    app.addHook('onClose', async () => {
      order.push('fastify onClose');
    });
    worker.onShutdown('db', () => {
      order.push('worker shutdown hook');
    });
    await listen(app);
    await worker.start();
    await worker.drain();
    expect(order).toEqual(['fastify onClose', 'worker shutdown hook']);
    expect(app.server.listening).toBe(false);
  });
});
