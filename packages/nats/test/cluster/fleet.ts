// A fleet of worker processes on a cluster, the load a deploy runs under, and what a controller
// sees of it: the harness of the cluster scenarios.
import { type Child, type LogLine, type NatsCluster, spawnNode, waitFor } from '@handover/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTaskClient, type WorkerChange, watchWorkers } from '../../src/exports/controller.js';
import { fixture } from '../helpers.js';

export const readyLine = (line: LogLine) => line.msg === 'ready';
const running = (child: Child): boolean =>
  child.process.exitCode === null && child.process.signalCode === null;

/** Worker processes of one service, all given the whole server list, as `NATS_URL` does. */
export class Fleet {
  readonly children: Child[] = [];
  readonly #cluster: NatsCluster;
  readonly #env: Record<string, string>;
  #next = 1;

  constructor(cluster: NatsCluster, env: Record<string, string>) {
    this.#cluster = cluster;
    this.#env = env;
  }

  /** Starts a worker; resolves once it is ready. */
  async start(): Promise<Child> {
    const child = this.spawn();
    await child.waitForLog(readyLine, { timeoutMs: 30_000, what: 'a worker to be ready' });
    return child;
  }

  spawn(): Child {
    const id = `${this.#env.SERVICE}-${this.#next++}`;
    const child = spawnNode(fixture, {
      env: {
        NATS_URL: this.#cluster.urls.join(','),
        HANDOVER_WORKER_ID: id,
        HANDOVER_LOG_LEVEL: 'info',
        ...this.#env,
      },
    });
    this.children.push(child);
    return child;
  }

  /** Replaces every running worker start-first: a new one ready, then the old one drained. */
  async roll(): Promise<number[]> {
    const codes: number[] = [];
    for (const old of this.children.filter(running)) {
      await this.start();
      old.signal('SIGTERM');
      codes.push((await old.waitForExit(20_000)).code ?? -1);
    }
    return codes;
  }

  async stop(): Promise<number[]> {
    const live = this.children.filter(running);
    for (const child of live) child.signal('SIGTERM');
    return Promise.all(live.map(async (c) => (await c.waitForExit(20_000)).code ?? -1));
  }

  /** What worker `id` logged at info or above since `since` (local ms), as `+ms msg`. */
  logOf(id: string, since: number): string[] {
    const index = Number(id.slice(id.lastIndexOf('-') + 1)) - 1;
    return (this.children[index]?.logs ?? [])
      .filter((l) => (l.level ?? 0) >= 30 && Number(l.time) >= since)
      .map((l) => `+${Number(l.time) - since} ${l.msg}${l.error ? `: ${String(l.error)}` : ''}`);
  }

  kill(): void {
    for (const child of this.children.filter(running)) child.signal('SIGKILL');
  }
}

/** What the load saw. */
export interface LoadCounts {
  plainOk: number;
  /** What failed at the plain requester, with the local time it failed. */
  plainFailed: { at: number; error: string }[];
  clientOk: number;
  clientFailed: string[];
  published: number;
  publishFailed: string[];
  publishRetries: number;
}

/**
 * Steady load on a service: a plain requester that never retries (on `plainUrl`), the task
 * client's requests and JetStream publishes (on `clientUrls`: wherever nats.js lands), each
 * lane one call at a time, in a loop.
 */
export async function startLoad(service: string, plainUrl: string, clientUrls: string) {
  const plain = await connect({ servers: plainUrl, maxReconnectAttempts: -1 });
  const client = await connect({ servers: clientUrls.split(','), maxReconnectAttempts: -1 });
  const counts: LoadCounts = {
    plainOk: 0,
    plainFailed: [],
    clientOk: 0,
    clientFailed: [],
    published: 0,
    publishFailed: [],
    publishRetries: 0,
  };
  const tasks = createTaskClient(client, {
    service,
    timeoutMs: 20_000,
    onRetry: () => counts.publishRetries++,
  });
  let running = true;
  const lane = async (body: () => Promise<void>) => {
    while (running) {
      await body();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const lanes = Promise.all([
    lane(async () => {
      try {
        const reply = await plain.request(`handover.${service}.tasks`, '{}', { timeout: 5000 });
        const code = reply.headers?.get('Nats-Service-Error-Code');
        if (code) counts.plainFailed.push({ at: Date.now(), error: code });
        else counts.plainOk++;
      } catch (error) {
        counts.plainFailed.push({ at: Date.now(), error: (error as Error).message });
      }
    }),
    lane(async () => {
      try {
        await tasks.request({});
        counts.clientOk++;
      } catch (error) {
        counts.clientFailed.push((error as Error).message);
      }
    }),
    lane(async () => {
      try {
        await tasks.publish({ ms: 5 }, { subject: `handover.${service}.jobs` });
        counts.published++;
      } catch (error) {
        counts.publishFailed.push((error as Error).message);
      }
    }),
  ]);
  return {
    counts,
    /** Waits until every lane has done `n` more calls than now. */
    progress: async (n: number, what: string) => {
      const from = { ...counts };
      await waitFor(
        () =>
          counts.plainOk >= from.plainOk + n &&
          counts.clientOk >= from.clientOk + n &&
          counts.published >= from.published + n,
        { what, timeoutMs: 60_000 },
      );
    },
    stop: async () => {
      running = false;
      await lanes;
      await plain.close();
      await client.close();
    },
  };
}

/** A controller watching the service from `url`: every change, and the oldest silence seen. */
export async function startWatch(service: string, url: string) {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1 });
  const watch = await watchWorkers(nc, service);
  await watch.loaded;
  const changes: WorkerChange[] = [];
  /** Local time of each change, for the timeline of a failure. */
  const changedAt: number[] = [];
  let stalledSeen = false;
  /** The oldest heartbeat among the live workers the watch held, at any check. */
  let maxEntryAgeMs = 0;
  const reading = (async () => {
    for await (const change of watch) {
      changes.push(change);
      changedAt.push(Date.now());
    }
  })();
  const timer = setInterval(() => {
    if (watch.stalled()) stalledSeen = true;
    const now = Date.now();
    for (const entry of watch.snapshot()) {
      maxEntryAgeMs = Math.max(maxEntryAgeMs, now - Date.parse(entry.heartbeatAt));
    }
  }, 100);
  return {
    watch,
    changes,
    stalledSeen: () => stalledSeen,
    maxEntryAgeMs: () => maxEntryAgeMs,
    /** Workers dropped as dead (silent) rather than gone by their own deregistration. */
    droppedAsStale: () => changes.filter((c) => c.type === 'removed' && c.reason === 'stale'),
    /** Every change as `+ms type id (reason)`, relative to `since`: the detail of a failure. */
    timeline: (since: number) =>
      changes.map(
        (c, i) =>
          `+${(changedAt[i] ?? 0) - since} ${c.type} ${c.worker.id}${c.reason ? ` (${c.reason})` : ''}`,
      ),
    stop: async () => {
      clearInterval(timer);
      await watch.stop();
      await reading;
      await nc.close();
    },
  };
}

/** Waits until the consumer has nothing pending and nothing unacknowledged. */
export async function drained(nc: NatsConnection, stream: string, consumer: string) {
  const jsm = await jetstreamManager(nc);
  return waitFor(
    async () => {
      const info = await jsm.consumers.info(stream, consumer).catch(() => undefined);
      return info && info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
    },
    { what: `${stream}/${consumer} to have nothing pending or unacked`, timeoutMs: 60_000 },
  );
}
