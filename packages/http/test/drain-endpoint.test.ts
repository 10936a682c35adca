import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { holdTask, httpRequest, tryHttpRequest } from '@handover/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { attachServer, createProbeHandler, type EndpointOptions } from '../src/index.js';
import { cleanup, listen, listenOn, testWorker } from './helpers.js';

afterEach(cleanup);

const token = 'pre-stop-token-0123456789';
const auth = { authorization: `Bearer ${token}` };
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

async function serve(options: EndpointOptions, host?: string) {
  const rig = testWorker();
  const probes = createProbeHandler(rig.worker, options);
  const { port } = await listen((req, res) => {
    if (!probes(req, res)) res.writeHead(404).end();
  }, host);
  await rig.worker.start();
  return { ...rig, port };
}

describe('the drain endpoint', () => {
  it('is off unless configured', async () => {
    const { worker, port } = await serve({});
    expect((await httpRequest({ port, path: '/drain', headers: auth })).status).toBe(404);
    expect(worker.state).toBe('ready');
  });

  it('refuses a call without the right token (401) and never logs the token', async () => {
    const { worker, logger, port } = await serve({ drain: { token } });
    const none = await httpRequest({ port, path: '/drain' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="handover"');
    const wrong = await httpRequest({
      port,
      path: '/drain',
      headers: { authorization: `Bearer ${token}x` },
    });
    expect(wrong.status).toBe(401);
    expect(worker.state).toBe('ready');
    expect(
      logger.entries.filter((e) => e.message.startsWith('drain endpoint: call refused')),
    ).toHaveLength(2);
    await httpRequest({ port, path: '/drain', headers: auth });
    expect(JSON.stringify(logger.entries)).not.toContain(token);
  });

  it('answers other methods 405 with Allow', async () => {
    const { port } = await serve({ drain: { token } });
    const put = await httpRequest({ port, path: '/drain', method: 'PUT', headers: auth });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
  });

  it.runIf(externalAddress)(
    'with loopbackOnly, refuses a call from another address (403)',
    async () => {
      const { worker, port } = await serve({ drain: { loopbackOnly: true } }, '0.0.0.0');
      const remote = await httpRequest({ host: externalAddress, port, path: '/drain' });
      expect(remote.status).toBe(403);
      expect(worker.state).toBe('ready');
      const local = await httpRequest({ port, path: '/drain', method: 'POST' });
      expect(local.status).toBe(200);
    },
  );

  it('starts the drain and answers once the work in flight is done', async () => {
    const { worker, port } = await serve({ drain: { token } });
    const work = holdTask(worker, 'job');
    const call = httpRequest({ port, path: '/drain', headers: auth });
    await expect.poll(() => worker.state).toBe('draining');
    const doneAt = Date.now() + 300;
    setTimeout(() => work.done(), 300);
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'drained', inflight: 0 });
    expect(answer.receivedAt).toBeGreaterThanOrEqual(doneAt - 5);
    expect((await worker.stopped).reason).toBe('drain-endpoint');
  });

  it('answers after maxWaitMs when the drain takes longer', async () => {
    const { worker, port } = await serve({ drain: { token, maxWaitMs: 200 } });
    const work = holdTask(worker, 'long job');
    const answer = await httpRequest({ port, path: '/drain', headers: auth });
    const heldMs = answer.receivedAt - answer.sentAt;
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'draining', state: 'draining' });
    expect(heldMs, `held ${heldMs} ms`).toBeGreaterThanOrEqual(190);
    expect(heldMs, `held ${heldMs} ms`).toBeLessThan(2000);
    work.done();
  });

  it('on an attached server, answers when that server starts closing and is not in-flight work', async () => {
    const { worker } = testWorker({ drainDelayMs: 300 });
    const probes = createProbeHandler(worker, { drain: { token } });
    const server = createServer((req, res) => {
      if (!probes(req, res)) res.end('app');
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const work = holdTask(worker, 'long job');
    const answer = await httpRequest({ port, path: '/drain', headers: auth });
    const heldMs = answer.receivedAt - answer.sentAt;
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'draining' });
    expect(answer.headers.connection).toBe('close');
    expect(heldMs, `held ${heldMs} ms`).toBeGreaterThanOrEqual(290);
    expect(worker.tasks().map((t) => t.name)).toEqual(['long job']);
    work.done();
    expect((await worker.stopped).exitCode).toBe(0);
    expect((await tryHttpRequest({ port, path: '/livez' })).ok).toBe(false);
  });
});
