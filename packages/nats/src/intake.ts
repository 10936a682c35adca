import { isHandoverError, type Logger, type PortContext } from '@handover/core';
import {
  Empty,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import type { Codec } from './codec.js';
import { TaskError } from './errors.js';
import { headerNames, type ServiceNames } from './names.js';
import { EndpointStats } from './stats.js';

/** What a task handler gets besides the payload. */
export interface TaskContext {
  /** Fires at the drain deadline (the task is answered `503` then); pass it to your I/O. */
  readonly signal: AbortSignal;
  /** The `Handover-Request-Id` header: an idempotency key, the same on every retry. */
  readonly requestId: string | undefined;
  /** The `Handover-Deadline` header (epoch ms): the caller stops waiting then. */
  readonly deadline: number | undefined;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
}

/** Handles one task; its return value is the reply. */
export type TaskHandler<In = unknown, Out = unknown> = (
  payload: In,
  context: TaskContext,
) => Out | PromiseLike<Out>;

/** A source of tasks the adapter opens when ready and closes first when draining. */
export interface Intake {
  readonly stats: EndpointStats;
  open(): void;
  /** No new task is delivered once this resolves; tasks already delivered still run. Safe
   * to call on an intake whose `open` has not finished: it then never starts. */
  close(): Promise<void>;
  /**
   * Stops taking tasks for a while (the connection is about to move to another server):
   * resolves once nothing delivered on this connection is still in flight or unanswered.
   */
  pause(): Promise<void>;
  /** Takes tasks again after {@link pause}; does nothing once closed. */
  resume(): void;
}

export interface RequestIntakeDeps {
  readonly nc: NatsConnection;
  readonly names: ServiceNames;
  readonly context: PortContext;
  readonly logger: Logger;
  readonly handler: TaskHandler<unknown, unknown>;
  readonly codec: Codec<unknown, unknown>;
  readonly maxPayloadBytes: number;
}

/** The labels of the answers a worker gives, made once (a reply is the hot path). */
const answerLabels: Record<number, Readonly<Record<string, string>>> = Object.fromEntries(
  [200, 400, 413, 422, 500, 503, 504].map((code) => [code, { code: String(code) }]),
);

/** A deadline header that is not epoch milliseconds. */
const badDeadline = Symbol('bad deadline');

function parseDeadline(value: string | undefined): number | undefined | typeof badDeadline {
  if (value === undefined || value === '') return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : badDeadline;
}

/**
 * Request/reply intake (docs/protocol.md, "Tasks, request/reply intake"): a queue subscription on
 * `<prefix>.<svc>.tasks`; every request runs through the worker's queue and is answered once,
 * with the result or a service error (400, 413, 500, 503, 504).
 */
export class RequestIntake implements Intake {
  readonly stats: EndpointStats;
  readonly #deps: RequestIntakeDeps;
  #sub: Subscription | undefined;
  #closed = false;
  /** Tasks delivered and not answered yet, and who waits for them to be answered. */
  #unanswered = 0;
  #answered: (() => void)[] = [];

  constructor(deps: RequestIntakeDeps) {
    this.#deps = deps;
    this.stats = new EndpointStats('tasks', deps.names.tasks, deps.names.queue);
  }

  open(): void {
    const { nc, names } = this.#deps;
    this.#sub = nc.subscribe(names.tasks, {
      queue: names.queue,
      callback: (error, msg) => {
        if (error) this.#deps.logger.error({ error: error.message }, 'task subscription error');
        else this.#handle(msg);
      },
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const sub = this.#sub;
    if (sub && !sub.isClosed()) await sub.drain();
  }

  async pause(): Promise<void> {
    const sub = this.#sub;
    if (sub && !sub.isClosed()) await sub.drain();
    if (this.#unanswered > 0) await new Promise<void>((resolve) => this.#answered.push(resolve));
  }

  resume(): void {
    if (!this.#closed && (this.#sub === undefined || this.#sub.isClosed())) this.open();
  }

  #handle(msg: Msg): void {
    const { context, handler, logger } = this.#deps;
    const started = performance.now();
    this.stats.request();
    const requestId = msg.headers?.get(headerNames.requestId) || undefined;
    let replied = false;
    this.#unanswered++;
    const reply = (data: Uint8Array, refusal?: Refusal): void => {
      if (replied) return;
      replied = true;
      if (--this.#unanswered === 0) for (const resolve of this.#answered.splice(0)) resolve();
      context.count(
        'handover_nats_answers_total',
        answerLabels[refusal?.status ?? 200] ?? {
          code: String(refusal?.status),
        },
      );
      const sent = respond(msg, requestId, data, refusal, logger);
      this.stats.done(started, sent ? refusal?.message : 'the result could not be sent');
    };

    const accepted = this.#accept(msg);
    if ('status' in accepted) {
      reply(Empty, accepted);
      return;
    }
    const taskContext = {
      requestId,
      deadline: accepted.deadline,
      subject: msg.subject,
      headers: msg.headers,
    };
    context
      .run(
        (signal) => {
          // It may have waited in the queue: the caller's deadline is checked again at the start.
          if (accepted.deadline !== undefined && accepted.deadline <= Date.now()) throw lateStart();
          return handler(accepted.payload, { ...taskContext, signal });
        },
        {
          name: `nats:${msg.subject}`,
          key: requestId,
        },
      )
      .then(
        (result) => {
          let data: Uint8Array;
          try {
            data = this.#deps.codec.encode(result);
          } catch {
            reply(Empty, { status: 500, message: 'the result could not be encoded' });
            return;
          }
          reply(data);
        },
        (error: unknown) => reply(Empty, refusalFor(error, requestId, logger)),
      );
  }

  /** Checks size, deadline and encoding before any work starts. */
  #accept(msg: Msg): Refusal | { payload: unknown; deadline: number | undefined } {
    const { maxPayloadBytes, codec } = this.#deps;
    if (msg.data.length > maxPayloadBytes) {
      return {
        status: 413,
        message: `payload too large: ${msg.data.length} bytes, limit ${maxPayloadBytes}`,
      };
    }
    const deadline = parseDeadline(msg.headers?.get(headerNames.deadline));
    if (deadline === badDeadline)
      return { status: 400, message: `${headerNames.deadline} must be epoch milliseconds` };
    if (deadline !== undefined && deadline <= Date.now()) return lateStart();
    try {
      return { payload: codec.decode(msg.data), deadline };
    } catch {
      return { status: 400, message: 'payload could not be decoded' };
    }
  }
}

/** The answer to a task whose caller stopped waiting before it could start. */
const lateStart = (): TaskError =>
  new TaskError(504, 'the caller deadline passed before the task started');

/** A service error answer: `Nats-Service-Error-Code` and `Nats-Service-Error`. */
interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** The answer to a task that failed. */
function refusalFor(error: unknown, requestId: string | undefined, logger: Logger): Refusal {
  if (
    isHandoverError(error, 'HANDOVER_E_TASK_ABORTED') ||
    isHandoverError(error, 'HANDOVER_E_NOT_ACCEPTING')
  ) {
    return {
      status: 503,
      message: 'the worker is stopping and could not finish this task: retry elsewhere',
    };
  }
  if (error instanceof TaskError) return { status: error.status, message: error.message };
  // The handler's own message may hold internals: log it, answer with a generic one.
  logger.error({ err: error, requestId }, 'task handler failed');
  return { status: 500, message: 'task handler failed' };
}

/** Sends the reply (with the request id echoed); a result too large is replaced by a 500. */
function respond(
  msg: Msg,
  requestId: string | undefined,
  data: Uint8Array,
  refusal: Refusal | undefined,
  logger: Logger,
): boolean {
  if (!msg.reply) return true;
  const send = (body: Uint8Array, answer: Refusal | undefined): void => {
    // A plain success needs no header block: leaving it out saves work on both ends.
    if (!requestId && !answer) {
      msg.respond(body);
      return;
    }
    const h = headers();
    if (requestId) h.set(headerNames.requestId, requestId);
    if (answer) {
      h.set(headerNames.serviceError, answer.message);
      h.set(headerNames.serviceErrorCode, String(answer.status));
    }
    msg.respond(body, { headers: h });
  };
  try {
    send(data, refusal);
    return true;
  } catch (error) {
    logger.error({ requestId, error: (error as Error).message }, 'could not send the reply');
    if (refusal !== undefined) return false;
    try {
      send(Empty, { status: 500, message: 'the result could not be sent (too large?)' });
    } catch {
      // The connection is gone: nothing more can be said to this requester.
    }
    return false;
  }
}
