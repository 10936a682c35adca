/**
 * The credit of a pull intake: how many messages it has asked the server for and not yet
 * received, request by request. Pure bookkeeping (no I/O, time passed in), so that the rules
 * can be tested on their own.
 *
 * Requests go out on a few lanes, each an inbox of its own with at most one request open: a
 * delivered message names no request (its subject is the stream's), but it arrives on its
 * lane's subscription, so each lane knows exactly how much of its request is left. A request
 * ends when all of it was delivered (the server says nothing then), with a status (408 and the
 * count it did not deliver, 409, ...), or silently: an expired request the server meets while
 * delivering, or one whose inbox lost interest during a reconnect, is dropped without a word.
 * So every request also has a deadline: its expiry plus a margin, after which it is surely over.
 */
export class CreditLedger {
  readonly #lanes: Lane[];
  readonly #expiresMs: number;
  readonly #slackMs: number;
  readonly #threshold: number;
  #outstanding = 0;

  /**
   * @param lanes how many requests may be open at once
   * @param threshold the smallest request worth sending while another is open
   */
  constructor(options: {
    readonly lanes: number;
    readonly expiresMs: number;
    readonly slackMs: number;
    readonly threshold: number;
  }) {
    this.#lanes = Array.from({ length: options.lanes }, () => ({ n: 0, left: 0, deadline: 0 }));
    this.#expiresMs = options.expiresMs;
    this.#slackMs = options.slackMs;
    this.#threshold = Math.max(1, options.threshold);
  }

  /** Messages asked for and not yet delivered. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Whether a request may still deliver. */
  get open(): boolean {
    return this.#outstanding > 0;
  }

  /**
   * The request to send now so that `free` slots are covered, if one is worth sending: what is
   * not yet asked for, once it reaches the threshold (or at once when nothing is on its way).
   * The request counts as open from here on; `n` tells its statuses from a former request's.
   */
  take(free: number, now: number): { lane: number; n: number; batch: number } | undefined {
    const batch = free - this.#outstanding;
    if (batch <= 0 || (batch < this.#threshold && this.#outstanding > 0)) return undefined;
    const lane = this.#lanes.findIndex((l) => l.left === 0);
    if (lane < 0) return undefined;
    const state = this.#lanes[lane] as Lane;
    state.n++;
    state.left = batch;
    state.deadline = now + this.#expiresMs + this.#slackMs;
    this.#outstanding += batch;
    return { lane, n: state.n, batch };
  }

  /** A message arrived on `lane`. `false`: that lane had nothing open (more than was asked). */
  delivered(lane: number): boolean {
    const state = this.#lanes[lane];
    if (!state || state.left === 0) return false;
    state.left--;
    this.#outstanding--;
    return true;
  }

  /**
   * Request `n` of `lane` ended with a status: what it had left is no longer owed. Returns that
   * count; 0 for a status of a request already given up (a late one).
   */
  ended(lane: number, n: number): number {
    const state = this.#lanes[lane];
    if (!state || state.n !== n) return 0;
    return this.#close(state);
  }

  /** Closes every request past its deadline; returns how many it closed. */
  expire(now: number): number {
    let closed = 0;
    for (const state of this.#lanes) {
      if (state.left > 0 && now > state.deadline) {
        this.#close(state);
        closed++;
      }
    }
    return closed;
  }

  /**
   * The connection is back. A request sent just before it dropped may have reached the server
   * only now (the client buffers what it could not write), so open requests are given a full
   * expiry from now before they are presumed over.
   */
  reconnected(now: number): void {
    for (const state of this.#lanes) {
      if (state.left > 0)
        state.deadline = Math.max(state.deadline, now + this.#expiresMs + this.#slackMs);
    }
  }

  #close(state: Lane): number {
    const left = state.left;
    state.left = 0;
    this.#outstanding -= left;
    return left;
  }
}

interface Lane {
  /** Number of the lane's latest request. */
  n: number;
  /** Messages that request may still deliver; 0: no request open on this lane. */
  left: number;
  /** When that request is over for sure (ms, the caller's clock). */
  deadline: number;
}

/** What a status message on a pull inbox means for the request it answers. */
export type PullStatus =
  /** The request is over; its credit is back (408 expired, 404 nothing for a no-wait). */
  | 'ended'
  /** The request is alive (100 idle heartbeat). */
  | 'alive'
  /** The request is gone (a new consumer leader, a server shutting down): ask again at once. */
  | 'moved'
  /** The consumer or stream is gone (409 consumer deleted, 503 no responders): recreate it. */
  | 'gone'
  /** The server refused the request (400, 409 over a limit): ask again later, and say why. */
  | 'refused'
  /** A status this intake does not know: the request is left to its deadline. */
  | 'unknown';

/** Reads a pull status (ADR-13) from its code and description. */
export function pullStatus(code: number, description: string): PullStatus {
  const text = description.toLowerCase();
  switch (code) {
    case 100:
      return 'alive';
    case 404:
    case 408:
      return 'ended';
    case 503:
      return 'gone';
    case 400:
      return 'refused';
    case 409:
      if (text.includes('leadership change') || text.includes('server shutdown')) return 'moved';
      if (text.includes('consumer deleted')) return 'gone';
      return 'refused';
    default:
      return 'unknown';
  }
}
