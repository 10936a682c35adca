import { createWorker } from '@handover/core';
import { captureLogger, waitFor } from '@handover/testkit';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEntry, parseEvent, schemas, type WorkerEvent } from '../src/exports/wire.js';
import { natsBroker } from '../src/index.js';
import { msg, useNats } from './helpers.js';

const { nc, server, worker } = useNats();

/** An entry of another live instance under `id`, kept fresh until `release()`. */
async function occupy(service: string, id: string, heartbeatMs = 1000) {
  const kv = await new Kvm(nc()).create(`handover_${service}`, {
    history: 1,
    ttl: 3 * heartbeatMs,
  });
  const write = () =>
    kv.put(
      id,
      JSON.stringify({
        schema: schemas.worker,
        service,
        id,
        instance: 'AnotherLiveInstance0001',
        version: '1.0.0',
        state: 'ready',
        hostname: id,
        addresses: [],
        pid: 1,
        startedAt: new Date().toISOString(),
        readyAt: new Date().toISOString(),
        heartbeatAt: new Date().toISOString(),
        heartbeatMs,
        inflight: 0,
        concurrency: 1,
        endpoints: {},
        metadata: {},
      }),
    );
  await write();
  const timer = setInterval(() => void write(), heartbeatMs / 2);
  return { kv, release: () => clearInterval(timer) };
}

/** Every event of `service`, and every change of the key `id`, as seen from outside. */
async function observe(service: string, id: string) {
  const events: WorkerEvent[] = [];
  const sub = nc().subscribe(`handover.${service}.events.>`, {
    callback: (_error, m) => {
      const event = parseEvent(m.data);
      if (event) events.push(event);
    },
  });
  // Registry API calls a worker makes on the bucket's stream (opening it sends STREAM.INFO).
  const streamCalls: string[] = [];
  const spy = nc().subscribe(`$JS.API.STREAM.*.KV_handover_${service}`, {
    callback: (_error, m) => {
      streamCalls.push(m.subject);
    },
  });
  const kv = await new Kvm(nc()).create(`handover_${service}`);
  const watch = await kv.watch({ key: id });
  const instances: string[] = [];
  void (async () => {
    for await (const e of watch as AsyncIterable<KvWatchEntry>) {
      const entry = e.operation === 'PUT' ? parseEntry(e.value) : undefined;
      if (entry) instances.push(entry.instance);
    }
  })();
  return {
    events,
    instances,
    streamCalls,
    stop: () => {
      sub.unsubscribe();
      spy.unsubscribe();
      watch.stop();
    },
  };
}

const stopAfter: (() => void)[] = [];
afterEach(() => {
  for (const stop of stopAfter.splice(0)) stop();
});

describe('the NATS adapter and the lifecycle contract', () => {
  it('stays not ready while another live instance holds its id, and turns ready once its own entry is written', async () => {
    const held = await occupy('dup', 'dup-1');
    stopAfter.push(held.release);
    const seen = await observe('dup', 'dup-1');
    stopAfter.push(seen.stop);
    const child = worker({ SERVICE: 'dup', HANDOVER_WORKER_ID: 'dup-1' });
    await child.waitForLog(
      (line) =>
        line.msg === 'another live worker has the same id: retrying until its entry goes stale',
    );
    const callsAtFirstAttempt = seen.streamCalls.length;
    // Retrying for a while (several attempts): still not ready, nothing announced.
    await waitFor(
      () => child.logs.filter((line) => line.code === 'HANDOVER_E_NATS_DUPLICATE_ID').length >= 3,
      { what: 'three attempts' },
    );
    const readyEarly = child.logs.some((line) => line.msg === 'readiness changed' && line.ready);
    expect(readyEarly, 'ready while its entry could not be written').toBe(false);
    expect(seen.events.filter((e) => e.type === 'ready')).toEqual([]);
    // A failed claim is not a missing bucket: no reopening it on every attempt.
    expect(seen.streamCalls.length, seen.streamCalls.join(', ')).toBe(callsAtFirstAttempt);

    held.release();
    const readyLine = await child.waitForLog(
      (line) => line.msg === 'readiness changed' && line.ready === true,
      {
        timeoutMs: 10_000,
      },
    );
    const readyEvent = await waitFor(() => seen.events.find((e) => e.type === 'ready'));
    const ownInstance = readyEvent.instance;
    expect(seen.instances).toContain(ownInstance);
    expect(readyLine).toBeDefined();
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('announces nothing when a stop comes while it is still registering: no ready, no entry left', async () => {
    const held = await occupy('late', 'late-1');
    stopAfter.push(held.release);
    const seen = await observe('late', 'late-1');
    stopAfter.push(seen.stop);
    const child = worker({
      SERVICE: 'late',
      HANDOVER_WORKER_ID: 'late-1',
      // The shutdown stops waiting for the registration quickly.
      HANDOVER_HOOK_TIMEOUT_MS: '200',
    });
    await child.waitForLog(
      msg('another live worker has the same id: retrying until its entry goes stale'),
    );
    child.signal('SIGTERM');
    const exit = await child.waitForExit();
    // The other instance goes away: nothing may now bring this one's entry in.
    held.release();
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(exit.code).toBe(0);
    const types = seen.events.map((e) => e.type);
    expect(types).not.toContain('ready');
    const own = seen.instances.filter((instance) => instance !== 'AnotherLiveInstance0001');
    expect(own, 'entries written by the stopped worker').toEqual([]);
  });

  it('answers a request sent the instant start() resolves, without a registry too', async () => {
    // Ready means the server has the subscription: fifty tries, since the race is short.
    for (let i = 0; i < 50; i++) {
      const w = createWorker({
        service: 'instant',
        identity: { id: `instant-${i}`, hostname: 'h', addresses: [] },
        exit: false,
        signals: [],
        env: {},
        logger: captureLogger(),
      });
      w.use(natsBroker({ servers: server().url, registry: false, handler: () => 'here' }));
      await w.start();
      const reply = await nc().request('handover.instant.tasks', '{}', { timeout: 2000 });
      expect(reply.json()).toBe('here');
      await w.drain();
    }
  });

  it('stops following the status of a connection it did not open when it closes', async () => {
    const own = await connect({ servers: server().url });
    const logger = captureLogger();
    const w = createWorker({
      service: 'passed',
      identity: { id: 'passed-1', hostname: 'passed-1', addresses: [] },
      exit: false,
      signals: [],
      env: {},
      logger,
    });
    w.use(natsBroker({ nc: own, registry: false, handler: () => 'ok' }));
    await w.start();
    await w.drain();
    await waitFor(() =>
      logger.entries.find((e) => e.message === 'stopped watching the NATS connection status'),
    );
    expect(own.isClosed()).toBe(false);
    await own.close();
  });
});
