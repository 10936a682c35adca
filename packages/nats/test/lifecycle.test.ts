import { waitFor } from '@handover/testkit';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { parseEntry, parseEvent, type WorkerEvent } from '../src/exports/wire.js';
import { msg, openBucket, readEntry, ready, useNats } from './helpers.js';

const { nc, worker } = useNats();

describe('a NATS worker', () => {
  it('writes no entry, answers no $SRV and takes no task until warm-up is done', async () => {
    const child = worker({
      SERVICE: 'warm',
      HANDOVER_WORKER_ID: 'warm-1',
      WARMUP_UNTIL_SIGUSR2: '1',
    });
    await child.waitForLog(msg('connected to NATS'));
    expect(await readEntry(nc(), 'warm', 'warm-1')).toBeUndefined();
    await expect(nc().request('$SRV.PING.warm', undefined, { timeout: 500 })).rejects.toThrow(
      /no responders/i,
    );
    await expect(nc().request('handover.warm.tasks', '{}', { timeout: 500 })).rejects.toThrow(
      /no responders/i,
    );
    expect(child.logs.some(msg('ready'))).toBe(false);

    child.signal('SIGUSR2');
    await ready(child);
    expect(await readEntry(nc(), 'warm', 'warm-1')).toMatchObject({ state: 'ready', id: 'warm-1' });
    const pong = await nc().request('$SRV.PING.warm', undefined, { timeout: 2000 });
    expect(pong.json()).toMatchObject({ name: 'warm', type: 'io.nats.micro.v1.ping_response' });
  });

  it('has its entry in the bucket by the time its ready event arrives', async () => {
    const events: WorkerEvent[] = [];
    const sub = nc().subscribe('handover.seen.events.>', {
      callback: (_e, m) => {
        const event = parseEvent(m.data);
        if (event) events.push(event);
      },
    });
    const child = worker({ SERVICE: 'seen', HANDOVER_WORKER_ID: 'seen-1' });
    const readyEvent = await waitFor(() => events.find((e) => e.type === 'ready'), {
      what: 'the ready event',
    });
    // Read right when the event arrives: the entry must already be there (written before it).
    const entry = await readEntry(nc(), 'seen', 'seen-1');
    expect(entry).toMatchObject({
      state: 'ready',
      instance: readyEvent.instance,
      version: '1.0.0',
    });
    expect(readyEvent).toMatchObject({
      schema: 'handover.event.v1',
      service: 'seen',
      id: 'seen-1',
    });
    sub.unsubscribe();
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('marks its entry draining promptly after SIGTERM and takes no task once intake is closed', async () => {
    const kv = await new Kvm(nc()).create('handover_drain');
    const watch = await kv.watch({ key: 'drain-a' });
    const seen: { entry: KvWatchEntry; at: number }[] = [];
    void (async () => {
      for await (const entry of watch) seen.push({ entry, at: Date.now() });
    })();
    const a = worker({ SERVICE: 'drain', HANDOVER_WORKER_ID: 'drain-a', TASK_MS: '300' });
    const b = worker({ SERVICE: 'drain', HANDOVER_WORKER_ID: 'drain-b' });
    await Promise.all([ready(a), ready(b)]);

    // Keep a request in flight on A so its drain lasts, and keep load on the service.
    const answers: { worker: string; sentAt: number }[] = [];
    let sending = true;
    const load = (async () => {
      while (sending) {
        const sentAt = Date.now();
        const reply = await nc().request('handover.drain.tasks', JSON.stringify({ ms: 5 }), {
          timeout: 5000,
        });
        answers.push({ worker: reply.json<{ worker: string }>().worker, sentAt });
      }
    })();
    await waitFor(() => answers.some((x) => x.worker === 'drain-a'), { what: 'a reply from A' });

    const signalled = Date.now();
    a.signal('SIGTERM');
    const draining = await waitFor(
      () =>
        seen.find(
          (s) => s.entry.operation === 'PUT' && parseEntry(s.entry.value)?.state === 'draining',
        ),
      { what: 'the draining entry' },
    );
    const closed = await a.waitForLog(msg('task intake closed'));
    sending = false;
    await load;
    watch.stop();
    const lateForA = answers.filter(
      (x) => x.worker === 'drain-a' && x.sentAt > (closed.time as number),
    );
    expect(lateForA, 'requests sent after A closed its intake but answered by A').toEqual([]);
    // Seen through a KV watch from another process: signal delivery, the write and the watch's
    // delivery are all in the figure (the worker's own flip is measured in the HTTP suite).
    const drainingMs = draining.at - signalled;
    expect(drainingMs, `SIGTERM -> draining entry seen after ${drainingMs} ms`).toBeLessThan(1000);
    expect((await a.waitForExit()).code).toBe(0);
    b.signal('SIGTERM');
  });

  it('answers all of 1,000 requests in flight at SIGTERM, then deletes its entry, then exits 0', async () => {
    const child = worker({ SERVICE: 'burst', HANDOVER_WORKER_ID: 'burst-1', TASK_MS: '20' });
    await ready(child);
    const kv = await openBucket(nc(), 'handover_burst');
    const watch = await kv.watch({ key: 'burst-1', include: 'updates' });
    let deletedAt: number | undefined;
    void (async () => {
      for await (const e of watch) if (e.operation === 'DEL') deletedAt ??= Date.now();
    })();

    let lastReplyAt = 0;
    const outcomes = Array.from({ length: 1000 }, (_, i) => {
      const h = natsHeaders();
      h.set('Handover-Request-Id', `r-${i}`);
      return nc()
        .request('handover.burst.tasks', JSON.stringify({ i }), { timeout: 20_000, headers: h })
        .then((reply) => {
          lastReplyAt = Date.now();
          return reply.headers?.get('Nats-Service-Error-Code') ? 'error' : 'ok';
        })
        .catch((error: Error) => error.message);
    });
    await nc().flush();
    child.signal('SIGTERM');
    const results = await Promise.all(outcomes);
    const exit = await child.waitForExit(20_000);
    watch.stop();

    const failures = results.filter((r) => r !== 'ok');
    expect(failures.length, `failures: ${[...new Set(failures)].join(', ')}`).toBe(0);
    expect(deletedAt, 'the entry was deleted').toBeDefined();
    expect(lastReplyAt).toBeLessThanOrEqual(deletedAt as number);
    expect(deletedAt as number).toBeLessThanOrEqual(exit.at);
    expect(exit.code).toBe(0);
    expect(child.logs.find(msg('stopped'))).toMatchObject({ exitCode: 0, abandoned: 0 });
  });
});
