import type { Logger } from '@handover/core';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Codec } from './codec.js';
import type { Intake } from './intake.js';
import { parseAckSubject } from './jetstream-delivery.js';
import { Job, type JobHandler } from './jetstream-job.js';
import { Outbox } from './jetstream-outbox.js';
import { Puller } from './jetstream-pull.js';
import { undecodable } from './jetstream-settle.js';
import type { ConsumerFacts } from './jetstream-setup.js';
import { EndpointStats } from './stats.js';

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
  /** Counts each settlement by how; the adapter feeds `handover_jetstream_settled_total`. */
  readonly counted?: (how: 'ack' | 'nak' | 'term') => void;
}

/** Thrown inside a task whose message was given back before it could start. */
const released = new Error('released before it started');

/**
 * JetStream intake (PROTOCOL.md, "Tasks, JetStream intake"): keeps pull requests open for
 * exactly the worker's free slots ({@link Puller}), runs each message in a slot, acks on
 * success and settles failures by the settle policy ({@link Outbox}). Stopping asks for
 * nothing more and waits until no pull request of this worker is open; what still arrives
 * starts if a slot is free, else it is `nak`ed then, when a nak can no longer send it straight
 * back here.
 */
export class JetStreamIntake implements Intake {
  readonly stats: EndpointStats;
  readonly #deps: JetStreamIntakeDeps;
  readonly #taskName: string;
  readonly #outbox: Outbox;
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

  constructor(deps: JetStreamIntakeDeps) {
    this.#deps = deps;
    this.#taskName = `jetstream:${deps.stream}/${deps.consumer}`;
    this.stats = new EndpointStats('jobs', deps.facts.subject ?? deps.stream, deps.consumer);
    this.#outbox = new Outbox({
      logger: deps.logger,
      stats: this.stats,
      maxDeliver: deps.facts.maxDeliver,
      nakDelayMs: deps.nakDelayMs,
      termReasons: deps.termReasons,
      settled: (job) => this.#jobs.delete(job),
      counted: deps.counted ?? (() => {}),
      turnEnded: () => this.#puller?.refill(),
    });
  }

  open(): void {
    // Every ack_wait / 3: a job is at most one period old at the first beat, so its ack timer
    // is reset within ack_wait / 2 of the last one whatever the phase.
    this.#beat = setInterval(
      () => {
        for (const job of this.#jobs) if (job.started) this.#outbox.safely(job, () => job.touch());
      },
      Math.max(100, Math.floor(this.#deps.facts.ackWaitMs / 3)),
    );
    this.#beat.unref();
    this.#puller = this.#pull();
  }

  /** The connection is about to move (lame duck): ask for nothing more until it has. */
  async pause(): Promise<void> {
    if (!this.#stopping) await this.#puller?.stop();
  }

  resume(): void {
    if (!this.#stopping) this.#puller = this.#pull();
  }

  #pull(): Puller {
    const { nc, slots, apiPrefix, stream, consumer, logger } = this.#deps;
    return new Puller({
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
    const { logger } = this.#deps;
    const late = this.#late.splice(0);
    for (const msg of late) this.#outbox.giveBack(msg);
    for (const job of this.#jobs) if (!job.started) this.#outbox.release(job);
    if (late.length > 0) {
      logger.debug(
        { count: late.length },
        'gave back jobs that arrived with no slot free while stopping',
      );
    }
    const unexpected = this.#puller?.unexpected ?? 0;
    if (unexpected > 0) {
      logger.warn({ count: unexpected }, 'the server sent more jobs than were asked for');
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
      logger.warn(
        { seq: info.seq, subject: msg.subject },
        'JetStream message could not be decoded: terminated',
      );
      this.#outbox.settle(new Job(msg, info, undefined, receivedAt), undecodable);
      return;
    }
    const job = new Job(msg, info, payload, receivedAt);
    this.#jobs.add(job);
    slots
      .run((signal) => this.#run(job, signal), { name: this.#taskName, key: String(job.seq) })
      .then(this.#jobEnded, (error: unknown) => {
        if (error !== released) this.#outbox.fail(job, error);
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
      this.#outbox.fail(job, error);
      return;
    }
    this.#outbox.ack(job);
  }

  /** After the worker released the job's slot: the end of the turn asks for it again. */
  readonly #jobEnded = (): void => {
    this.#outbox.endOfTurn();
    if (this.#closed) this.#stopBeatWhenIdle();
  };

  #stopBeatWhenIdle(): void {
    for (const job of this.#jobs) if (job.started) return;
    clearInterval(this.#beat);
  }
}
