import { describeError } from '@handover/core';
import {
  AckPolicy,
  type ConsumerInfo,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';

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

const notFound = (error: unknown): boolean => /not found/i.test(describeError(error));

/**
 * Binds to the stream and durable pull consumer, creating them when absent (unless `bind`):
 * a work-queue stream on `subjects`, and a consumer with explicit acks. An existing consumer
 * must be a pull consumer with explicit acks: with `ack_policy: all` one ack would settle
 * other workers' messages.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  plan: ConsumerPlan,
): Promise<ConsumerFacts> {
  const fail = (message: string, cause?: unknown): NatsAdapterError =>
    new NatsAdapterError('HANDOVER_E_NATS_JETSTREAM', message, { cause });
  let subjects: readonly string[];
  try {
    subjects = (await jsm.streams.info(plan.stream)).config.subjects ?? [];
  } catch (error) {
    if (!notFound(error))
      throw fail(`cannot read stream ${plan.stream}: ${describeError(error)}`, error);
    if (plan.bind)
      throw fail(`stream ${plan.stream} does not exist (bind: true creates nothing)`, error);
    await jsm.streams
      .add({
        name: plan.stream,
        subjects: [...plan.subjects],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      })
      .catch((cause: unknown) => {
        throw fail(`cannot create stream ${plan.stream}: ${describeError(cause)}`, cause);
      });
    subjects = plan.subjects;
  }
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(plan.stream, plan.consumer);
  } catch (error) {
    if (!notFound(error))
      throw fail(`cannot read consumer ${plan.consumer}: ${describeError(error)}`, error);
    if (plan.bind)
      throw fail(
        `consumer ${plan.consumer} does not exist on ${plan.stream} (bind: true creates nothing)`,
        error,
      );
    info = await jsm.consumers
      .add(plan.stream, {
        durable_name: plan.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(plan.ackWaitMs),
        max_deliver: plan.maxDeliver,
      })
      .catch((cause: unknown) => {
        throw fail(
          `cannot create consumer ${plan.consumer} on ${plan.stream}: ${describeError(cause)}`,
          cause,
        );
      });
  }
  const { config } = info;
  if (config.deliver_subject)
    throw fail(`consumer ${plan.consumer} is a push consumer; a pull consumer is needed`);
  if (config.ack_policy !== AckPolicy.Explicit) {
    throw fail(`consumer ${plan.consumer} has ack_policy ${config.ack_policy}; explicit is needed`);
  }
  return {
    ackWaitMs: Math.round((config.ack_wait ?? nanos(30_000)) / 1e6),
    maxDeliver: config.max_deliver ?? -1,
    subject: config.filter_subject || subjects[0],
  };
}
