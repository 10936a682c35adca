import { describeError, type Logger } from '@handover/core';
import { cannotPlaceReplicas } from './jetstream-errors.js';

/** Replicas the SDK asks for. Never 2: an R2 group loses its quorum when either node is down. */
export type Replicas = 1 | 3;

/** A JetStream asset the SDK creates or binds to. */
export interface ReplicatedAsset {
  readonly kind: 'bucket' | 'stream';
  /** The bucket's or the stream's name (a bucket's stream is `KV_<name>`). */
  readonly name: string;
}

/**
 * The replicas to ask for first: 3 when the connected server's INFO names a cluster, else 1.
 * A client is not told the cluster's size (INFO's `connect_urls` lists the nodes that accept
 * clients, not those that run JetStream), so a 2-node cluster is asked for 3 too and answers
 * 10005, which {@link ReplicaPolicy.create} turns into R1 with a warning.
 */
export function preferredReplicas(info: { readonly cluster?: string } | undefined): Replicas {
  return info?.cluster ? 3 : 1;
}

const streamOf = (asset: ReplicatedAsset): string =>
  asset.kind === 'bucket' ? `KV_${asset.name}` : asset.name;

const fix = (asset: ReplicatedAsset): string =>
  `\`nats stream edit ${streamOf(asset)} --replicas 3\` (its consumers follow)`;

/**
 * Replicas of the assets one worker creates (registry bucket, jobs stream): asks for
 * {@link preferredReplicas}, falls back to 1 when JetStream cannot place them, and warns once
 * per asset when one has fewer replicas than it could have.
 */
export class ReplicaPolicy {
  #wanted: Replicas;
  readonly #logger: Pick<Logger, 'warn'>;
  readonly #warned = new Set<string>();

  constructor(info: { readonly cluster?: string } | undefined, logger: Pick<Logger, 'warn'>) {
    this.#wanted = preferredReplicas(info);
    this.#logger = logger;
  }

  /** The replicas to ask for now: 1 once a placement of 3 failed. */
  get wanted(): Replicas {
    return this.#wanted;
  }

  /**
   * Runs `create(replicas)`. When JetStream answers that it cannot place more than one
   * replica (10074 non-clustered, 10005 too few JetStream nodes, 10023 no room), creates with
   * 1, warns once with how to fix it, and asks for 1 from then on. Other errors are thrown.
   */
  async create<T>(asset: ReplicatedAsset, create: (replicas: Replicas) => Promise<T>): Promise<T> {
    const wanted = this.#wanted;
    try {
      return await create(wanted);
    } catch (error) {
      if (wanted === 1 || !cannotPlaceReplicas(error)) throw error;
      this.#wanted = 1;
      const value = await create(1);
      this.#warnOnce(
        asset,
        { replicas: 1, wanted, error: describeError(error) },
        `JetStream cannot place ${wanted} replicas of ${asset.kind} ${asset.name}: created it with 1 replica, which a single node loss takes down. Run JetStream on 3 or more nodes, then ${fix(asset)}`,
      );
      return value;
    }
  }

  /** Warns once when an existing asset has fewer replicas than the SDK would ask for. */
  check(asset: ReplicatedAsset, replicas: number): void {
    if (replicas >= this.#wanted) return;
    this.#warnOnce(
      asset,
      { replicas, wanted: this.#wanted },
      `${asset.kind} ${asset.name} has ${replicas} replica(s) on a cluster that can hold ${this.#wanted}: used as it is, but a single node loss takes it down. Fix: ${fix(asset)}`,
    );
  }

  #warnOnce(asset: ReplicatedAsset, fields: Record<string, unknown>, message: string): void {
    const key = `${asset.kind}:${asset.name}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#logger.warn({ [asset.kind]: asset.name, ...fields }, message);
  }
}
