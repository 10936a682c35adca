import { describeError, type Logger } from '@handover/core';
import type { Msg } from '@nats-io/transport-node';
import { ackBodies } from './jetstream-delivery.js';
import type { Job } from './jetstream-job.js';
import { type FailedAttempt, type Settlement, settleFailure } from './jetstream-settle.js';
import type { EndpointStats } from './stats.js';

export interface OutboxDeps {
  readonly logger: Logger;
  readonly stats: EndpointStats;
  readonly maxDeliver: number;
  readonly nakDelayMs: FailedAttempt['nakDelayMs'];
  /** Whether the server understands `+TERM <reason>` (2.11+); 2.9 ignores such a term. */
  readonly termReasons: boolean;
  /** A job was settled: nothing more is sent for it. */
  readonly settled: (job: Job) => void;
  /** Counts a settlement (`handover_jetstream_settled_total`); free until stats are enabled. */
  readonly counted: (how: 'ack' | 'nak' | 'term') => void;
  /** The turn's settlements went out: time to ask for the slots they freed. */
  readonly turnEnded: () => void;
}

/**
 * Settles jobs (ack, or the settle policy's nak or term, with its log line) and sends the
 * settlements of one turn of the event loop together: jobs that end together (a batch read at
 * once, timers due at once) cost one socket write and, through `turnEnded`, one pull request,
 * not one each. A turn is microseconds: nothing waits on it. Acks need no answer (`ack`, not
 * `ackAck`): explicit-ack consumers have no batch ack, so each message still gets its own.
 */
export class Outbox {
  readonly #deps: OutboxDeps;
  readonly #jobs: Job[] = [];
  #scheduled = false;

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
  }

  ack(job: Job): void {
    this.#settle(job, 'ack');
  }

  /** Settles a job whose handler did not return, by {@link settleFailure}, and logs why. */
  fail(job: Job, error: unknown): void {
    if (job.settled) return;
    const { logger, maxDeliver, nakDelayMs } = this.#deps;
    const { seq, deliveryCount } = job;
    const settlement = settleFailure(error, { deliveryCount, maxDeliver, nakDelayMs });
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
    this.settle(job, settlement);
  }

  settle(job: Job, settlement: Settlement): void {
    if (settlement.how === 'nak') {
      this.#settle(job, 'nak', { delayMs: settlement.delayMs }, settlement.reason);
      return;
    }
    // nats-server 2.9 ignores `+TERM <reason>` and redelivers: send the reason only when heard.
    const reason = this.#deps.termReasons ? settlement.reason : undefined;
    this.#settle(job, 'term', { reason }, settlement.reason);
  }

  /** Gives back, at once, a job taken but not started. */
  release(job: Job): void {
    this.#settle(job, 'nak');
  }

  /** Gives back at once a message that was never taken as a job (it came while stopping). */
  giveBack(msg: Msg): void {
    this.safely(undefined, () => msg.respond(ackBodies.nak));
    this.#deps.counted('nak');
  }

  /** Ends this turn of the event loop with the settlements sent and a call to `turnEnded`. */
  endOfTurn(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#send);
  }

  /** Sends now; if the connection is gone, the server redelivers after ack_wait. */
  safely(job: Job | undefined, send: () => unknown): void {
    try {
      send();
    } catch (error) {
      this.#unsent(job, error);
    }
  }

  #settle(
    job: Job,
    how: 'ack' | 'nak' | 'term',
    detail?: { delayMs?: number | undefined; reason?: string | undefined },
    error?: string,
  ): void {
    if (!job.settle(how, detail)) return;
    this.#deps.settled(job);
    this.#deps.counted(how);
    this.#jobs.push(job);
    this.endOfTurn();
    this.#deps.stats.done(job.receivedAt, error);
  }

  readonly #send = (): void => {
    this.#scheduled = false;
    const jobs = this.#jobs;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      try {
        job.send();
      } catch (error) {
        this.#unsent(job, error);
      }
    }
    jobs.length = 0;
    this.#deps.turnEnded();
  };

  #unsent(job: Job | undefined, error: unknown): void {
    this.#deps.logger.warn(
      { seq: job?.seq, error: describeError(error) },
      'could not settle a JetStream message',
    );
  }
}
