import { createServer } from 'node:http';
import { isHandoverError } from '@handover/core';
import { holdTask, httpRequest, tryHttpRequest, waitFor } from '@handover/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { attachServer, startProbeServer } from '../src/index.js';
import { cleanup, listenOn, testWorker } from './helpers.js';

afterEach(cleanup);

describe('startProbeServer', () => {
  it('answers the probes on its own port: 503 while warming, 200 once ready, 404 elsewhere', async () => {
    const { worker } = testWorker();
    const probes = await startProbeServer(worker, { port: 0, host: '127.0.0.1' });
    expect((await httpRequest({ port: probes.port, path: '/startupz' })).status).toBe(503);
    await worker.start();
    expect((await httpRequest({ port: probes.port, path: '/startupz' })).status).toBe(200);
    expect((await httpRequest({ port: probes.port, path: '/readyz' })).status).toBe(200);
    expect((await httpRequest({ port: probes.port, path: '/' })).status).toBe(404);
  });

  it('keeps no error listener of its own once listening', async () => {
    const { worker } = testWorker();
    const probes = await startProbeServer(worker, { port: 0, host: '127.0.0.1' });
    expect(probes.server.listenerCount('error')).toBe(0);
  });

  it('stays up while the worker drains, after the main server has closed, and closes once stopped', async () => {
    const { worker } = testWorker();
    const main = createServer((_req, res) => res.end('ok'));
    attachServer(worker, main);
    const mainPort = await listenOn(main);
    const probes = await startProbeServer(worker, { port: 0, host: '127.0.0.1' });
    await worker.start();
    const work = holdTask(worker, 'long job');
    void worker.drain();
    await waitFor(
      async () => {
        const outcome = await tryHttpRequest({ port: mainPort });
        return !outcome.ok && outcome.code === 'ECONNREFUSED';
      },
      { what: 'the main server to refuse connections' },
    );
    expect((await httpRequest({ port: probes.port, path: '/livez' })).status).toBe(200);
    expect((await httpRequest({ port: probes.port, path: '/readyz' })).status).toBe(503);
    expect((await httpRequest({ port: probes.port, path: '/healthz' })).status).toBe(200);
    work.done();
    await worker.stopped;
    await waitFor(
      async () => {
        const outcome = await tryHttpRequest({ port: probes.port, path: '/livez' });
        return !outcome.ok && outcome.code === 'ECONNREFUSED';
      },
      { what: 'the probe server to close' },
    );
  });

  it('fails with HANDOVER_E_LISTEN when the port is taken', async () => {
    const { worker } = testWorker();
    const first = await startProbeServer(worker, { port: 0, host: '127.0.0.1' });
    const error = await startProbeServer(worker, { port: first.port, host: '127.0.0.1' }).catch(
      (e: unknown) => e,
    );
    expect(isHandoverError(error, 'HANDOVER_E_LISTEN')).toBe(true);
    expect((error as Error).message).toContain(`:${first.port}`);
    expect((error as Error).cause).toMatchObject({ code: 'EADDRINUSE' });
  });

  it('validates its options', async () => {
    const { worker } = testWorker();
    await expect(startProbeServer(worker, { port: 70_000 })).rejects.toThrow(
      'Expected `port` to be an integer from 0 to 65535, got 70000 (number)',
    );
    await expect(
      startProbeServer(worker, undefined as unknown as { port: number }),
    ).rejects.toThrow('Expected `options` to be an object with a `port`, got undefined');
    await expect(startProbeServer({} as never, { port: 0 })).rejects.toThrow(
      'Expected `worker` to be a worker from createWorker()',
    );
  });
});
