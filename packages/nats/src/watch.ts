import type { Logger } from '@handover/core';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Channel } from './channel.js';
import { Liveness, type Tracked } from './liveness.js';
import { checkPrefix, defaultPrefix, serviceNames } from './names.js';
import { registryBucketTtlMs } from './registry-rules.js';
import { ReplicaPolicy } from './replicas.js';
import { retryTransient } from './retry.js';
import { pingInstances } from './srv-ping.js';
import { watchStatus } from './status.js';
import { invalidOption, optionalInteger } from './validate.js';
import { parseEntry, parseEvent, type WorkerEntry, type WorkerEvent } from './wire.js';

/** A change of the live worker set. */
export interface WorkerChange {
  readonly type: 'added' | 'updated' | 'removed';
  readonly worker: WorkerEntry;
  /** Why a worker left: its entry was deleted, it went silent, or it announced `stopped`. */
  readonly reason?: 'deleted' | 'stale' | 'stopped';
  /** Local epoch ms at which the change was seen. */
  readonly at: number;
}

/** Options of {@link watchWorkers}. */
export interface WatchWorkersOptions {
  /** Subject prefix of the workers' events. @default 'handover' */
  readonly prefix?: string;
  /** How often entries are checked for silence (the stale rule). @default 250 */
  readonly checkEveryMs?: number;
  /**
   * The workers' heartbeat, used only when no worker has created the bucket yet: it is then
   * created as a worker would (TTL 3 × this, at least 30 s on a cluster; 3 replicas on a
   * cluster).
   * @default 1000
   */
  readonly heartbeatMs?: number;
  /** How long a `$SRV.PING` waits for answers while the registry stalled. @default 500 */
  readonly pingTimeoutMs?: number;
  /**
   * How long setting up the watch (creating or opening the bucket, starting the watch, reading
   * its size) keeps retrying what JetStream cannot answer yet: a fresh or recovering cluster
   * with no leader, a timeout. Other errors fail at once. 0 tries each call once. A call
   * already under way at the deadline still gets its answer or its own timeout (JetStream's
   * API timeout, 5 s), and a step not yet tried is tried once.
   * @default 10000
   */
  readonly setupTimeoutMs?: number;
}

/**
 * The live workers of a service, kept up to date. Each iterator starts with an `added` change
 * for every worker live at that moment, then yields changes as they happen.
 */
export interface WorkerWatch extends AsyncIterable<WorkerChange> {
  /** Resolves once the entries already in the bucket are loaded. */
  readonly loaded: Promise<void>;
  /** Resolves when watching ends: with the error if the watch failed, else `undefined`. */
  readonly closed: Promise<Error | undefined>;
  /** The live workers now: ready or draining, none stale. */
  snapshot(): WorkerEntry[];
  /**
   * Whether the registry has stalled: every entry went silent at once (a JetStream leader
   * election). The workers that answer `$SRV.PING` are kept meanwhile.
   */
  stalled(): boolean;
  /** Stops watching and ends every iterator. */
  stop(): Promise<void>;
}

/** A watch has no logger: what the connection does is the caller's to log. */
const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/**
 * Watches the workers of `service`: the `handover_<svc>` bucket (created if absent), merged with
 * the workers' events, with entries that stay silent for 3 × their heartbeat dropped on a
 * timer (nats-server before 2.11 tells watchers nothing when an entry expires). Silence is
 * measured on this process's clock from the last update it saw. When every entry goes silent
 * at once, the registry stalled (a JetStream leader election), not the workers: those that
 * answer `$SRV.PING.<svc>` are kept until it moves again.
 */
