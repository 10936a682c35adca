import { describeError, isHandoverError, type Logger, type PortContext } from '@handover/core';
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Codec } from './codec.js';
import { TaskError } from './errors.js';
import type { Intake } from './intake.js';
import type { ConsumerFacts } from './jetstream-setup.js';
import { EndpointStats } from './stats.js';

/** What a job handler gets besides the payload. */
export interface JobContext {
  /** Fires at the drain deadline; the message is then `nak`ed for another worker. */
  readonly signal: AbortSignal;
  /** The stream sequence: a stable id of this message across redeliveries. */
  readonly seq: number;
  /** 1 on the first delivery; more means an earlier attempt failed or its worker died. */
  readonly deliveryCount: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  /** Resets the ack timer; the intake already calls it every `ack_wait / 2` while you work. */
  working(): void;
}

/** Handles one JetStream message; returning acks it, throwing `nak`s (or `term`s) it. */
export type JobHandler<In = unknown> = (payload: In, context: JobContext) => unknown;

export interface JetStreamIntakeDeps {
  readonly js: JetStreamClient;
  readonly context: PortContext;
  readonly logger: Logger;
  readonly stream: string;
  readonly consumer: string;
  readonly facts: ConsumerFacts;
  readonly handler: JobHandler<unknown>;
  readonly codec: Codec<unknown, unknown>;
  /**
   * Binds again (creating the stream and consumer when the worker may): called after a failed
   * pull, since a broker that lost its store has neither any more.
   */
  readonly recover: () => Promise<Consumer>;
  /** Whether the server understands `+TERM <reason>` (2.11+); 2.9 ignores such a term. */
  readonly termReasons: boolean;
  /** Delay of the n-th retry: `min(base * 2^(n-1), max)`. */
  readonly nakDelayMs: { readonly base: number; readonly max: number };
}

/** Thrown inside a task whose message was released (nak'ed) before it could start. */
const released = new Error('released before it started');

/**
 * How long a pull request waits at the server for messages. It also bounds how long a stopping
 * intake waits for its open requests to end (see `close()`).
 */
const pullExpiresMs = 1000;

/** How often a failing pull is logged while it is retried. */
const logEveryMs = 30_000;

/** A message taken off the consumer: started (handler running) or not yet. */
interface Held {
  readonly msg: JsMsg;
  started: boolean;
  settled: boolean;
}

/**
 * JetStream intake (docs/protocol.md, "Tasks, JetStream intake"): pulls from a durable pull consumer
 * no more messages than the worker has free slots, acks on success, naks with backoff on
 * failure, terms what can never succeed. Stopping pulls nothing more and naks at once what was
 * fetched but not started.
 */
export class JetStreamIntake implements Intake {
  readonly stats: EndpointStats;
  readonly #deps: JetStreamIntakeDeps;
  readonly #held = new Set<Held>();
  readonly #batches = new Set<ConsumerMessages>();
  #stopping = false;
  /** Messages that arrived after stopping began: given back once no pull request is open. */
  readonly #late: JsMsg[] = [];
  #loop: Promise<void> | undefined;
  #consumer: Consumer | undefined;
  /** Messages asked for and not yet received: counted against the free slots. */
  #outstanding = 0;
  #wake: () => void = () => {};
  /** One timer for every running job: `working()` at least every ack_wait / 2. */
  #beat: ReturnType<typeof setInterval> | undefined;

  constructor(deps: JetStreamIntakeDeps) {
    this.#deps = deps;
    this.stats = new EndpointStats('jobs', deps.facts.subject ?? deps.stream, deps.consumer);
  }

