import type { NatsConnection } from '@nats-io/transport-node';
import type { Codec } from './codec.js';
import type { ConnectionSettings } from './connection.js';
import type { TaskHandler } from './intake.js';
import type { JobHandler } from './jetstream-job.js';

/**
 * Options of {@link natsBroker}. `In` is the request payload type, `Out` the reply type and
 * `Job` the JetStream payload type; annotate your handlers' first parameter and TypeScript infers
 * them (or pass them: `natsBroker<Order, Receipt>(...)`). Every option accepts `undefined`
 * explicitly (`exactOptionalPropertyTypes`).
 */
export interface NatsBrokerOptions<In = unknown, Out = unknown, Job = In>
  extends ConnectionSettings {
  /**
   * Handles request/reply tasks sent to `<prefix>.<svc>.tasks` (queue group `<svc>`); its
   * return value is the reply. Throw a `TaskError` to answer with a chosen code. Without a
   * handler the worker opens no request/reply intake.
   */
  readonly handler?: TaskHandler<In, Out> | undefined;
  /**
   * Pulls work from a JetStream stream through a durable pull consumer (at-least-once):
   * acked on success, `nak`ed for a retry on failure or when cut off by the drain.
   */
  readonly jetstream?: JetStreamIntakeOptions<Job> | undefined;
  /** Payload encoding. @default jsonCodec (UTF-8 JSON) */
  readonly codec?: Codec<In, Out> | undefined;
  /**
   * First tokens of every subject the worker uses, dot-separated `[A-Za-z0-9_-]` tokens.
   * @default 'handover'
   */
  readonly prefix?: string | undefined;
  /**
   * Largest request payload a handler is given; a bigger one is answered `413`.
   * @default the server's `max_payload` (1 MiB unless configured)
   */
  readonly maxPayloadBytes?: number | undefined;
  /** Keep an entry in the `handover_<svc>` JetStream KV bucket. @default true */
  readonly registry?: boolean | undefined;
  /** The `description` of the micro protocol's INFO response. @default 'Handover worker of <svc>' */
  readonly description?: string | undefined;
  /**
   * An existing connection to use instead of connecting. The adapter drains its own
   * subscriptions but never closes a connection it did not open.
   */
  readonly nc?: NatsConnection | undefined;
}

/** Options of the JetStream intake. */
export interface JetStreamIntakeOptions<In = unknown> {
  /** The stream to pull from: `[A-Za-z0-9_-]` characters. */
  readonly stream: string;
  /** The durable pull consumer the service's workers share. @default '<svc>' */
  readonly consumer?: string | undefined;
  /** Handles one message: return to ack it, throw to have it retried. */
  readonly handler: JobHandler<In>;
  /** Subjects of the stream when the worker creates it. @default ['<prefix>.<svc>.jobs'] */
  readonly subjects?: readonly string[] | undefined;
  /** Bind only: fail when the stream or the consumer does not exist. @default false */
  readonly bind?: boolean | undefined;
  /** `ack_wait` of a consumer the worker creates, in ms. @default 30000 */
  readonly ackWaitMs?: number | undefined;
  /** `max_deliver` of a consumer the worker creates. @default 5 */
  readonly maxDeliver?: number | undefined;
  /**
   * Retry delay after a handler error: `min(base * 2^(deliveries - 1), max)` ms.
   * @default { base: 1000, max: 30000 }
   */
  readonly nakDelayMs?: { readonly base: number; readonly max: number } | undefined;
  /**
   * How long each pull request waits at the server, in ms (50 to 5000). A stopping worker
   * waits for its open requests to run out, so this bounds what a drain adds to the longest
   * job; an idle worker sends about one request per this period. See docs/jetstream.md.
   * @default 100
   */
  readonly pullExpiresMs?: number | undefined;
}

/** The default of {@link JetStreamIntakeOptions.pullExpiresMs}. */
export const defaultPullExpiresMs = 100;
