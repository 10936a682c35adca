import type { Server } from 'node:http';
import { createWorker, type Worker } from '@handover/core';
import { httpRequest, silentLogger, tryHttpRequest } from '@handover/testkit';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { attachServer, serve } from './index.js';
import { handoverMiddleware } from './middleware.js';

const silent = silentLogger;
const workers: Worker[] = [];
const servers: Server[] = [];

function newWorker(): Worker {
  const worker = createWorker({
    service: 'express-unit',
    identity: { id: 'e-1', hostname: 'e-1', addresses: ['10.0.0.9'] },
    exit: false,
    signals: [],
    env: {},
    logger: silent,
  });
  workers.push(worker);
  return worker;
}

function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
    servers.push(server);
  });
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.drain('test-cleanup')));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('handoverMiddleware', () => {
  it('answers the probes and passes everything else on', async () => {
    const worker = newWorker();
    const app = express();
    app.use(handoverMiddleware(worker));
    app.get('/', (_req, res) => {
      res.send('app');
    });
    const { port } = await listen(app);
    expect((await httpRequest({ port, path: '/readyz' })).status).toBe(503);
    await worker.start();
    const ready = await httpRequest({ port, path: '/readyz?x=1' });
    expect([ready.status, ready.headers['cache-control']]).toEqual([200, 'no-store']);
    expect((await httpRequest({ port, path: '/livez', method: 'HEAD' })).body).toBe('');
    expect((await httpRequest({ port, path: '/livez', method: 'DELETE' })).status).toBe(405);
    expect((await httpRequest({ port })).body).toBe('app');
    expect((await httpRequest({ port, path: '/nope' })).status).toBe(404);
  });

  it('works under a mount path', async () => {
    const worker = newWorker();
    const app = express();
    app.use('/ops', handoverMiddleware(worker, { paths: { healthz: '/health' } }));
    const { port } = await listen(app);
    await worker.start();
    expect((await httpRequest({ port, path: '/ops/health' })).status).toBe(200);
    expect((await httpRequest({ port, path: '/health' })).status).toBe(404);
  });

  it('rejects bad options at once', () => {
    expect(() => handoverMiddleware(newWorker(), { drain: {} })).toThrow(
      expect.objectContaining({ code: 'HANDOVER_E_INVALID_OPTION' }),
    );
  });
});

describe('attachServer', () => {
  it('attaches the server app.listen returned: advertised, tracked and closed by the drain', async () => {
    const worker = newWorker();
    const app = express();
    let inflight = 0;
    app.get('/', (_req, res) => {
      inflight = worker.inflight;
      res.send('ok');
    });
    const { server, port } = await listen(app);
    attachServer(worker, server);
    await worker.start();
    await httpRequest({ port });
    expect(inflight).toBe(1);
    await worker.drain();
    const after = await tryHttpRequest({ port });
    expect(after.ok ? after.status : after.code).toBe('ECONNREFUSED');
  });
});

describe('serve', () => {
  const port0 = { port: 0, host: '127.0.0.1' } as const;
  const portOf = (server: Server): number => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  };

  it('serves the app with the probes ahead of it, in one call: a catch-all route cannot shadow them', async () => {
    const worker = newWorker();
    const app = express();
    let inflight = 0;
    app.use((_req, res) => {
      inflight = worker.inflight;
      res.send('catch-all');
    });
    const { server } = await serve(worker, app, port0);
    servers.push(server);
    const port = portOf(server);
    expect((await httpRequest({ port, path: '/readyz' })).status).toBe(503);
    await worker.start();
    expect((await httpRequest({ port, path: '/readyz' })).status).toBe(200);
    expect((await httpRequest({ port, path: '/anything' })).body).toBe('catch-all');
    expect(inflight).toBe(1);
    await worker.drain();
    const after = await tryHttpRequest({ port });
    expect(after.ok ? after.status : after.code).toBe('ECONNREFUSED');
  });

  it('rejects with HANDOVER_E_LISTEN when the port is taken, and refuses bad options', async () => {
    const first = await serve(newWorker(), express(), port0);
    servers.push(first.server);
    const error = await serve(newWorker(), express(), {
      ...port0,
      port: portOf(first.server),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HANDOVER_E_LISTEN' });
    await expect(serve(newWorker(), express(), { port: 70_000 })).rejects.toMatchObject({
      code: 'HANDOVER_E_INVALID_OPTION',
    });
  });
});
