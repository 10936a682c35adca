import { jetstream, type PubAck } from '@nats-io/jetstream';
import {
  type NatsConnection,
  NoRespondersError,
  headers as natsHeaders,
  nuid,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { type Codec, jsonCodec } from './codec.js';
import { NatsAdapterError } from './errors.js';
import { checkPrefix, defaultPrefix, headerNames, serviceNames } from './names.js';
import { publishWithRetry } from './publish-retry.js';
import { retryTransient } from './retry.js';
import { invalidOption, optionalBackoff, optionalInteger } from './validate.js';

/** Options of {@link createTaskClient}; each can be overridden per call. */
export interface TaskClientOptions {
  /** The service whose workers take the work. */
  readonly service: string;
  /** @default 'handover' */
  readonly prefix?: string;
  /** Total time a call may take, retries included. @default 10000 */
  readonly timeoutMs?: number;
  /** Time one attempt waits for an answer. @default 2000 */
  readonly attemptTimeoutMs?: number;
  /** Delay before retry n: random in [½, 1] × `min(base × 2^(n-1), max)`. @default { base: 25, max: 500 } */
  readonly backoffMs?: { readonly base: number; readonly max: number };
  /** @default jsonCodec */
  readonly codec?: Codec<unknown, unknown>;
  /** Called before each retry, e.g. to count them. */
  readonly onRetry?: (retry: {
    readonly attempt: number;
    readonly reason: string;
    readonly delayMs: number;
  }) => void;
}

/** Per-call options of {@link TaskClient.request}. */
export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Idempotency key sent with every attempt. @default a fresh NUID */
  readonly requestId?: string;
  /** Extra headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Per-call options of {@link TaskClient.publish}. */
export interface PublishOptions {
  /** @default '<prefix>.<svc>.jobs' */
  readonly subject?: string;
  /** `Nats-Msg-Id`: the stream drops a duplicate within its window. @default a fresh NUID */
  readonly msgId?: string;
  readonly timeoutMs?: number;
}

/** Sends work to a service's workers. */
export interface TaskClient {
  /**
   * Request/reply with retries: "no responders", timeouts and `503` are retried with the same
   * `Handover-Request-Id`, with backoff, until `timeoutMs` runs out. Other service errors throw
   * `HANDOVER_E_NATS_REQUEST_FAILED` at once.
   */
  request<T = unknown>(payload: unknown, options?: RequestOptions): Promise<T>;
  /**
   * Publishes a JetStream job and waits for the stream's ack. A publish the stream cannot answer
   * yet (no responders during a leader election, a timeout while the connection moves) is
   * retried with the same `Nats-Msg-Id` until `timeoutMs` (default 10 s) runs out, so a job is
   * neither lost nor stored twice; other errors fail at once with `HANDOVER_E_NATS_PUBLISH_FAILED`.
   */
  publish(payload: unknown, options?: PublishOptions): Promise<PubAck>;
}

/** A request or publish that did not succeed; `status` is the service error code, if any. */
export class TaskRequestError extends NatsAdapterError {
  readonly status: number | undefined;
  readonly attempts: number;

  constructor(
    code:
      | 'HANDOVER_E_NATS_REQUEST_FAILED'
      | 'HANDOVER_E_NATS_REQUEST_TIMEOUT'
      | 'HANDOVER_E_NATS_PUBLISH_FAILED',
    message: string,
    details: { status?: number; attempts: number; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'TaskRequestError';
    this.status = details.status;
    this.attempts = details.attempts;
  }
}

/** Why an attempt can be retried, or `undefined` if it cannot. */
function retryable(error: unknown): string | undefined {
  if (error instanceof NoRespondersError) return 'no responders';
  if (error instanceof RequestError && error.isNoResponders()) return 'no responders';
  if (
    error instanceof TimeoutError ||
    (error instanceof Error && error.cause instanceof TimeoutError)
  )
    return 'timeout';
  return undefined;
}

/** An attempt that ended in an answer worth retrying (a draining worker's 503, the deadline). */
class RetryableAnswer extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A client for the workers of one service (the controller side of docs/protocol.md). */
export function createTaskClient(nc: NatsConnection, options: TaskClientOptions): TaskClient {
  if (typeof options?.service !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.service)) {
    throw invalidOption('service', options?.service, '1-64 characters of [A-Za-z0-9_-]');
  }
  const prefixError = checkPrefix(options.prefix ?? defaultPrefix);
  if (prefixError) throw prefixError;
  const names = serviceNames(options.service, options.prefix ?? defaultPrefix);
  const defaultTimeout = optionalInteger('timeoutMs', options.timeoutMs, 1) ?? 10_000;
  const defaultAttempt = optionalInteger('attemptTimeoutMs', options.attemptTimeoutMs, 1) ?? 2000;
  const backoff = optionalBackoff('backoffMs', options.backoffMs) ?? { base: 25, max: 500 };
  const callTimeouts = (call: {
    readonly timeoutMs?: number;
    readonly attemptTimeoutMs?: number;
  }) => ({
    total: optionalInteger('timeoutMs', call.timeoutMs, 1) ?? defaultTimeout,
    attempt: optionalInteger('attemptTimeoutMs', call.attemptTimeoutMs, 1) ?? defaultAttempt,
  });
  const codec = options.codec ?? jsonCodec;

  /**
   * Runs `attempt` (given the time left) with the backoff of {@link retryTransient} until it
   * answers, fails for good, or the deadline passes; then `onTimeout` says what was tried.
   */
  async function withRetries<T>(
    deadline: number,
    attempt: (timeoutMs: number, n: number) => Promise<T>,
    onTimeout: (attempts: number, last: string) => TaskRequestError,
  ): Promise<T> {
    let attempts = 0;
    let last = 'no attempt';
    const reasonOf = (error: unknown) =>
      error instanceof RetryableAnswer ? error.reason : retryable(error);
    try {
      return await retryTransient(
        (n) => {
          const left = deadline - Date.now();
          if (left <= 0) throw new RetryableAnswer('deadline');
          attempts = n;
          return attempt(left, n);
        },
        {
          deadline,
          backoffMs: backoff,
          transient: reasonOf,
          onRetry: ({ attempt: n, reason, delayMs }) => {
            last = reason;
            options.onRetry?.({ attempt: n, reason, delayMs });
          },
        },
      );
    } catch (error) {
      const reason = reasonOf(error);
      if (reason === undefined) throw error;
      throw onTimeout(attempts, reason === 'deadline' ? last : reason);
    }
  }

  return {
    async request<T>(payload: unknown, call: RequestOptions = {}): Promise<T> {
      const timeouts = callTimeouts(call);
      const deadline = Date.now() + timeouts.total;
      const requestId = call.requestId ?? nuid.next();
      const data = codec.encode(payload);
      return withRetries<T>(
        deadline,
        async (left, n) => {
          const h = natsHeaders();
          for (const [k, v] of Object.entries(call.headers ?? {})) h.set(k, v);
          h.set(headerNames.requestId, requestId);
          h.set(headerNames.deadline, String(deadline));
          const reply = await nc.request(names.tasks, data, {
            timeout: Math.min(timeouts.attempt, left),
            headers: h,
          });
          const status = reply.headers?.get(headerNames.serviceErrorCode);
          if (!status) return codec.decode(reply.data) as T;
          const message = reply.headers?.get(headerNames.serviceError) ?? '';
          if (status === '503') throw new RetryableAnswer(`503 ${message}`);
          throw new TaskRequestError(
            'HANDOVER_E_NATS_REQUEST_FAILED',
            `request ${requestId} failed: ${status} ${message}`,
            {
              status: Number(status),
              attempts: n,
            },
          );
        },
        (attempts, last) =>
          new TaskRequestError(
            'HANDOVER_E_NATS_REQUEST_TIMEOUT',
            `request ${requestId} got no answer within ${timeouts.total} ms (${attempts} attempts; last: ${last})`,
            { attempts },
          ),
      );
    },

    async publish(payload: unknown, call: PublishOptions = {}): Promise<PubAck> {
      const timeouts = callTimeouts(call);
      const subject = call.subject ?? names.jobs;
      // The same message id on every attempt: one that reached the stream but whose ack was
      // lost is not stored twice. A leader election (seconds, on a cluster) is waited out.
      const { ack } = await publishWithRetry(jetstream(nc), subject, codec.encode(payload), {
        msgID: call.msgId ?? nuid.next(),
        timeoutMs: timeouts.total,
        attemptTimeoutMs: timeouts.attempt,
        ...(options.onRetry ? { onRetry: options.onRetry } : {}),
        fail: (message, { attempts, cause }) =>
          new TaskRequestError('HANDOVER_E_NATS_PUBLISH_FAILED', message, { attempts, cause }),
      });
      return ack;
    },
  };
}
