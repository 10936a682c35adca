import { describeError, type Logger } from '@handover/core';
import {
  AckPolicy,
  type ConsumerInfo,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';
import { alreadyExists } from './jetstream-errors.js';
import type { ReplicaPolicy } from './replicas.js';
import { retryTransient } from './retry.js';

/** The stream and consumer the intake pulls from, as resolved from its options. */
export interface ConsumerPlan {
  readonly stream: string;
  readonly consumer: string;
  /** Subjects of a stream the worker creates. */
  readonly subjects: readonly string[];
  readonly bind: boolean;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
}

/** What the intake needs to know of the consumer it pulls from. */
export interface ConsumerFacts {
  readonly ackWaitMs: number;
  /** `-1`: unlimited. */
  readonly maxDeliver: number;
  /** The subject work is published to, for the registry's `endpoints.jobs`. */
  readonly subject: string | undefined;
}

/**
 * How the worker talks to JetStream while it sets up: which replicas it asks for (3 on a
 * cluster, else 1, see {@link ReplicaPolicy}), and the retries of transient answers (a
 * `STREAM.INFO` nobody answers while another worker creates the stream, no meta leader yet, a
 * leader election) until `deadline` or `signal`.
 */
export interface JetStreamSetup {
  readonly replicas: ReplicaPolicy;
  /** Runs `op`, retrying transient JetStream errors (the first retry of each op is logged). */
  retry<T>(what: string, op: () => Promise<T>): Promise<T>;
}

/** A {@link JetStreamSetup} for one connect or one recovery. */
export function jetstreamSetup(
  replicas: ReplicaPolicy,
  logger: Logger,
  bound: { readonly deadline: number; readonly signal?: AbortSignal | undefined },
): JetStreamSetup {
  return {
    replicas,
    retry: (what, op) =>
      retryTransient(op, {
        deadline: bound.deadline,
        signal: bound.signal,
        onRetry: ({ attempt, reason }) => {
          if (attempt === 1) logger.info({ what, reason }, 'JetStream not answering yet; retrying');
        },
      }),
  };
}

const notFound = (error: unknown): boolean => /not found/i.test(describeError(error));

const fail = (message: string, cause?: unknown): NatsAdapterError =>
  new NatsAdapterError('HANDOVER_E_NATS_JETSTREAM', message, { cause });

/** The stream, created (work-queue retention, replicated per the policy) when absent. */
async function ensureStream(
  jsm: JetStreamManager,
  plan: ConsumerPlan,
  setup: JetStreamSetup,
): Promise<StreamInfo> {
  const asset = { kind: 'stream', name: plan.stream } as const;
  const read = () => setup.retry(`stream ${plan.stream}`, () => jsm.streams.info(plan.stream));
  try {
    const info = await read();
    setup.replicas.check(asset, info.config.num_replicas ?? 1);
    return info;
  } catch (error) {
    if (!notFound(error))
      throw fail(`cannot read stream ${plan.stream}: ${describeError(error)}`, error);
    if (plan.bind)
      throw fail(`stream ${plan.stream} does not exist (bind: true creates nothing)`, error);
  }
  try {
    return await setup.retry(`stream ${plan.stream}`, () =>
      setup.replicas.create(asset, (replicas) =>
        jsm.streams.add({
          name: plan.stream,
          subjects: [...plan.subjects],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          num_replicas: replicas,
        }),
      ),
    );
  } catch (error) {
    // Another worker created it at the same instant (with another replica count): use theirs.
    if (alreadyExists(error)) return read();
    throw fail(`cannot create stream ${plan.stream}: ${describeError(error)}`, error);
  }
}

/** The durable pull consumer, created (explicit acks; replicas follow the stream) when absent. */
async function ensureDurable(
  jsm: JetStreamManager,
  plan: ConsumerPlan,
  setup: JetStreamSetup,
): Promise<ConsumerInfo> {
  const read = () =>
    setup.retry(`consumer ${plan.consumer}`, () => jsm.consumers.info(plan.stream, plan.consumer));
  try {
    return await read();
  } catch (error) {
    if (!notFound(error))
      throw fail(`cannot read consumer ${plan.consumer}: ${describeError(error)}`, error);
    if (plan.bind) {
      throw fail(
        `consumer ${plan.consumer} does not exist on ${plan.stream} (bind: true creates nothing)`,
        error,
      );
    }
  }
  try {
    return await setup.retry(`consumer ${plan.consumer}`, () =>
      jsm.consumers.add(plan.stream, {
        durable_name: plan.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(plan.ackWaitMs),
        max_deliver: plan.maxDeliver,
      }),
    );
  } catch (error) {
    if (alreadyExists(error)) return read();
    throw fail(
      `cannot create consumer ${plan.consumer} on ${plan.stream}: ${describeError(error)}`,
      error,
    );
  }
}

/**
 * Binds to the stream and durable pull consumer, creating them when absent (unless `bind`):
 * a work-queue stream on `subjects`, replicated as the setup's policy says, and a consumer
 * with explicit acks. Transient JetStream answers are retried within the setup's bound; only
 * a configuration error is fatal. An existing consumer must be a pull consumer with explicit
 * acks: with `ack_policy: all` one ack would settle other workers' messages.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  plan: ConsumerPlan,
  setup: JetStreamSetup,
): Promise<ConsumerFacts> {
  const stream = await ensureStream(jsm, plan, setup);
  const { config } = await ensureDurable(jsm, plan, setup);
  if (config.deliver_subject)
    throw fail(`consumer ${plan.consumer} is a push consumer; a pull consumer is needed`);
  if (config.ack_policy !== AckPolicy.Explicit) {
    throw fail(`consumer ${plan.consumer} has ack_policy ${config.ack_policy}; explicit is needed`);
  }
  return {
    ackWaitMs: Math.round((config.ack_wait ?? nanos(30_000)) / 1e6),
    maxDeliver: config.max_deliver ?? -1,
    subject: config.filter_subject || stream.config.subjects?.[0] || plan.subjects[0],
  };
}
