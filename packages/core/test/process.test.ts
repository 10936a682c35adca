import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Child, type LogLine, spawnNode, waitFor } from '@handover/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const children: Child[] = [];

function start(env: Record<string, string>): Child {
  const child = spawnNode(fixture, { env: { HANDOVER_LOG_LEVEL: 'info', ...env } });
  children.push(child);
  return child;
}

const msg = (text: string) => (line: LogLine) => line.msg === text;

beforeAll(() => {
  if (!existsSync(dist)) throw new Error('packages/core/dist is missing: run `pnpm build` first');
});

afterEach(() => {
  for (const child of children.splice(0)) child.signal('SIGKILL');
});

describe('a worker process', () => {
  it('finishes work in flight after SIGTERM, then exits 0', async () => {
    const child = start({ TASKS: '5', TASK_MS: '400' });
    await child.waitForLog(msg('tasks started'));
    const signalled = Date.now();
    child.signal('SIGTERM');
    const exit = await child.waitForExit();
    expect(exit.code).toBe(0);
    const done = child.logs.filter(msg('task done')).map((l) => l.task);
    expect(done.sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);
    const order = child.logs.map((l) => l.msg);
    expect(order.lastIndexOf('task done')).toBeLessThan(order.indexOf('shutdown hook ran'));
    expect(child.logs.find(msg('stopped'))).toMatchObject({
      exitCode: 0,
      reason: 'SIGTERM',
      abandoned: 0,
    });
    // The work took ~400 ms: the process waited for it instead of exiting at once.
    expect(exit.at - signalled).toBeGreaterThanOrEqual(300);
  });

  it('stops during warm-up on SIGTERM without ever becoming ready, exit 0', async () => {
    const child = start({ WARMUP_MS: '30000' });
    await child.waitForLog(msg('starting'));
    const signalled = Date.now();
    child.signal('SIGTERM');
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(0);
    expect(child.logs.some(msg('ready'))).toBe(false);
    const exitMs = exit.at - signalled;
    expect(exitMs, `exit ${exitMs} ms after SIGTERM in warm-up`).toBeLessThan(5000);
  });

  it('exits 130 at once on a second SIGINT', async () => {
    const child = start({ TASKS: '1', TASK_MS: '60000' });
    await child.waitForLog(msg('tasks started'));
    child.signal('SIGINT');
    await child.waitForLog((l) => l.msg === 'state changed' && l.state === 'draining');
    child.signal('SIGINT');
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(130);
  });

  it('exits 1 at the drain deadline and names every unfinished task', async () => {
    const child = start({
      TASKS: '2',
      TASK_MS: '60000',
      IGNORE_ABORT: '1',
      GRACE_MS: '1500',
      RESERVE_MS: '500',
    });
    await child.waitForLog(msg('tasks started'));
    const signalled = Date.now();
    child.signal('SIGTERM');
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(1);
    const cut = child.logs.filter(msg('task cut off at the drain deadline'));
    expect(cut.map((l) => (l.task as { key: string }).key).sort()).toEqual(['job-0', 'job-1']);
    // The worker's own clock: out within its 1500 ms grace period.
    const stopped = child.logs.find(msg('stopped'));
    expect(stopped?.drainMs as number, `stopped after ${stopped?.drainMs} ms`).toBeLessThanOrEqual(
      1500,
    );
    const exitMs = exit.at - signalled;
    expect(exitMs, `exit ${exitMs} ms after SIGTERM (grace 1500 ms)`).toBeLessThan(1500 + 1500);
  });

  it('fails on an unhandled rejection: drains briefly and exits 1', async () => {
    const child = start({ REJECT_AFTER_MS: '50', FAILURE_DRAIN_MS: '200' });
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(1);
    expect(child.logs.find(msg('fatal error'))).toMatchObject({ reason: 'unhandledRejection' });
    expect(child.logs.find(msg('stopped'))).toMatchObject({
      exitCode: 1,
      reason: 'unhandledRejection',
    });
  });

  it('still exits after SIGTERM when its log pipe broke while it was quiet', async () => {
    // The reader goes away after the last start-up line: the next write, the shutdown log,
    // is the first to fail (EPIPE), and it is still in flight when the worker exits.
    const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    let seen = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('tasks started')) resolve();
      }),
    );
    child.stdout.destroy();
    child.kill('SIGTERM');
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5000));
    const outcome = await Promise.race([exited, timeout]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome).toBe(0);
  });

  it('fails on an uncaught exception and exits 1, never 0', async () => {
    const child = start({ THROW_AFTER_MS: '50', FAILURE_DRAIN_MS: '200' });
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(1);
    expect(child.logs.find(msg('fatal error'))).toMatchObject({ reason: 'uncaughtException' });
  });
});

// Node as PID 1 of a PID namespace gets no default signal actions from the kernel; a handled
// SIGTERM is the only way it stops. `unshare` gives us that situation without Docker.
const canUnshare =
  process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/unshare');

describe.runIf(canUnshare)('a worker process as PID 1', () => {
  it('handles SIGTERM and exits 0', async () => {
    const child = spawnNode(fixture, {
      wrapper: ['/usr/bin/unshare', '--pid', '--fork', '--kill-child'],
      env: { TASKS: '1', TASK_MS: '200' },
    });
    children.push(child);
    const started = await child.waitForLog(msg('tasks started'));
    expect(started.pid).toBe(1);
    // The worker's PID as seen from here: unshare's only child.
    const inner = await waitFor(
      () => {
        const text = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
        return text ? Number(text.split(' ')[0]) : undefined;
      },
      { what: 'the namespaced worker pid' },
    );
    process.kill(inner, 'SIGTERM');
    const exit = await child.waitForExit(5000);
    expect(exit.code).toBe(0);
    expect(child.logs.find(msg('stopped'))).toMatchObject({
      exitCode: 0,
      reason: 'SIGTERM',
      pid: 1,
    });
  });
});
