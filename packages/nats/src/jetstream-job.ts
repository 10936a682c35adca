import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import { ackBodies, type DeliveryInfo, nakBody, termBody } from './jetstream-delivery.js';

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
 * One delivered message, from its arrival to its settlement; also the context its handler
 * gets. A class rather than an object literal: one allocation per message, and `working` is
 * made only for a handler that asks for it.
 */
export class Job implements JobContext {
  readonly seq: number;
  readonly deliveryCount: number;
  readonly payload: unknown;
  /** `performance.now()` on arrival, for the endpoint's processing time. */
  readonly receivedAt: number;
  signal: AbortSignal = neverAborted;
  /** The handler was called. */
  started = false;
  /** An ack, nak or term went out: nothing more is sent for this delivery. */
  settled = false;
  readonly #msg: Msg;
  #working: (() => void) | undefined;
  #body: Uint8Array | undefined;

  constructor(msg: Msg, info: DeliveryInfo, payload: unknown, receivedAt: number) {
    this.#msg = msg;
    this.seq = info.seq;
    this.deliveryCount = info.deliveryCount;
    this.payload = payload;
    this.receivedAt = receivedAt;
  }

  get subject(): string {
    return this.#msg.subject;
  }

  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }

  /** Resets the ack timer; a function of its own, so that `{ working }` can be destructured. */
  get working(): () => void {
    this.#working ??= () => this.touch();
    return this.#working;
  }

  /** `+WPI`: still at work (nothing once settled). */
  touch(): void {
    if (!this.settled) this.#msg.respond(ackBodies.working);
  }

  /**
   * Marks the job settled (once; `false` if it already was) and keeps the body to send;
   * `send()` sends it. Two steps, so that the acks of jobs ending together go out in one write.
   */
  settle(how: 'ack' | 'nak' | 'term', detail?: { delayMs?: number; reason?: string }): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#body =
      how === 'ack'
        ? ackBodies.ack
        : how === 'nak'
          ? nakBody(detail?.delayMs)
          : termBody(detail?.reason);
    return true;
  }

  /** Sends the settlement; throws when the connection is gone. */
  send(): void {
    const body = this.#body;
    this.#body = undefined;
    if (body) this.#msg.respond(body);
  }
}

/** The signal of a job not started yet: never fires. */
const neverAborted = new AbortController().signal;