  async open(signal: AbortSignal): Promise<void> {
    this.#consumer = await this.#deps.js.consumers.get(this.#deps.stream, this.#deps.consumer);
    // A stop while binding (or a close that came meanwhile): never start pulling.
    if (signal.aborted || this.#stopping) return;
    this.#loop = this.#pull();
    // Every ack_wait / 3: a job is at most one period old at the first beat, so its ack timer
    // is reset within ack_wait / 2 of the last one whatever the phase.
    this.#beat = setInterval(
      () => {
        for (const held of this.#held) if (held.started && !held.settled) held.msg.working();
      },
      Math.max(100, Math.floor(this.#deps.facts.ackWaitMs / 3)),
    );
    this.#beat.unref();
  }

  /** Nothing to do yet: a pull request in flight while the connection moves is re-issued. */
  async pause(): Promise<void> {}

  resume(): void {}

  async close(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    // A pull request already at the server can deliver until it expires, and a message sent to
    // an inbox the client has just unsubscribed is dropped on the floor: it would wait out
    // ack_wait before anyone gets it. So the open requests run to their end (at most `expires`;
    // bounded, in case the connection is gone and no end ever comes), and what they still bring
    // is held, not started.
    const ended = this.#loop ?? Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<'overdue'>((resolve) => {
      timer = setTimeout(() => resolve('overdue'), pullExpiresMs + 500);
    });
    if ((await Promise.race([ended, overdue])) === 'overdue') {
      await Promise.all([...this.#batches].map((batch) => batch.close()));
    }
    clearTimeout(timer);
    await this.#loop;
    // Only now, with no pull request of this worker left open, can a message be given back: a
    // nak while one is open sends it straight back here, again and again, each time counted
    // against max_deliver, until the server gives up on it.
    const arrived = this.#late.splice(0);
    for (const msg of arrived) this.#settle({ msg, started: false, settled: false }, 'nak');
    if (arrived.length > 0) {
      this.#deps.logger.debug(
        { count: arrived.length },
        'gave back jobs that arrived on pulls still open while stopping',
      );
    }
    for (const held of this.#held) {
      if (!held.started && !held.settled) this.#settle(held, 'nak');
    }
    // Jobs still running keep their ack timer reset until they settle: a draining worker's
    // long job must not be redelivered to another worker while it is still being worked on.
    this.#stopBeatWhenIdle();
  }

  /**
   * Keeps pull requests in flight for exactly the slots that are free and not yet asked for:
   * never more messages than the worker can start now, yet no round trip of idle between
   * batches. Wakes when a message arrives, a batch ends, or a slot frees.
   */
  async #pull(): Promise<void> {
    const { context: worker } = this.#deps;
    const fetches = new Set<Promise<void>>();
    // Refill once half the slots are free (or nothing is on its way): batches, not trickles.
    const threshold = Math.max(1, Math.ceil(worker.concurrency / 2));
    while (!this.#stopping) {
      const wanted = worker.freeSlots - this.#outstanding;
      if (wanted > 0 && (wanted >= threshold || this.#outstanding === 0)) {
        this.#outstanding += wanted;
        const fetch = this.#fetch(wanted).finally(() => fetches.delete(fetch));
        fetches.add(fetch);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        if (worker.freeSlots === 0) void worker.whenSlotFree().then(resolve);
      });
    }
    await Promise.all(fetches);
  }

  async #fetch(count: number): Promise<void> {
    let received = 0;
    try {
      const batch = await (this.#consumer as Consumer).fetch({
        max_messages: count,
        expires: pullExpiresMs,
      });
      this.#batches.add(batch);
      for await (const msg of batch) {
        received++;
        this.#outstanding--;
        if (this.#stopping) this.#late.push(msg);
        else this.#take(msg);
      }
      this.#batches.delete(batch);
    } catch (error) {
      this.#failedPull(error);
      // A broker that is away answers every pull at once: do not spin.
      if (!this.#stopping) await new Promise((resolve) => setTimeout(resolve, 1000));
      if (!this.#stopping) {
        this.#consumer = await this.#deps.recover().catch((cause: unknown) => {
          this.#failedPull(cause);
          return this.#consumer;
        });
      }
    } finally {
      this.#outstanding -= count - received;
      this.#wake();
    }
  }

  #stopBeatWhenIdle(): void {
    for (const held of this.#held) if (held.started && !held.settled) return;
    clearInterval(this.#beat);
  }

  #loggedAt = Number.NEGATIVE_INFINITY;

  #failedPull(error: unknown): void {
    if (this.#stopping || Date.now() - this.#loggedAt < logEveryMs) return;
    this.#loggedAt = Date.now();
    this.#deps.logger.warn({ error: describeError(error) }, 'JetStream pull failed; retrying');
  }

  #take(msg: JsMsg): void {
    const { context: worker, handler, codec, logger, stream, consumer } = this.#deps;
    const started = performance.now();
    this.stats.request();
    const held: Held = { msg, started: false, settled: false };
    const info = msg.info;
    const seq = info.streamSequence;
    let payload: unknown;
    try {
      payload = codec.decode(msg.data);
    } catch {
      logger.warn(
        { seq, subject: msg.subject },
        'JetStream message could not be decoded: terminated',
      );
      this.#settle(held, 'term', 'payload could not be decoded');
      this.stats.done(started, 'payload could not be decoded');
      return;
    }
    this.#held.add(held);
    worker
      .run(
        (signal) => {
          if (held.settled) throw released;
          held.started = true;
          const context: JobContext = {
            signal,
            seq,
            deliveryCount: info.deliveryCount,
            subject: msg.subject,
            headers: msg.headers,
            working: () => msg.working(),
          };
          return handler(payload, context);
        },
        { name: `jetstream:${stream}/${consumer}`, key: String(seq) },
      )
      .then(
        () => {
          this.#settle(held, 'ack');
          this.stats.done(started);
        },
        (error: unknown) => {
          if (error === released) return;
          const reason = this.#settleFailure(held, error);
          this.stats.done(started, reason);
        },
      )
      .finally(() => {
        this.#held.delete(held);
        this.#wake();
        if (this.#stopping) this.#stopBeatWhenIdle();
      });
  }

  /** nak (with backoff unless cut off), or term when the message can never succeed. */
  #settleFailure(held: Held, error: unknown): string {
    const { facts, logger, nakDelayMs } = this.#deps;
    const { deliveryCount, streamSequence: seq } = held.msg.info;
    if (
      isHandoverError(error, 'HANDOVER_E_TASK_ABORTED') ||
      isHandoverError(error, 'HANDOVER_E_NOT_ACCEPTING')
    ) {
      this.#settle(held, 'nak');
      return 'cut off at the drain deadline';
    }
    if (error instanceof TaskError && error.status >= 400 && error.status < 500) {
      logger.warn(
        { seq, status: error.status, reason: error.message },
        'job rejected by its handler: terminated',
      );
      this.#settle(held, 'term', error.message);
      return error.message;
    }
    const reason = describeError(error);
    if (facts.maxDeliver > 0 && deliveryCount >= facts.maxDeliver) {
      logger.error(
        { seq, deliveryCount, err: error },
        'job failed on its last allowed delivery: terminated',
      );
      this.#settle(held, 'term', `failed ${deliveryCount} times: ${reason}`);
      return reason;
    }
    const delay = Math.min(nakDelayMs.base * 2 ** (deliveryCount - 1), nakDelayMs.max);
    logger.warn(
      { seq, deliveryCount, retryInMs: delay, err: error },
      'job failed: will be retried',
    );
    this.#settle(held, 'nak', undefined, delay);
    return reason;
  }

  #settle(held: Held, how: 'ack' | 'nak' | 'term', reason?: string, delayMs?: number): void {
    if (held.settled) return;
    held.settled = true;
    try {
      if (how === 'ack') held.msg.ack();
      // nats-server 2.9 ignores `+TERM <reason>` and redelivers: send the reason only when heard.
      else if (how === 'term') held.msg.term(this.#deps.termReasons ? reason : undefined);
      else held.msg.nak(delayMs);
    } catch (error) {
      // The connection is gone; the server redelivers after ack_wait.
      this.#deps.logger.warn(
        { seq: held.msg.info.streamSequence, how, error: describeError(error) },
        'could not settle a JetStream message',
      );
    }
  }
}
