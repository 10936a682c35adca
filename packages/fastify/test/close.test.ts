import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  expectBuilt,
  type HttpService,
  httpRequest,
  startHttpService,
  tryHttpRequest,
  within,
} from '@handover/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url));
const services: HttpService[] = [];
const agents: Agent[] = [];

async function start(env: Record<string, string>): Promise<HttpService> {
  const service = await startHttpService(fixture, { KEEP_ALIVE_MS: '72000', ...env });
  services.push(service);
  return service;
}

/** A keep-alive client whose request is in flight when the close begins. */
async function slowKeepAlive(service: HttpService, ms: number) {
  const agent = new Agent({ keepAlive: true });
  agents.push(agent);
  const response = tryHttpRequest({ port: service.port, path: `/slow?ms=${ms}`, agent });
  await service.log('slow request started');
  // Wrapped: returning the promise itself would make the caller wait for the response.
  return { response };
}

beforeAll(() =>
  expectBuilt(
    ['../dist/index.js', '../../http/dist/index.js', '../../core/dist/index.js'].map((path) =>
      fileURLToPath(new URL(path, import.meta.url)),
    ),
  ),
);

afterEach(() => {
  for (const service of services.splice(0)) service.child.signal('SIGKILL');
  for (const agent of agents.splice(0)) agent.destroy();
});

describe('fastify onClose hooks and the work of other intakes', () => {
  const order = (service: HttpService) =>
    service.child.logs
      .map((line) => line.msg)
      .filter((msg) => ['other task done', 'fastify onClose hook ran'].includes(msg as string));

  it.each([
    ['on SIGTERM', 'SIGTERM'],
    ['when fastify.close() is called', 'SIGUSR2'],
  ] as const)('run only after the work in flight of every intake, %s', async (_how, signal) => {
    const service = await start({ DRAIN_DELAY_MS: '0', OTHER_TASK_MS: '1500' });
    await service.log('other task started');
    service.child.signal(signal);
    expect((await service.child.waitForExit()).code).toBe(0);
    expect(order(service)).toEqual(['other task done', 'fastify onClose hook ran']);
  });
});

describe('fastify.close() and keep-alive', () => {
  it('without the plugin, a keep-alive connection whose request was in flight holds close() for keepAliveTimeout', async () => {
    const service = await start({ MODE: 'plain' });
    const { response } = await slowKeepAlive(service, 300);
    service.child.signal('SIGTERM');
    await service.log('closing');
    const answered = await response;
    expect(answered.ok && answered.headers.connection).toBe('keep-alive');
    const waitedMs = 2000;
    const exit = await within(service.child.exited, waitedMs, 'exit').catch(() => undefined);
    expect(
      exit,
      `the plain Fastify process still runs ${waitedMs} ms after its last response`,
    ).toBeUndefined();
  });

  it('with the plugin, the same connection closes after its response: exit right after it', async () => {
    const service = await start({ DRAIN_DELAY_MS: '0' });
    const { response } = await slowKeepAlive(service, 300);
    const signalledAt = Date.now();
    service.child.signal('SIGTERM');
    const answered = await response;
    const exit = await service.child.waitForExit();
    const totalMs = exit.at - signalledAt;
    expect(answered.ok && answered.status).toBe(200);
    expect(answered.ok && answered.headers.connection).toBe('close');
    expect(exit.code).toBe(0);
    // 72 s (keepAliveTimeout) without the plugin; a generous bound on a busy machine.
    expect(totalMs, `SIGTERM → exit took ${totalMs} ms`).toBeLessThan(300 + 1500);
  });

  it('drains the worker when fastify.close() is called directly, without the keep-alive delay', async () => {
    const service = await start({ DRAIN_DELAY_MS: '0' });
    const idle = new Agent({ keepAlive: true });
    agents.push(idle);
    await httpRequest({ port: service.port, agent: idle });
    const { response } = await slowKeepAlive(service, 300);
    const closedAt = Date.now();
    service.child.signal('SIGUSR2');
    await service.log('state changed', { state: 'draining', reason: 'fastify-close' });
    const answered = await response;
    const exit = await service.child.waitForExit();
    const totalMs = exit.at - closedAt;
    expect(answered.ok && answered.status).toBe(200);
    expect(exit.code).toBe(0);
    expect(totalMs, `close() → exit took ${totalMs} ms`).toBeLessThan(300 + 1500);
    expect(service.child.logs.some((l) => l.msg === 'fastify onClose hook ran')).toBe(true);
  });

  it('serves during the drain delay (no return503OnClosing), then runs onClose hooks after the last response', async () => {
    const service = await start({ DRAIN_DELAY_MS: '400' });
    const { response } = await slowKeepAlive(service, 800);
    service.child.signal('SIGTERM');
    await service.log('state changed', { state: 'draining' });
    const during = await httpRequest({ port: service.port });
    expect(during.status, during.body).toBe(200);
    const closing = await service.log('server stopped accepting');
    const afterClosing = await tryHttpRequest({ port: service.port });
    expect(afterClosing.ok ? afterClosing.status : afterClosing.code).toBe('ECONNREFUSED');
    const answered = await response;
    expect(answered.ok && answered.status).toBe(200);
    const hook = await service.log('fastify onClose hook ran');
    expect(Number(hook.time)).toBeGreaterThanOrEqual(Number(closing.time));
    expect(answered.ok && Number(hook.time)).toBeGreaterThanOrEqual(
      answered.ok ? answered.receivedAt - 5 : 0,
    );
    expect((await service.child.waitForExit()).code).toBe(0);
  });
});
