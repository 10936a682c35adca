import { describeError } from '@handover/core';
import { parseEntry } from '@handover/nats/wire';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { CliError } from './errors.js';
import type { Sighting } from './fleet.js';

const bucketPrefix = 'handover_';
const streamOf = (service: string) => `KV_${bucketPrefix}${service}`;

/** The JetStream manager, or a clear error when the account has no JetStream. */
export async function registryManager(nc: NatsConnection): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc);
  } catch (error) {
    throw new CliError(
      'HANDOVER_E_CLI_BROKER',
      `cannot use JetStream (the registry lives in a JetStream KV bucket): ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** Whether `handover_<service>` exists; any other failure is an error. */
export async function bucketExists(jsm: JetStreamManager, service: string): Promise<boolean> {
  try {
    await jsm.streams.info(streamOf(service));
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      return false;
    }
    throw brokerError(`cannot read the bucket ${bucketPrefix}${service}`, error);
  }
}

/** Fails with `HANDOVER_E_CLI_NO_SERVICE` when the service has no registry bucket. */
export async function requireBucket(jsm: JetStreamManager, service: string): Promise<void> {
  if (!(await bucketExists(jsm, service))) {
    throw new CliError(
      'HANDOVER_E_CLI_NO_SERVICE',
      `no service ${service}: the bucket ${bucketPrefix}${service} does not exist (no worker of it ever became ready on this NATS account)`,
    );
  }
}

/** The services that have a registry bucket (`KV_handover_*` streams), sorted. */
export async function listServices(jsm: JetStreamManager): Promise<string[]> {
  const services: string[] = [];
  try {
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`KV_${bucketPrefix}`)) services.push(name.slice(3 + bucketPrefix.length));
    }
  } catch (error) {
    throw brokerError('cannot list the buckets', error);
  }
  return services.sort();
}

/**
 * The current entries of `service`'s bucket, each with the time it was written: the server's
 * time of the write (as `watchWorkers` takes it on first read), capped at `now` so a server
 * clock ahead of this one never yields a negative age. Reads with a watch (an ordered
 * consumer), never with `STREAM.MSG.GET` (see docs/nats.md on nats-server before 2.9.15).
 */
export async function readSightings(
  nc: NatsConnection,
  service: string,
  now: () => number,
  timeoutMs: number,
): Promise<Sighting[]> {
  const found = new Map<string, Sighting>();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watch: Awaited<ReturnType<Awaited<ReturnType<Kvm['open']>>['watch']>> | undefined;
  try {
    const kv = await new Kvm(nc).open(`${bucketPrefix}${service}`);
    watch = await kv.watch();
    const entries = watch;
    // Checked once the watch exists, as watchWorkers does: an empty bucket sends nothing.
    if ((await kv.status()).values === 0) return [];
    timer = setTimeout(() => {
      timedOut = true;
      entries.stop();
    }, timeoutMs);
    for await (const e of entries) {
      const entry = e.operation === 'PUT' ? parseEntry(e.value) : undefined;
      if (entry && entry.id === e.key) {
        found.set(e.key, { entry, seenAt: Math.min(now(), e.created.getTime()) });
      } else found.delete(e.key);
      if (e.isUpdate) break;
    }
    if (timedOut) throw new Error(`the entries did not arrive within ${timeoutMs} ms`);
    return [...found.values()];
  } catch (error) {
    throw brokerError(`cannot read the bucket ${bucketPrefix}${service}`, error);
  } finally {
    clearTimeout(timer);
    watch?.stop();
  }
}

function brokerError(what: string, error: unknown): CliError {
  return new CliError('HANDOVER_E_CLI_BROKER', `${what}: ${describeError(error)}`, {
    cause: error,
  });
}
