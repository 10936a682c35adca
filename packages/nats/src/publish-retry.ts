import type { Clock } from '@handover/core';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';
import { transientReason } from './jetstream-errors.js';
import { retryTransient } from './retry.js';
import type { BackoffMs } from './validate.js';

/** Options of {@link publishWithRetry}. */
export interface PublishRetryOptions {
  /**
   * `Nats-Msg-Id`, the same on every attempt: the stream stores the message once even when an
   * attempt reached it but its ack was lost (within the stream's duplicate window, 2 min by
   * default).
   */
  readonly msgID: string;
  readonly headers?: MsgHdrs;
  /** Total time the publish may take, retries included. */
  readonly timeoutMs: number;
  /** Time one attempt waits for the stream's ack. */
  readonly attemptTimeoutMs: number;
  /** @default { base: 50, max: 1000 } */
  readonly backoffMs?: BackoffMs;
  readonly signal?: AbortSignal;
  readonly onRetry?: (retry: {
    readonly attempt: number;
    readonly reason: string;
    readonly delayMs: number;
  }) => void;
  /** Builds the error thrown when the publish fails. @default a `HANDOVER_E_NATS_PUBLISH_FAILED` */
  readonly fail?: (message: string, details: { attempts: number; cause: unknown }) => Error;
  readonly clock?: Clock;
}

/** What a successful {@link publishWithRetry} returns. */
export interface PublishResult {
  readonly ack: PubAck;
  /** 1 when the first attempt was acknowledged. */
  readonly attempts: number;
}

/**
 * Publishes to a JetStream stream and waits for its ack, retrying with the same message id
 * while the stream cannot answer: during a leader election (4–6 s after its leader died on
 * nats-server 2.9.10) every publish fails at once with "no responders", which nats.js reports
 * as `JetStreamNotEnabled`; a publish in flight when the connection drops times out. Other
 * errors (a full stream, a wrong expected sequence) fail at once.
 */
export async function publishWithRetry(
  js: Pick<JetStreamClient, 'publish'>,
  subject: string,
  data: Uint8Array,
  options: PublishRetryOptions,
): Promise<PublishResult> {
  const clock = options.clock;
  const now = () => (clock ? clock.now() : Date.now());
  const deadline = now() + options.timeoutMs;
  const fail =
    options.fail ??
    ((message: string, details: { cause: unknown }) =>
      new NatsAdapterError('HANDOVER_E_NATS_PUBLISH_FAILED', message, { cause: details.cause }));
  let attempts = 0;
  let lastReason: string | undefined;
  try {
    const ack = await retryTransient(
      (attempt) => {
        attempts = attempt;
        return js.publish(subject, data, {
          msgID: options.msgID,
          timeout: Math.max(1, Math.min(options.attemptTimeoutMs, deadline - now())),
          ...(options.headers ? { headers: options.headers } : {}),
        });
      },
      {
        deadline,
        signal: options.signal,
        backoffMs: options.backoffMs ?? { base: 50, max: 1000 },
        transient: (error) => {
          lastReason = transientReason(error, 'publish');
          return lastReason;
        },
        onRetry: ({ attempt, reason, delayMs }) => options.onRetry?.({ attempt, reason, delayMs }),
        ...(clock ? { clock } : {}),
      },
    );
    return { ack, attempts };
  } catch (cause) {
    const message =
      lastReason === undefined
        ? `publish to ${subject} failed: ${(cause as Error).message}`
        : `publish to ${subject} was not acknowledged ${options.signal?.aborted ? 'before it was abandoned' : `within ${options.timeoutMs} ms`} (${attempts} attempts; last: ${lastReason})`;
    throw fail(message, { attempts, cause });
  }
}
