import { describeError, type Logger, type PortContext } from '@handover/core';
import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';
import type { JetStreamSetup } from './jetstream-setup.js';
import type { ServiceNames } from './names.js';
import { bucketTtlProblem, registryBucketTtlMs } from './registry-rules.js';
import type { ReplicaPolicy } from './replicas.js';
import { buildEntry, encodeJson, isStale, parseEntry, type WorkerEntry } from './wire.js';

const wrongLastSequence = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
    error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** Another live instance holds the key: a fact about the fleet, not about the bucket. */
const duplicateId = (error: unknown): boolean =>
  error instanceof NatsAdapterError && error.code === 'HANDOVER_E_NATS_DUPLICATE_ID';

export interface RegistryDeps {
  readonly nc: NatsConnection;
  readonly names: ServiceNames;
  readonly context: PortContext;
  readonly logger: Logger;
  readonly endpoints: () => Readonly<Record<string, string>>;
  /** Replicas of a bucket the worker creates: 3 on a cluster, else 1. */
  readonly replicas: ReplicaPolicy;
  /** Whether the server is part of a cluster (the bucket TTL is then at least 30 s). */
  readonly clustered: boolean;
  /** Opens (or creates) the bucket. @default nats.js `Kvm.create` on `nc` */
  readonly openBucket?: (
    name: string,
    options: { history: number; ttl: number; replicas: number; timeout: number },
  ) => Promise<KV>;
}

/** Resolves after `ms`, or at once when `signal` fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The worker's entry in the `handover_<svc>` bucket (docs/protocol.md, "Registry"). Writes are
 * serialised; the first is a create, later ones compare-and-set on the last revision; an entry
 * of another live instance is never overwritten or deleted; nothing is written once the
 * worker has begun to deregister.
 */
