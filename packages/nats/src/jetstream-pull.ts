import { describeError, type Logger } from '@handover/core';
import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { CreditLedger, pullStatus } from './jetstream-credit.js';

export interface PullerDeps {
  readonly nc: NatsConnection;
  /** `<api prefix>.CONSUMER.MSG.NEXT.<stream>.<consumer>` */
  readonly subject: string;
  /** How long each request waits at the server; also how long a stop waits at most. */
  readonly expiresMs: number;
  /** Slots free now: the credit the intake can use. */
  readonly free: () => number;
  /** Resolves when a slot frees (at once if one is free). */
  readonly whenSlotFree: () => Promise<void>;
  /** The slots of the intake: a request is sent once a quarter of them is free to ask for. */
  readonly concurrency: number;
  /** Every delivered message, in order. */
  readonly onMessage: (msg: Msg) => void;
  /** Binds again (creating the stream and consumer when the worker may) after they vanished. */
  readonly recover: () => Promise<void>;
  readonly logger: Logger;
}

/** Monotonic ms: deadlines must not move with the wall clock. */
const now = (): number => performance.now();
/** Lanes: inboxes with one request open on each. Four keep a busy intake's pipe full. */
const laneCount = 4;
/** After a refusal or a vanished consumer: wait this long before asking again. */
const retryMs = 1000;
/** Binding again costs two API requests: at most this often. */
const recoverEveryMs = 5000;
/** How often a pull problem is logged while it lasts. */
const logEveryMs = 30_000;

/**
 * Keeps pull requests open at the server for exactly the free slots of the intake (issue 12):
 * pull requests (`$JS.API.CONSUMER.MSG.NEXT`) with `batch` = the slots freed and a short
 * `expires`, renewed as they end, on a few long-lived inboxes ({@link CreditLedger} says why
 * more than one). What ends a request (delivered in full, a status, its deadline) gives its
 * credit back; a reconnect or a leader change costs at most one expiry of credit. No idle
 * heartbeat is asked for: with a short expiry, every open request ends with a status or is
 * past its deadline within one expiry, which is all a missed heartbeat would tell.
 *
 * `stop()` asks for nothing more and resolves once no request is open: a message the server
 * sends to an inbox the client has closed is dropped and waits out `ack_wait`, and nats-server
 * 2.9 cannot cancel a request, so the inboxes stay open until every request has run out.
 */
export class Puller {
  readonly #deps: PullerDeps;
  readonly #ledger: CreditLedger;
  readonly #subs: Subscription[] = [];
  readonly #prefix: string;
  /** The request bodies, by batch size: the same few are sent again and again. */
  readonly #bodies = new Map<number, Uint8Array>();
  readonly #tick: ReturnType<typeof setInterval>;
  readonly #statuses: AsyncIterable<{ type: string }>;
  #stopping = false;
  #stopped: (() => void) | undefined;
  /** The one stop: a second `stop()` (a drain during a lame-duck pause) waits for the same. */
  #stop: Promise<void> | undefined;
  #connected = true;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #recovering = false;
  #recoveredAt = Number.NEGATIVE_INFINITY;
  #loggedAt = Number.NEGATIVE_INFINITY;
  #waitingForSlot = false;
  #unexpected = 0;

