import { startTcpRelay, waitFor } from '@handover/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  createTaskClient,
  TaskRequestError,
  type WorkerChange,
  watchWorkers,
} from '../src/exports/controller.js';
import { ready, useNats, waitInflight } from './helpers.js';

const { nc, server, worker } = useNats();

/** Collects the changes a watch yields, from its first iterator. */
function collect(watch: AsyncIterable<WorkerChange>) {
  const changes: WorkerChange[] = [];
  void (async () => {
    for await (const change of watch) changes.push(change);
  })();
  return changes;
}

describe('watchWorkers', () => {
  it('sees a worker appear, turn draining, and disappear', async () => {
    const watch = await watchWorkers(nc(), 'watched');
    await watch.loaded;
    const changes = collect(watch);
    const child = worker({ SERVICE: 'watched', HANDOVER_WORKER_ID: 'watched-1', TASK_MS: '300' });
    await waitFor(() => changes.find((c) => c.type === 'added'), { what: 'added' });
    expect(watch.snapshot().map((w) => [w.id, w.state])).toEqual([['watched-1', 'ready']]);

    const busy = nc().request('handover.watched.tasks', '{}', { timeout: 5000 });
    // Really in flight (the worker's own STATS say so), so that the drain has work to wait for.
    await waitInflight(nc(), 'watched', 1);
    child.signal('SIGTERM');
    await waitFor(
      () => changes.find((c) => c.type === 'updated' && c.worker.state === 'draining'),
      { what: 'draining' },
    );
    const removed = await waitFor(() => changes.find((c) => c.type === 'removed'), {
      what: 'removed',
    });
    expect(['stopped', 'deleted']).toContain(removed.reason);
    expect(watch.snapshot()).toEqual([]);
    await busy;
    expect((await child.waitForExit()).code).toBe(0);
    expect(changes.map((c) => c.type).filter((t, i, all) => t !== all[i - 1])).toEqual([
      'added',
      'updated',
      'removed',
    ]);
    await watch.stop();
    expect(await watch.closed).toBeUndefined();
  });

  it('drops a SIGKILLed worker as stale within 3 x heartbeat', async () => {
    const child = worker({
      SERVICE: 'stale',
      HANDOVER_WORKER_ID: 'stale-1',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await ready(child);
    const watch = await watchWorkers(nc(), 'stale', { checkEveryMs: 20 });
    await watch.loaded;
    const changes = collect(watch);
    await waitFor(() => changes.find((c) => c.type === 'updated'), { what: 'a heartbeat' });
    const killedAt = Date.now();
    child.signal('SIGKILL');
    const removed = await waitFor(() => changes.find((c) => c.type === 'removed'), {
      timeoutMs: 5000,
      what: 'removal',
    });
    expect(removed.reason).toBe('stale');
    // 3 x heartbeat (900 ms) plus the check interval; the test process's own latency on a busy
    // machine is on top, so the bound is generous and the figure is in the message.
    const staleMs = removed.at - killedAt;
    expect(staleMs, `stale after ${staleMs} ms (rule: 3 x 300 ms)`).toBeLessThanOrEqual(
      3 * 300 + 1000,
    );
    await watch.stop();
  });

  it('drops no one while its own connection is down, and then only those that stay silent', async () => {
    const live = worker({
      SERVICE: 'deaf',
      HANDOVER_WORKER_ID: 'deaf-live',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    const doomed = worker({
      SERVICE: 'deaf',
      HANDOVER_WORKER_ID: 'deaf-doomed',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await Promise.all([ready(live), ready(doomed)]);
    // The watcher reaches the broker through a relay the test can block; the workers do not.
    const link = await startTcpRelay(server().port);
    // Reconnecting forever: nats.js gives up after 10 attempts by default, which 1.5 s of
    // refused connections 100 ms apart can use up on a slow machine (a CI run did).
    const own = await connect({
      servers: link.url,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    try {
      const watch = await watchWorkers(own, 'deaf', { checkEveryMs: 20 });
      await watch.loaded;
      const changes = collect(watch);
      await waitFor(() => watch.snapshot().length === 2 || undefined, { what: 'both workers' });
      const statuses: string[] = [];
      void (async () => {
        for await (const s of own.status()) statuses.push(s.type);
      })();
      link.block();
      doomed.signal('SIGKILL');
      await waitFor(() => statuses.includes('disconnect') || undefined, { what: 'disconnect' });
      // Deaf for 5 x heartbeat: long enough for the stale rule, were it applied.
      const deafUntil = Date.now() + 1500;
      await waitFor(() => Date.now() >= deafUntil || undefined, { what: '1.5 s deaf' });
      expect(changes.filter((c) => c.type === 'removed')).toEqual([]);
      link.unblock();
      await waitFor(() => statuses.includes('reconnect') || undefined, {
        timeoutMs: 5000,
        what: 'reconnect',
      });
      const removed = await waitFor(() => changes.find((c) => c.type === 'removed'), {
        timeoutMs: 5000,
        what: 'the silent worker dropped',
      });
      expect(removed).toMatchObject({ worker: { id: 'deaf-doomed' } });
      expect(['stale', 'deleted']).toContain(removed.reason);
      // The live one keeps its place: it is heard again after the reconnect.
      const updated = changes.length;
      await waitFor(
        () =>
          changes.slice(updated).some((c) => c.type === 'updated' && c.worker.id === 'deaf-live') ||
          undefined,
        { what: 'a heartbeat of the live worker after the reconnect' },
      );
      expect(watch.snapshot().map((w) => w.id)).toEqual(['deaf-live']);
      expect(changes.filter((c) => c.type === 'removed')).toHaveLength(1);
      await watch.stop();
    } finally {
      await own.close();
      await link.close();
    }
    live.signal('SIGTERM');
    expect((await live.waitForExit()).code).toBe(0);
  });

  it('starts each iterator with the workers already live', async () => {
    const child = worker({ SERVICE: 'late-watch', HANDOVER_WORKER_ID: 'lw-1' });
    await ready(child);
    const watch = await watchWorkers(nc(), 'late-watch');
    await watch.loaded;
    const changes = collect(watch);
    await waitFor(() => changes.length > 0);
    expect(changes[0]).toMatchObject({ type: 'added', worker: { id: 'lw-1' } });
    child.signal('SIGTERM');
    await child.waitForExit();
    await watch.stop();
  });
});

describe('createTaskClient', () => {
  it('sees 0 failures through a stop-first restart of a single worker, where a plain request fails', async () => {
    const client = createTaskClient(nc(), { service: 'single', timeoutMs: 15_000 });
    let retries = 0;
    const counting = createTaskClient(nc(), {
      service: 'single',
      timeoutMs: 15_000,
      onRetry: () => retries++,
    });
    const first = worker({ SERVICE: 'single', HANDOVER_WORKER_ID: 'single-1', VERSION: '1.0.0' });
    await ready(first);

    const outcome = { retrying: { ok: 0, failed: 0 }, plain: { ok: 0, failed: 0 } };
    let running = true;
    const retryingLane = (async () => {
      while (running) {
        try {
          await counting.request({ n: 1 });
          outcome.retrying.ok++;
        } catch {
          outcome.retrying.failed++;
        }
      }
    })();
    const plainLane = (async () => {
      while (running) {
        try {
          await nc().request('handover.single.tasks', '{}', { timeout: 2000 });
          outcome.plain.ok++;
        } catch {
          outcome.plain.failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor(() => outcome.retrying.ok > 20 && outcome.plain.ok > 20);

    // Stop-first: the old worker exits before the new one (with a warm-up) is up.
    first.signal('SIGTERM');
    expect((await first.waitForExit()).code).toBe(0);
    const second = worker({
      SERVICE: 'single',
      HANDOVER_WORKER_ID: 'single-2',
      VERSION: '2.0.0',
      WARMUP_MS: '700',
    });
    await ready(second);
    const okBefore = outcome.retrying.ok;
    await waitFor(() => outcome.retrying.ok > okBefore + 20);
    running = false;
    await Promise.all([retryingLane, plainLane]);

    expect(outcome.plain.failed, 'a plain requester fails during the gap').toBeGreaterThan(0);
    expect(outcome.retrying.failed).toBe(0);
    expect(retries).toBeGreaterThan(0);
    expect(await client.request<{ version: string }>({ n: 2 })).toMatchObject({ version: '2.0.0' });
    second.signal('SIGTERM');
    await second.waitForExit();
  });

  it('reads an empty reply (a handler that returns nothing) as undefined', async () => {
    const child = worker({ SERVICE: 'void', HANDOVER_WORKER_ID: 'void-1' });
    await ready(child);
    const client = createTaskClient(nc(), { service: 'void' });
    await expect(client.request({ nothing: true })).resolves.toBeUndefined();
    child.signal('SIGTERM');
    await child.waitForExit();
  });

  it('does not retry an answer that is final, and says which', async () => {
    const child = worker({ SERVICE: 'final', HANDOVER_WORKER_ID: 'final-1' });
    await ready(child);
    const client = createTaskClient(nc(), { service: 'final' });
    const error = await client.request({ fail: 'task-error' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskRequestError);
    expect(error).toMatchObject({
      code: 'HANDOVER_E_NATS_REQUEST_FAILED',
      status: 422,
      attempts: 1,
    });
    child.signal('SIGTERM');
    await child.waitForExit();
  });

  it('gives up with HANDOVER_E_NATS_REQUEST_TIMEOUT when no worker comes within the deadline', async () => {
    const client = createTaskClient(nc(), { service: 'nobody', timeoutMs: 600 });
    const started = Date.now();
    const error = await client.request({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HANDOVER_E_NATS_REQUEST_TIMEOUT' });
    expect((error as TaskRequestError).attempts).toBeGreaterThan(1);
    expect((error as Error).message).toMatch(/last: (no responders|timeout)\)$/);
    const tookMs = Date.now() - started;
    expect(tookMs, `gave up after ${tookMs} ms (timeoutMs 600)`).toBeLessThan(600 + 2000);
  });

  it('publishes a job, waits for the stream ack, and dedupes a retried msg id', async () => {
    const jsm = await jetstreamManager(nc());
    await jsm.streams.add({ name: 'PUB', subjects: ['handover.pub.jobs'] });
    const client = createTaskClient(nc(), { service: 'pub' });
    const ack = await client.publish({ job: 1 }, { msgId: 'job-1' });
    expect(ack).toMatchObject({ stream: 'PUB', seq: 1, duplicate: false });
    const again = await client.publish({ job: 1 }, { msgId: 'job-1' });
    expect(again).toMatchObject({ seq: 1, duplicate: true });
    await expect(
      client.publish({}, { subject: 'handover.nostream.jobs', timeoutMs: 500 }),
    ).rejects.toMatchObject({
      code: 'HANDOVER_E_NATS_PUBLISH_FAILED',
    });
  });
});

describe('reading the registry', () => {
  it('reads with direct gets only: STREAM.MSG.GET crashes nats-server before 2.9.15 while a bucket is created', async () => {
    const seen: string[] = [];
    const spy = nc().subscribe('$JS.API.>', {
      callback: (_e, m) => {
        seen.push(m.subject);
      },
    });
    await nc().flush();
    const watch = await watchWorkers(nc(), 'direct');
    await watch.loaded;
    // A worker that comes back under its old id finds its deleted entry: the first write of
    // the second run has to read the key.
    for (let run = 0; run < 2; run++) {
      const child = worker({ SERVICE: 'direct', HANDOVER_WORKER_ID: 'direct-1' });
      await ready(child);
      child.signal('SIGTERM');
      expect((await child.waitForExit()).code).toBe(0);
    }
    await watch.stop();
    await nc().flush();
    spy.unsubscribe();
    expect(seen.filter((s) => s.startsWith('$JS.API.DIRECT.GET.')).length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.startsWith('$JS.API.STREAM.MSG.GET.'))).toEqual([]);
  });
});
