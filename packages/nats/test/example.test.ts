import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getFreePort, getStablePort, spawnNode, waitFor } from '@handover/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { msg, useNats } from './helpers.js';

const example = (file: string) =>
  fileURLToPath(new URL(`../../../examples/queue-worker/${file}`, import.meta.url));
const { server, nc } = useNats();

describe('examples/queue-worker', () => {
  it('runs with node, answers what send.mjs sends, and exits 0 on SIGTERM', async () => {
    const env = {
      NATS_URL: server().url,
      HANDOVER_SERVICE: 'example',
      HANDOVER_WORKER_ID: 'example-1',
      HANDOVER_VERSION: '1.2.3',
      WARMUP_MS: '200',
      TASK_MS: '10',
    };
    const child = spawnNode(example('index.mjs'), { env });
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const out = execFileSync(process.execPath, [example('send.mjs'), '3'], {
      env: { ...process.env, ...env },
    }).toString();
    const replies = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(replies).toEqual(
      [1, 2, 3].map((task) => ({ payload: { task }, worker: 'example-1', version: '1.2.3' })),
    );
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('says on its probes what it waits for when NATS_URL points nowhere', async () => {
    const port = await getFreePort();
    const natsPort = await getStablePort();
    const url = `nats://127.0.0.1:${natsPort}`;
    const child = spawnNode(example('index.mjs'), {
      env: { NATS_URL: url, HANDOVER_SERVICE: 'exwait', PROBE_PORT: String(port) },
    });
    const body = await waitFor(
      async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/startupz`).catch(() => undefined);
        const json = (await answer?.json()) as { waitingFor?: { nats?: string } } | undefined;
        return json?.waitingFor?.nats ? { status: answer?.status, json } : undefined;
      },
      { what: 'a startup probe that names what it waits for' },
    );
    expect(body.status).toBe(503);
    expect(body.json.waitingFor?.nats).toMatch(
      new RegExp(`^connecting to ${url}: .*refused.* \\(attempt \\d+\\)$`, 'i'),
    );
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('serves probes on PROBE_PORT and drains through the loopback drain endpoint', async () => {
    const port = await getFreePort();
    const env = {
      NATS_URL: server().url,
      HANDOVER_SERVICE: 'exprobe',
      HANDOVER_WORKER_ID: 'exprobe-1',
      WARMUP_MS: '500',
      PROBE_PORT: String(port),
      DRAIN_ENDPOINT: 'loopback',
    };
    const child = spawnNode(example('index.mjs'), { env });
    const probe = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status);
    await waitFor(() => probe('/livez').catch(() => undefined), { what: 'the probe server' });
    expect(await probe('/readyz')).toBe(503); // still warming
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    expect([await probe('/readyz'), await probe('/startupz'), await probe('/healthz')]).toEqual([
      200, 200, 200,
    ]);
    const drained = await fetch(`http://127.0.0.1:${port}/drain`, { method: 'POST' }).then((r) =>
      r.json(),
    );
    expect(drained).toMatchObject({ status: 'drained' });
    expect((await child.waitForExit()).code).toBe(0);
    expect(child.logs.find(msg('stopped'))).toMatchObject({
      reason: 'drain-endpoint',
      exitCode: 0,
    });
  });

  it('in JetStream mode creates its stream on handover.<svc>.jobs and works every published job', async () => {
    const env = {
      NATS_URL: server().url,
      HANDOVER_SERVICE: 'exjobs',
      HANDOVER_WORKER_ID: 'exjobs-1',
      HANDOVER_INTAKE: 'jetstream',
    };
    const child = spawnNode(example('index.mjs'), { env: { ...env, HANDOVER_LOG_LEVEL: 'debug' } });
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const out = execFileSync(process.execPath, [example('send.mjs'), '4', '--jobs'], {
      env: { ...process.env, ...env },
    }).toString();
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).stream),
    ).toEqual(Array(4).fill('exjobs_jobs'));
    const jsm = await jetstreamManager(nc());
    await waitFor(async () => (await jsm.streams.info('exjobs_jobs')).state.messages === 0, {
      what: 'every job acked',
    });
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });
});