  constructor(deps: PullerDeps) {
    this.#deps = deps;
    // A request is presumed over this long after its expiry without a word from the server:
    // only requests the server dropped silently wait for it, so it is generous.
    const slackMs = Math.max(250, deps.expiresMs / 2);
    this.#ledger = new CreditLedger({
      lanes: laneCount,
      expiresMs: deps.expiresMs,
      slackMs,
      threshold: Math.ceil(deps.concurrency / 4),
    });
    const options = (deps.nc as { options?: { inboxPrefix?: string } }).options;
    this.#prefix = createInbox(options?.inboxPrefix);
    for (let lane = 0; lane < laneCount; lane++) {
      this.#subs.push(
        deps.nc.subscribe(`${this.#prefix}.${lane}.*`, {
          callback: (error, msg) => this.#received(lane, error, msg),
        }),
      );
    }
    // The one timer: closes requests past their deadline, and catches any refill missed.
    // Checked after the I/O of the loop's turn (setImmediate), so that a status already read
    // from the socket counts before a deadline does.
    this.#tick = setInterval(
      () => setImmediate(this.#check),
      Math.max(25, Math.min(deps.expiresMs, slackMs) / 2),
    );
    this.#tick.unref();
    this.#statuses = deps.nc.status();
    void this.#watchConnection().catch(() => {});
    this.refill();
  }

  /** Messages asked for and not yet delivered. */
  get outstanding(): number {
    return this.#ledger.outstanding;
  }

  /** Messages that came on a lane with nothing open: the server sent more than was asked. */
  get unexpected(): number {
    return this.#unexpected;
  }

  /** Asks for the slots freed since the last request, if that is worth a request now. */
  refill(): void {
    if (this.#stopping || !this.#connected || this.#deps.nc.isClosed()) return;
    const at = now();
    if (at < this.#pausedUntil) return;
    const free = this.#deps.free();
    for (;;) {
      const request = this.#ledger.take(free, at);
      if (!request) break;
      try {
        this.#deps.nc.publish(this.#deps.subject, this.#body(request.batch), {
          reply: `${this.#prefix}.${request.lane}.${request.n}`,
        });
      } catch (error) {
        this.#ledger.ended(request.lane, request.n);
        this.#trouble('could not send a pull request', error);
        return;
      }
    }
    // Slots held by other work (request/reply tasks) free without telling this intake.
    if (free === 0 && !this.#waitingForSlot) {
      this.#waitingForSlot = true;
      void this.#deps.whenSlotFree().then(this.#slotFreed);
    }
  }

  /** Asks for nothing more; resolves once no request of this intake is open. */
  stop(): Promise<void> {
    this.#stop ??= new Promise<void>((resolve) => {
      this.#stopping = true;
      this.#stopped = resolve;
      this.#check();
    }).then(() => this.#close());
    return this.#stop;
  }

  readonly #check = (): void => {
    const closed = this.#ledger.expire(now());
    if (closed > 0) {
      this.#deps.logger.debug(
        { requests: closed },
        'pull request ended without a word from the server',
      );
      // The server drops a request for a consumer it does not have without a word (a broker
      // that lost its store): check that the stream and consumer are still there.
      if (this.#connected && !this.#stopping) this.#recover();
    }
    if (this.#stopping) {
      if (!this.#ledger.open) this.#stopped?.();
      return;
    }
    this.refill();
  };

  #received(lane: number, error: Error | null, msg: Msg): void {
    if (error) {
      this.#trouble('pull inbox failed', error);
      return;
    }
    const headers = msg.headers;
    // A status has no reply subject; a delivered message always has its ack subject.
    if (!msg.reply && headers && headers.code > 0) {
      this.#status(lane, msg.subject, headers.code, headers.description);
      return;
    }
    if (!this.#ledger.delivered(lane)) this.#unexpected++;
    this.#deps.onMessage(msg);
  }

  #status(lane: number, subject: string, code: number, description: string): void {
    const kind = pullStatus(code, description);
    if (kind === 'alive' || kind === 'unknown') {
      if (kind === 'unknown') this.#deps.logger.debug({ code, description }, 'pull status');
      return;
    }
    const n = Number(subject.slice(subject.lastIndexOf('.') + 1));
    this.#ledger.ended(lane, n);
    if (kind === 'refused' || kind === 'gone') {
      this.#trouble(`pull request refused: ${code} ${description}`);
      if (kind === 'gone') this.#recover();
    }
    if (this.#stopping) this.#check();
    else this.refill();
  }

  /** Waits a while before asking again, and says so now and then. */
  #trouble(what: string, error?: unknown): void {
    this.#pausedUntil = now() + retryMs;
    if (this.#stopping || now() - this.#loggedAt < logEveryMs) return;
    this.#loggedAt = now();
    this.#deps.logger.warn(
      error === undefined ? {} : { error: describeError(error) },
      `${what}; retrying`,
    );
  }

  #recover(): void {
    if (this.#recovering || now() - this.#recoveredAt < recoverEveryMs) return;
    this.#recovering = true;
    setTimeout(() => {
      this.#deps
        .recover()
        .catch((error: unknown) => this.#trouble('could not bind to the consumer again', error))
        .finally(() => {
          this.#recovering = false;
          this.#recoveredAt = now();
          this.refill();
        });
    }, retryMs).unref();
  }

  readonly #slotFreed = (): void => {
    this.#waitingForSlot = false;
    this.refill();
  };

  async #watchConnection(): Promise<void> {
    for await (const status of this.#statuses) {
      if (status.type === 'disconnect') this.#connected = false;
      else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#ledger.reconnected(now());
        this.refill();
      }
    }
  }

  #body(batch: number): Uint8Array {
    let body = this.#bodies.get(batch);
    if (!body) {
      body = new TextEncoder().encode(
        JSON.stringify({ batch, expires: this.#deps.expiresMs * 1_000_000 }),
      );
      this.#bodies.set(batch, body);
    }
    return body;
  }

  #close(): void {
    clearInterval(this.#tick);
    (this.#statuses as { stop?: () => void }).stop?.();
    for (const sub of this.#subs) {
      try {
        sub.unsubscribe();
      } catch {
        // The connection is closed: so is the subscription.
      }
    }
  }
}
