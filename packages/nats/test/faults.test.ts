import { waitFor } from '@handover/testkit';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { isStale } from '../src/exports/wire.js';
import { msg, readEntry, ready, useNats, waitInflight } from './helpers.js';

const { nc, server, worker } = useNats();

describe('a NATS worker under faults', () => {
  it('answers 503 to a task that outlives the deadline and exits before the grace period ends', async () => {
    const child = worker({
      SERVICE: 'slow',
      HANDOVER_WORKER_ID: 'slow-1',
      TASK_MS: '60000',
      HANDOVER_GRACE_PERIOD_MS: '2000',
      HANDOVER_SHUTDOWN_RESERVE_MS: '500',
    });
    await ready(child);
    const reply = nc().request('handover.slow.tasks', '{}', { timeout: 10_000 });
    // In flight for sure: the worker's own STATS say so.
    await waitInflight(nc(), 'slow', 1);
    const signalled = Date.now();
    child.signal('SIGTERM');
    const answer = await reply;
    const answeredAfter = Date.now() - signalled;
    const exit = await child.waitForExit(5000);
    expect(answer.headers?.get('Nats-Service-Error-Code')).toBe('503');
    expect(answer.headers?.get('Nats-Service-Error')).toMatch(/retry elsewhere/);
    expect(
      answeredAfter,
      `503 after ${answeredAfter} ms (drain deadline 1500 ms)`,
    ).toBeGreaterThanOrEqual(1400);
    // The worker's own clock: done within its 2000 ms grace period.
    const stopped = await child.waitForLog(msg('stopped'));
    expect(stopped.drainMs as number, `drained in ${stopped.drainMs} ms`).toBeLessThan(2000);
    // Seen from this process (signal delivery and exit included): a generous bound.
    const exitMs = exit.at - signalled;
    expect(exitMs, `exit ${exitMs} ms after SIGTERM`).toBeLessThan(2000 + 1500);
    expect(exit.code).toBe(1);
    expect(child.logs.find(msg('stopped'))).toMatchObject({ abandoned: 1 });
  });

  it('leaves an entry that goes stale within 3 x heartbeat after SIGKILL', async () => {
    const child = worker({
      SERVICE: 'killed',
      HANDOVER_WORKER_ID: 'killed-1',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await ready(child);
    // A heartbeat or two, so the entry is being refreshed when the process dies.
    await waitFor(async () => {
      const entry = await readEntry(nc(), 'killed', 'killed-1');
      return entry && Date.parse(entry.heartbeatAt) > Date.parse(entry.readyAt);
    });
    const killed = Date.now();
    child.signal('SIGKILL');
    await child.waitForExit();
    const last = await readEntry(nc(), 'killed', 'killed-1');
    expect(last).toBeDefined();
    const staleAt = await waitFor(
      async () => {
        const entry = await readEntry(nc(), 'killed', 'killed-1');
        // Either the reader's rule says stale, or the bucket TTL removed it already.
        return !entry || isStale(entry, Date.now()) ? Date.now() : undefined;
      },
      { timeoutMs: 5000, intervalMs: 20, what: 'the entry to go stale' },
    );
    const staleMs = staleAt - killed;
    expect(staleMs, `stale ${staleMs} ms after SIGKILL (rule: 3 x 300 ms)`).toBeLessThanOrEqual(
      3 * 300 + 1000,
    );
  });

  it('reconnects after a broker restart, becomes ready again and rewrites its entry', async () => {
    const child = worker({
      SERVICE: 'restart',
      HANDOVER_WORKER_ID: 'restart-1',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await ready(child);
    await server().stop();
    await child.waitForLog((l) => l.msg === 'readiness changed' && l.ready === false);
    const restarted = Date.now();
    await server().restart();
    await child.waitForLog(msg('reconnected to NATS'), { timeoutMs: 15_000 });
    await child.waitForLog(
      (l) => l.msg === 'readiness changed' && l.ready === true && (l.time as number) >= restarted,
    );
    const entry = await waitFor(
      async () => {
        const e = await readEntry(nc(), 'restart', 'restart-1');
        return e && Date.parse(e.heartbeatAt) >= restarted ? e : undefined;
      },
      { timeoutMs: 10_000, what: 'the entry rewritten after the restart' },
    );
    expect(entry.state).toBe('ready');
    const reply = await nc().request('handover.restart.tasks', '{"after":"restart"}', {
      timeout: 5000,
    });
    expect(reply.json()).toMatchObject({ worker: 'restart-1' });
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('recreates its bucket, entry and stream after a broker restart that lost its store', async () => {
    const child = worker({
      SERVICE: 'amnesia',
      HANDOVER_WORKER_ID: 'amnesia-1',
      STREAM: 'AMNESIA',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await ready(child);
    const restarted = Date.now();
    await server().restart({ fresh: true });
    await child.waitForLog(msg('reconnected to NATS'), { timeoutMs: 15_000 });
    const entry = await waitFor(
      async () => {
        const e = await readEntry(nc(), 'amnesia', 'amnesia-1').catch(() => undefined);
        return e && Date.parse(e.heartbeatAt) >= restarted ? e : undefined;
      },
      { timeoutMs: 10_000, what: 'the entry in a recreated bucket' },
    );
    expect(entry.state).toBe('ready');
    const job = await waitFor(
      () =>
        jetstream(nc())
          .publish('handover.amnesia.jobs', JSON.stringify({ ms: 1 }))
          .catch(() => undefined),
      { timeoutMs: 10_000, what: 'the stream recreated' },
    );
    await child.waitForLog((l) => l.msg === 'job done' && l.seq === job.seq, { timeoutMs: 10_000 });
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('waits for a broker that is down at start and becomes ready when it comes up', async () => {
    await server().stop();
    const child = worker({ SERVICE: 'late', HANDOVER_WORKER_ID: 'late-1' });
    await child.waitForLog(msg('connecting to NATS'));
    expect(child.logs.some(msg('ready'))).toBe(false);
    await server().restart();
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const entry = await waitFor(() => readEntry(nc(), 'late', 'late-1'), { timeoutMs: 10_000 });
    expect(entry.state).toBe('ready');
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });
});