export class Registry {
  readonly #deps: RegistryDeps;
  #kv: KV | undefined;
  #revision = 0;
  /** A create was sent: it may have landed even if its answer never came. */
  #createSent = false;
  #ownedByOther = false;
  #failing = false;
  /** A write failed in a way that says the bucket may be gone: open it again first. */
  #reopen = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
  }

  get #heartbeatMs(): number {
    return this.#deps.context.timing.heartbeatMs;
  }

  /** Whether the entry has been written (and so must be kept up to date). */
  get written(): boolean {
    return this.#revision > 0;
  }

  /**
   * Opens the bucket, creating it when absent: history 1, TTL 3 × heartbeat (at least 30 s on a
   * cluster, so that entries outlive a JetStream leader election), replicas per the policy.
   * `setup` retries transient answers (start-up on a fresh cluster); without it one attempt.
   */
  async open(setup?: JetStreamSetup): Promise<void> {
    const { nc, names, logger, openBucket, replicas, clustered } = this.#deps;
    const heartbeatMs = this.#heartbeatMs;
    const ttl = registryBucketTtlMs(heartbeatMs, clustered);
    const asset = { kind: 'bucket', name: names.bucket } as const;
    // Opened again while running (a write failed), it may not hold the heartbeats that follow:
    // during a leader election a STREAM.INFO goes unanswered for nats.js's whole timeout.
    const timeout = setup ? 5000 : heartbeatMs;
    const create = () =>
      replicas.create(asset, (count) => {
        const options = { history: 1, ttl, replicas: count, timeout };
        return (
          openBucket?.(names.bucket, options) ??
          new Kvm(jetstream(nc, { timeout })).create(names.bucket, options)
        );
      });
    // At start-up each call is retried while JetStream's answer is transient; later, one try.
    const attempt = <T>(op: () => Promise<T>): Promise<T> =>
      setup ? setup.retry(`bucket ${names.bucket}`, op) : op();
    try {
      const kv = await attempt(create);
      this.#kv = kv;
      // A STREAM.INFO right after the creation meets the same race on a fresh cluster (no
      // answer until the stream's group has a leader): retried like the creation.
      const status = await attempt(() => kv.status());
      replicas.check(asset, status.replicas);
      const problem = bucketTtlProblem(status.ttl, heartbeatMs, clustered);
      if (problem)
        logger.warn({ bucket: names.bucket, bucketTtlMs: status.ttl, heartbeatMs }, problem);
    } catch (error) {
      throw new NatsAdapterError(
        'HANDOVER_E_NATS_REGISTRY',
        `cannot open registry bucket ${names.bucket}: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * The first write of a worker that is opening: retried (backing off up to `heartbeatMs`)
   * until it lands, `signal` fires (then it just returns), or `warmupTimeoutMs` runs out (then
   * it throws `HANDOVER_E_NATS_REGISTRY` and the start fails). An id held by another live
   * instance is retried until that entry goes stale.
   */
  async announce(signal: AbortSignal): Promise<void> {
    const { timing } = this.#deps.context;
    const deadline = Date.now() + timing.warmupTimeoutMs;
    for (let delay = 100; ; delay = Math.min(2 * delay, this.#heartbeatMs)) {
      if (signal.aborted) return;
      try {
        await this.write('ready');
        return;
      } catch (error) {
        if (Date.now() + delay >= deadline) {
          throw new NatsAdapterError(
            'HANDOVER_E_NATS_REGISTRY',
            `could not write the registry entry within warmupTimeoutMs (${timing.warmupTimeoutMs} ms): ${describeError(error)}`,
            { cause: error },
          );
        }
      }
      await pause(delay, signal);
    }
  }

  /** Writes the entry with `state` (create, or compare-and-set); nothing after deregistration. */
  write(state: WorkerEntry['state']): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#ownedByOther || !this.#kv || this.#deps.context.deregistered) return;
      try {
        if (this.#reopen) {
          await this.open();
          this.#reopen = false;
        }
        await this.#put(this.#kv as KV, state);
        if (this.#failing) this.#deps.logger.info({ state }, 'registry entry written again');
        this.#failing = false;
      } catch (error) {
        this.#deps.context.count('handover_registry_write_failures_total');
        const level = this.#failing ? 'debug' : 'warn';
        this.#failing = true;
        if (!duplicateId(error)) this.#reopen = true;
        this.#deps.logger[level](
          { error: describeError(error) },
          'registry write failed; retrying',
        );
        throw error;
      }
    });
  }

  /** Deletes the entry, only if it is still this instance's. */
  remove(): Promise<void> {
    return this.#enqueue(async () => {
      const kv = this.#kv;
      if (!kv || this.#ownedByOther || !this.#createSent) return;
      const key = this.#deps.context.id;
      try {
        if (this.#revision === 0) throw new Error('no revision known');
        await kv.delete(key, { previousSeq: this.#revision });
      } catch (error) {
        // A create whose answer never came may still have landed: look before giving up.
        if (this.#revision > 0 && !wrongLastSequence(error)) throw error;
        const current = await kv.get(key);
        const entry = current?.operation === 'PUT' ? parseEntry(current.value) : undefined;
        if (current && entry?.instance === this.#deps.context.instance) {
          await kv.delete(key, { previousSeq: current.revision });
        }
      }
      this.#revision = 0;
    });
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(op);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #put(kv: KV, state: WorkerEntry['state']): Promise<void> {
    const { context } = this.#deps;
    const value = encodeJson(
      buildEntry(context.snapshot(), {
        now: Date.now(),
        heartbeatMs: this.#heartbeatMs,
        endpoints: this.#deps.endpoints(),
        state,
      }),
    );
    if (this.#revision > 0) {
      try {
        // An answer lost with a connection that moved must not hold the next heartbeats: a
        // reader drops an entry that stays silent for 3 x heartbeat.
        this.#revision = await kv.update(context.id, value, this.#revision, this.#heartbeatMs);
        return;
      } catch (error) {
        if (!wrongLastSequence(error)) throw error;
      }
    }
    await this.#claim(kv, value);
  }

  /** First write, or a write after the key changed under us (expiry, another instance). */
  async #claim(kv: KV, value: Uint8Array): Promise<void> {
    const { context, logger } = this.#deps;
    try {
      this.#createSent = true;
      this.#revision = await kv.create(context.id, value);
      return;
    } catch (error) {
      if (!wrongLastSequence(error)) throw error;
    }
    const current = await kv.get(context.id);
    if (!current) throw new Error('registry key changed during the write');
    const entry = current.operation === 'PUT' ? parseEntry(current.value) : undefined;
    if (entry && entry.instance !== context.instance && !isStale(entry, Date.now())) {
      if (this.#revision === 0) {
        logger.error(
          { code: 'HANDOVER_E_NATS_DUPLICATE_ID', otherInstance: entry.instance },
          'another live worker has the same id: retrying until its entry goes stale',
        );
        throw new NatsAdapterError(
          'HANDOVER_E_NATS_DUPLICATE_ID',
          `worker id ${context.id} is in use by instance ${entry.instance}`,
        );
      }
      this.#ownedByOther = true;
      this.#revision = 0;
      logger.error(
        { code: 'HANDOVER_E_NATS_DUPLICATE_ID', otherInstance: entry.instance },
        'another live worker took over this id: no longer writing the registry entry',
      );
      return;
    }
    if (entry && entry.instance !== context.instance) {
      logger.warn(
        { otherInstance: entry.instance },
        'replacing the stale entry of a previous instance',
      );
    }
    this.#revision = await kv.update(context.id, value, current.revision);
  }
}
