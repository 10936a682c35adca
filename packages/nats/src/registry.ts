import { describeError, type Logger, type Worker } from '@handover/core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';
import type { ServiceNames } from './names.js';
import { buildEntry, encodeJson, isStale, parseEntry, type WorkerEntry } from './wire.js';

const wrongLastSequence = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
    error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export interface RegistryDeps {
  readonly nc: NatsConnection;
  readonly names: ServiceNames;
  readonly worker: Worker;
  readonly logger: Logger;
  readonly endpoints: () => Readonly<Record<string, string>>;
}

/**
 * The worker's entry in the `handover_<svc>` bucket (PROTOCOL.md, "Registry"). Writes are
 * serialised; the first is a create, later ones compare-and-set on the last revision; an entry
 * of another live instance is never overwritten or deleted.
 */
export class Registry {
  readonly #deps: RegistryDeps;
  #kv: KV | undefined;
  #revision = 0;
  #ownedByOther = false;
  /** Deregistration was asked for: no write may bring the entry back. */
  #removing = false;
  #failing = false;
  /** A write failed: the bucket may be gone (a broker that lost its store), open it again. */
  #reopen = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
  }

  get #heartbeatMs(): number {
    return this.#deps.worker.timing.heartbeatMs;
  }

  /** Opens the bucket, creating it (history 1, TTL 3 × heartbeat) when absent. */
  async open(): Promise<void> {
    const { nc, names, logger } = this.#deps;
    const heartbeatMs = this.#heartbeatMs;
    try {
      this.#kv = await new Kvm(nc).create(names.bucket, { history: 1, ttl: 3 * heartbeatMs });
      const { ttl } = await this.#kv.status();
      if (ttl > 0 && ttl < 2 * heartbeatMs) {
        logger.warn(
          { bucket: names.bucket, bucketTtlMs: ttl, heartbeatMs },
          'registry bucket TTL is shorter than 2 x heartbeat: live entries may expire between heartbeats',
        );
      }
    } catch (error) {
      throw new NatsAdapterError(
        'HANDOVER_E_NATS_REGISTRY',
        `cannot open registry bucket ${names.bucket}: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /** Writes the entry with `state` (create, or compare-and-set). */
  write(state: WorkerEntry['state']): Promise<void> {
    if (this.#removing) return Promise.resolve();
    return this.#enqueue(async () => {
      if (this.#ownedByOther || !this.#kv) return;
      try {
        if (this.#reopen) {
          await this.open();
          this.#reopen = false;
        }
        await this.#put(this.#kv as KV, state);
        if (this.#failing) this.#deps.logger.info({ state }, 'registry entry written again');
        this.#failing = false;
      } catch (error) {
        const level = this.#failing ? 'debug' : 'warn';
        this.#failing = true;
        this.#reopen = true;
        this.#deps.logger[level](
          { error: describeError(error) },
          'registry write failed; retrying at the next heartbeat',
        );
        throw error;
      }
    });
  }

  /** Deletes the entry, only if it is still this instance's. */
  remove(): Promise<void> {
    this.#removing = true;
    return this.#enqueue(async () => {
      const kv = this.#kv;
      if (!kv || this.#ownedByOther || this.#revision === 0) return;
      const key = this.#deps.worker.id;
      try {
        await kv.delete(key, { previousSeq: this.#revision });
      } catch (error) {
        if (!wrongLastSequence(error)) throw error;
        const current = await kv.get(key);
        const entry = current?.operation === 'PUT' ? parseEntry(current.value) : undefined;
        if (current && entry?.instance === this.#deps.worker.instance) {
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
    const { worker } = this.#deps;
    const value = encodeJson(
      buildEntry(worker.snapshot(), {
        now: Date.now(),
        heartbeatMs: this.#heartbeatMs,
        endpoints: this.#deps.endpoints(),
        state,
      }),
    );
    if (this.#revision > 0) {
      try {
        this.#revision = await kv.update(
          worker.id,
          value,
          this.#revision,
          2 * this.#heartbeatMs + 1000,
        );
        return;
      } catch (error) {
        if (!wrongLastSequence(error)) throw error;
      }
    }
    await this.#claim(kv, value);
  }

  /** First write, or a write after the key changed under us (expiry, another instance). */
  async #claim(kv: KV, value: Uint8Array): Promise<void> {
    const { worker, logger } = this.#deps;
    try {
      this.#revision = await kv.create(worker.id, value);
      return;
    } catch (error) {
      if (!wrongLastSequence(error)) throw error;
    }
    const current = await kv.get(worker.id);
    if (!current) throw new Error('registry key changed during the write');
    const entry = current.operation === 'PUT' ? parseEntry(current.value) : undefined;
    if (entry && entry.instance !== worker.instance && !isStale(entry, Date.now())) {
      if (this.#revision === 0) {
        logger.error(
          { code: 'HANDOVER_E_NATS_DUPLICATE_ID', otherInstance: entry.instance },
          'another live worker has the same id: retrying until its entry goes stale',
        );
        throw new NatsAdapterError(
          'HANDOVER_E_NATS_DUPLICATE_ID',
          `worker id ${worker.id} is in use by instance ${entry.instance}`,
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
    if (entry && entry.instance !== worker.instance) {
      logger.warn(
        { otherInstance: entry.instance },
        'replacing the stale entry of a previous instance',
      );
    }
    this.#revision = await kv.update(worker.id, value, current.revision);
  }
}
