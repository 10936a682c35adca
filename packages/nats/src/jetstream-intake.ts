import { describeError, type Logger } from '@handover/core';
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Codec } from './codec.js';
import type { Intake } from './intake.js';
import { ackBodies, parseAckSubject } from './jetstream-delivery.js';
import { Job } from './jetstream-job.js';
import { Puller } from './jetstream-pull.js';
import { type Settlement, settleFailure, undecodable } from './jetstream-settle.js';
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

/**
 * What the intake needs of the worker: its concurrency slots and a way to run work in them.
 * A `Worker` has all of it; so does anything that hands out slots the same way.
 */
export interface JobSlots {
  readonly concurrency: number;
  /** Slots neither running nor claimed by queued work. */
  readonly freeSlots: number;
  /** Resolves as soon as a slot is free (at once if one is). */
  whenSlotFree(): Promise<void>;
  /** Runs `fn` in a slot; rejects at once with `HANDOVER_E_TASK_ABORTED` when cut off. */
  run<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    meta?: { readonly name?: string; readonly key?: string },
  ): Promise<T>;
}

export interface JetStreamIntakeDeps {
  readonly nc: NatsConnection;
  readonly slots: JobSlots;
  readonly logger: Logger;
  /** The JetStream API prefix, `$JS.API` unless a domain or prefix is configured. */
  readonly apiPrefix: string;
  readonly stream: string;
  readonly consumer: string;
  readonly facts: ConsumerFacts;
  readonly handler: JobHandler<unknown>;
  readonly codec: Codec<unknown, unknown>;
  /** How long each pull request waits at the server: also the longest a stop waits for them. */
  readonly pullExpiresMs: number;
  /** Binds again (creating the stream and consumer when the worker may) after they vanished. */
  readonly recover: () => Promise<void>;
  /** Whether the server understands `+TERM <reason>` (2.11+); 2.9 ignores such a term. */
  readonly termReasons: boolean;
  /** Delay of the n-th retry: `min(base * 2^(n-1), max)`. */
  readonly nakDelayMs: { readonly base: number; readonly max: number };
}

/** Thrown inside a task whose message was given back before it could start. */
const released = new Error('released before it started');

/**
 * JetStream intake (PROTOCOL.md, "Tasks, JetStream intake"): keeps pull requests open for
 * exactly the worker's free slots ({@link Puller}), runs each message in a slot, acks on
 * success and settles failures by {@link settleFailure}. Stopping asks for nothing more and
 * waits until no pull request of this worker is open; what still arrives starts if a slot is
 * free, else it is `nak`ed then, when a nak can no longer send it straight back here.
 */
export class JetStreamIntake implements Intake {
  readonly stats: EndpointStats;
  readonly #deps: JetStreamIntakeDeps;
  readonly #taskName: string;
  /** Jobs taken and not settled: queued, or running (then `working()` is sent for them). */
  readonly #jobs = new Set<Job>();
  /** Messages that came while stopping with no slot free: given back once no pull is open. */
  readonly #late: Msg[] = [];
  #puller: Puller | undefined;
  #stopping = false;
  /** No pull request is open any more: nothing new can arrive. */
  #closed = false;
  /** One timer for every running job: `working()` at least every ack_wait / 2. */
  #beat: ReturnType<typeof setInterval> | undefined;
  /** Jobs settled in this turn of the event loop, their settlement not yet sent. */
  readonly #outbox: Job[] = [];
  #turnEnding = false;

  constructor(deps: JetStreamIntakeDeps) {
    this.#deps = deps;
    this.#taskName = `jetstream:${deps.stream}/${deps.consumer}`;
    this.stats = new EndpointStats('jobs', deps.facts.subject ?? deps.stream, deps.consumer);
  }