export async function watchWorkers(
  nc: NatsConnection,
  service: string,
  options: WatchWorkersOptions = {},
): Promise<WorkerWatch> {
  if (typeof service !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(service)) {
    throw invalidOption('service', service, '1-64 characters of [A-Za-z0-9_-]');
  }
  const prefixError = checkPrefix(options.prefix ?? defaultPrefix);
  if (prefixError) throw prefixError;
  const checkEveryMs = optionalInteger('checkEveryMs', options.checkEveryMs, 10) ?? 250;
  const heartbeatMs = optionalInteger('heartbeatMs', options.heartbeatMs, 100) ?? 1000;
  const pingTimeoutMs = optionalInteger('pingTimeoutMs', options.pingTimeoutMs, 10) ?? 500;
  const setupTimeoutMs = optionalInteger('setupTimeoutMs', options.setupTimeoutMs, 0) ?? 10_000;
  // Started with a controller on a fresh cluster, the bucket's first calls meet the same race
  // as a worker's: no answer until the stream's group has a leader.
  const deadline = Date.now() + setupTimeoutMs;
  const setup = <T>(op: () => Promise<T>): Promise<T> =>
    setupTimeoutMs === 0 ? op() : retryTransient(op, { deadline });
  const names = serviceNames(service, options.prefix ?? defaultPrefix);
  const workers = new Map<string, Tracked>();
  /** Instances that announced `stopped`, so a late heartbeat cannot bring them back (kept 1 min). */
  const stopped = new Map<string, number>();
  const changes = new Channel<WorkerChange>(() =>
    [...workers.values()].map(({ entry }) => ({ type: 'added', worker: entry, at: Date.now() })),
  );
  const emit = (type: WorkerChange['type'], worker: WorkerEntry, reason?: WorkerChange['reason']) =>
    changes.push({ type, worker, at: Date.now(), ...(reason ? { reason } : {}) });
  const remove = (id: string, reason: NonNullable<WorkerChange['reason']>) => {
    const tracked = workers.get(id);
    if (!tracked) return;
    workers.delete(id);
    emit('removed', tracked.entry, reason);
  };

  // An existing bucket is used as it is; a missing one is created as a worker would.
  const clustered = Boolean(nc.info?.cluster);
  const ttl = registryBucketTtlMs(heartbeatMs, clustered);
  const policy = new ReplicaPolicy(nc.info, silentLogger);
  const kv = await setup(() =>
    policy.create({ kind: 'bucket', name: names.bucket }, (replicas) =>
      new Kvm(nc).create(names.bucket, { history: 1, ttl, replicas }),
    ),
  );
  const liveness = new Liveness(() => pingInstances(nc, service, pingTimeoutMs));
  let markLoaded: () => void = () => {};
  const loaded = new Promise<void>((resolve) => {
    markLoaded = resolve;
  });

  const onEntry = (e: KvWatchEntry): void => {
    if (e.operation !== 'PUT') remove(e.key, 'deleted');
    else {
      const entry = parseEntry(e.value);
      if (entry && entry.id === e.key && !stopped.has(entry.instance)) {
        const now = Date.now();
        // The current contents arrive first: their age is what the server says.
        const seenAt = e.isUpdate ? now : Math.min(now, e.created.getTime());
        const tracked = workers.get(e.key);
        if (now - seenAt <= 3 * entry.heartbeatMs) {
          // A worker never goes back from draining: a `ready` entry of an instance already
          // known draining was written before (a heartbeat the bucket delivered after the
          // worker's `draining` event, which travels faster). It still says the worker lives.
          const kept =
            tracked?.entry.instance === entry.instance &&
            tracked.entry.state === 'draining' &&
            entry.state === 'ready'
              ? { ...entry, state: 'draining' as const }
              : entry;
          workers.set(e.key, { entry: kept, seenAt });
          emit(tracked ? 'updated' : 'added', kept);
        }
      }
    }
    if (e.isUpdate) markLoaded();
  };
  const onEvent = (event: WorkerEvent): void => {
    const tracked = workers.get(event.id);
    if (event.type === 'stopped') {
      stopped.set(event.instance, Date.now());
      if (tracked?.entry.instance === event.instance) remove(event.id, 'stopped');
    } else if (
      (event.type === 'draining' || event.type === 'failed') &&
      tracked?.entry.instance === event.instance
    ) {
      if (tracked.entry.state !== 'draining') {
        tracked.entry = { ...tracked.entry, state: 'draining' };
        emit('updated', tracked.entry);
      }
    }
  };

  const sub: Subscription = nc.subscribe(names.allEvents, {
    callback: (_error, msg) => {
      const event = parseEvent(msg.data);
      if (event && event.service === service) onEvent(event);
    },
  });
  let timer: ReturnType<typeof setInterval> | undefined;
  let watch: Awaited<ReturnType<typeof kv.watch>> | undefined;
  try {
    watch = await setup(() => kv.watch());
    // Checked once the watch exists: an empty bucket now means no current entry will arrive
    // (one that expired in between would otherwise leave `loaded` waiting for the next write).
    if ((await setup(() => kv.status())).values === 0) markLoaded();
  } catch (error) {
    // Nothing is returned to stop them: release what was set up so far.
    sub.unsubscribe();
    watch?.stop();
    throw error;
  }
  const entries = watch;
  const reading = (async (): Promise<Error | undefined> => {
    try {
      for await (const e of entries) onEntry(e);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearInterval(timer);
      markLoaded();
      changes.end();
    }
  })();
  // While this watcher's own connection is down it hears nothing: silence then says nothing of
  // the workers. No one is dropped until it is back, and each gets a full 3 x heartbeat from
  // then to be heard again (the bucket watch resumes where it stopped).
  let deaf = false;
  const stopStatus = watchStatus(nc, silentLogger, {
    disconnected: () => {
      deaf = true;
    },
    reconnected: () => {
      deaf = false;
      const now = Date.now();
      for (const tracked of workers.values()) tracked.aliveAt = now;
    },
  });
  void reading.finally(stopStatus);
  timer = setInterval(() => {
    const now = Date.now();
    if (!deaf) liveness.sweep(workers, now, (id) => remove(id, 'stale'));
    for (const [instance, at] of stopped) if (now - at > 60_000) stopped.delete(instance);
  }, checkEveryMs);

  return {
    loaded,
    closed: reading,
    snapshot: () => [...workers.values()].map((t) => t.entry),
    stalled: () => liveness.stalled(workers, Date.now()),
    [Symbol.asyncIterator]: () => changes[Symbol.asyncIterator](),
    stop: async () => {
      clearInterval(timer);
      stopStatus();
      sub.unsubscribe();
      entries.stop();
      await reading;
      changes.end();
    },
  };
}
