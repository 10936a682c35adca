import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type Child,
  type LogLine,
  type NatsServer,
  spawnNode,
  startNatsServer,
  waitFor,
} from '@handover/testkit';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { parseEntry, type WorkerEntry } from '../src/exports/wire.js';

export const fixture = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

export const msg = (text: string) => (line: LogLine) => line.msg === text;

/** Per test file: one private nats-server, the test's own connection, and cleanup of children. */
export function useNats(): {
  server: () => NatsServer;
  nc: () => NatsConnection;
  worker: (env?: Record<string, string>) => Child;
} {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const children: Child[] = [];
  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error('packages/nats/dist is missing: run `pnpm build` first');
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, waitOnFirstConnect: true });
  });
  afterAll(async () => {
    // Tests stop their own workers; this only reaps what a failed test left behind.
    for (const child of children.splice(0)) child.signal('SIGKILL');
    await nc?.close();
    await server?.dispose();
  });
  return {
    server: () => server as NatsServer,
    nc: () => nc as NatsConnection,
    worker: (env = {}) => {
      const child = spawnNode(fixture, {
        env: { NATS_URL: (server as NatsServer).url, HANDOVER_LOG_LEVEL: 'debug', ...env },
      });
      children.push(child);
      return child;
    },
  };
}

/**
 * Binds to an existing bucket and reads it with direct gets, as the workers do. Plain `open()`
 * reads through `$JS.API.STREAM.MSG.GET`, which crashes nats-server 2.9.0–2.9.14 when it
 * arrives while the stream is being created (the stream is listed before its store is set
 * up): exactly what a test does that reads while a worker creates its bucket.
 */
export function openBucket(nc: NatsConnection, bucket: string) {
  return new Kvm(nc).open(bucket, { allow_direct: true });
}

/** The registry entry of `id` in `service`'s bucket, if any. */
export async function readEntry(
  nc: NatsConnection,
  service: string,
  id: string,
): Promise<WorkerEntry | undefined> {
  const kv = await openBucket(nc, `handover_${service}`);
  const entry = await kv.get(id).catch(() => null);
  return entry?.operation === 'PUT' ? parseEntry(entry.value) : undefined;
}

export const ready = (child: Child) =>
  child.waitForLog(msg('ready'), { timeoutMs: 15_000, what: 'the worker to be ready' });

/** Waits until the service's worker reports `count` tasks in flight in its $SRV STATS. */
export function waitInflight(nc: NatsConnection, service: string, count: number): Promise<true> {
  return waitFor(
    async () => {
      const reply = await nc.request(`$SRV.STATS.${service}`, undefined, { timeout: 1000 });
      const stats = reply.json<{ endpoints: { data: { inflight: number } }[] }>();
      return stats.endpoints[0]?.data.inflight === count || undefined;
    },
    { what: `${count} task(s) in flight at ${service}` },
  );
}