  open(): void {
    const { nc, slots, apiPrefix, stream, consumer, logger } = this.#deps;
    // Every ack_wait / 3: a job is at most one period old at the first beat, so its ack timer
    // is reset within ack_wait / 2 of the last one whatever the phase.
    this.#beat = setInterval(
      () => {
        for (const job of this.#jobs) if (job.started) this.#safely(job, () => job.touch());
      },
      Math.max(100, Math.floor(this.#deps.facts.ackWaitMs / 3)),
    );
    this.#beat.unref();
    this.#puller = new Puller({
      nc,
      subject: `${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      expiresMs: this.#deps.pullExpiresMs,
      concurrency: slots.concurrency,
      free: () => slots.freeSlots,
      whenSlotFree: () => slots.whenSlotFree(),
      onMessage: this.#received,
      recover: this.#deps.recover,
      logger,
    });
  }

  async close(): Promise<void> {
    this.#stopping = true;
    await this.#puller?.stop();
    this.#closed = true;
    // Only now, with no pull request of this worker open, can a message be given back: a nak
    // while one is open sends it straight back here, again and again, each time counted
    // against max_deliver.
    const late = this.#late.splice(0);
    for (const msg of late) this.#safely(undefined, () => msg.respond(ackBodies.nak));
    for (const job of this.#jobs) if (!job.started) this.#settle(job, 'nak');
    if (late.length > 0) {
      this.#deps.logger.debug(
        { count: late.length },
        'gave back jobs that arrived with no slot free while stopping',
      );
    }
    const unexpected = this.#puller?.unexpected ?? 0;
    if (unexpected > 0) {
      this.#deps.logger.warn(
        { count: unexpected },
        'the server sent more jobs than were asked for',
      );
    }
    this.#stopBeatWhenIdle();
  }

  readonly #received = (msg: Msg): void => {
    if (this.#stopping && this.#deps.slots.freeSlots === 0) this.#late.push(msg);
    else this.#take(msg);
  };

  #take(msg: Msg): void {
    const { codec, logger, slots } = this.#deps;
    this.stats.request();
    const receivedAt = performance.now();
    const info = parseAckSubject(msg.reply ?? '');
    if (!info) {
      logger.warn({ subject: msg.subject }, 'not a JetStream delivery: ignored');
      this.stats.done(receivedAt, 'not a JetStream delivery');
      return;
    }
    let payload: unknown;
    try {
      payload = codec.decode(msg.data);
    } catch {
      const job = new Job(msg, info, undefined, receivedAt);
      logger.warn(
        { seq: job.seq, subject: msg.subject },
        'JetStream message could not be decoded: terminated',
      );
      this.#settleAs(job, undecodable);
      return;
    }
    const job = new Job(msg, info, payload, receivedAt);
    this.#jobs.add(job);
    slots
      .run((signal) => this.#run(job, signal), { name: this.#taskName, key: String(job.seq) })
      .then(this.#jobEnded, (error: unknown) => {
        if (error !== released) this.#failed(job, error);
        this.#jobEnded();
      });
  }

  async #run(job: Job, signal: AbortSignal): Promise<void> {
    if (job.settled) throw released;
    job.signal = signal;
    job.started = true;
    try {
      await this.#deps.handler(job.payload, job);
    } catch (error) {
      this.#failed(job, error);
      return;
    }
    this.#settle(job, 'ack');
  }

  readonly #jobEnded = (): void => {
    this.#endOfTurn();
    if (this.#closed) this.#stopBeatWhenIdle();
  };

  /**
   * Sends the settlements of this turn of the event loop and asks for the slots they freed:
   * jobs that end together (a batch read at once, timers due at once) cost one socket write
   * and one pull request, not one each. A turn is microseconds: nothing waits on it.
   */
  #endOfTurn(): void {
    if (this.#turnEnding) return;
    this.#turnEnding = true;
    setImmediate(this.#turnEnded);
  }

  readonly #turnEnded = (): void => {
    this.#turnEnding = false;
    const outbox = this.#outbox;
    for (let i = 0; i < outbox.length; i++) {
      const job = outbox[i] as Job;
      try {
        job.send();
      } catch (error) {
        this.#unsent(job, error);
      }
    }
    outbox.length = 0;
    this.#puller?.refill();
  };

  #failed(job: Job, error: unknown): void {
    if (job.settled) return;
    const { facts, logger, nakDelayMs } = this.#deps;
    const settlement = settleFailure(error, {
      deliveryCount: job.deliveryCount,
      maxDeliver: facts.maxDeliver,
      nakDelayMs,
    });
    const { seq, deliveryCount } = job;
    if (settlement.cause === 'rejected') {
      const status = (error as { status?: number }).status;
      logger.warn(
        { seq, status, reason: settlement.reason },
        'job rejected by its handler: terminated',
      );
    } else if (settlement.cause === 'exhausted') {
      logger.error(
        { seq, deliveryCount, err: error },
        'job failed on its last allowed delivery: terminated',
      );
    } else if (settlement.cause === 'failed') {
      logger.warn(
        { seq, deliveryCount, retryInMs: settlement.delayMs, err: error },
        'job failed: will be retried',
      );
    }
    this.#settleAs(job, settlement);
  }

  #settleAs(job: Job, settlement: Settlement): void {
    if (settlement.how === 'nak')
      this.#settle(job, 'nak', { delayMs: settlement.delayMs }, settlement.reason);
    else {
      // nats-server 2.9 ignores `+TERM <reason>` and redelivers: send the reason only when heard.
      const reason = this.#deps.termReasons ? settlement.reason : undefined;
      this.#settle(job, 'term', { reason }, settlement.reason);
    }
  }

  #settle(
    job: Job,
    how: 'ack' | 'nak' | 'term',
    detail?: { delayMs?: number | undefined; reason?: string | undefined },
    error?: string,
  ): void {
    if (!job.settle(how, detail)) return;
    this.#jobs.delete(job);
    this.#outbox.push(job);
    this.#endOfTurn();
    this.stats.done(job.receivedAt, error);
  }

  /** Sends on the connection; if it is gone, the server redelivers after ack_wait. */
  #safely(job: Job | undefined, send: () => unknown): void {
    try {
      send();
    } catch (error) {
      this.#unsent(job, error);
    }
  }

  #unsent(job: Job | undefined, error: unknown): void {
    this.#deps.logger.warn(
      { seq: job?.seq, error: describeError(error) },
      'could not settle a JetStream message',
    );
  }

  #stopBeatWhenIdle(): void {
    for (const job of this.#jobs) if (job.started) return;
    clearInterval(this.#beat);
  }
}
