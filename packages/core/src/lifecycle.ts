import { type StateChange, StateMachine, type WorkerState } from './state.js';

/** The stop as it began: what started it and what the worker had reached by then. */
export interface StopBegun {
  readonly reason: string;
  /** Epoch ms of the stop signal. */
  readonly at: number;
  /** Whether the worker was `ready` (a load balancer or a controller may route to it). */
  readonly wasReady: boolean;
}

/**
 * The one owner of where the worker is in its life: its state, whether it is stopping (and
 * why, and since when), whether it failed, and how far the stop got. Every other part of the
 * worker and every adapter asks it; none keeps a "stopping" flag of its own.
 */
export class Lifecycle {
  readonly #machine: StateMachine;
  readonly #now: () => number;
  readonly #stop = new AbortController();
  #begun: StopBegun | undefined;
  #failed = false;
  #error: unknown;
  #deregistered = false;
  #startedAt: number | undefined;
  #readyAt: number | undefined;
  #announcedAt: number | undefined;

  constructor(now: () => number, onChange: (change: StateChange) => void) {
    this.#now = now;
    this.#machine = new StateMachine(now, onChange);
  }

  get state(): WorkerState {
    return this.#machine.state;
  }

  /** Fires when the stop begins; its reason is the stop's reason (`SIGTERM`, `api`, ...). */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** The stop, once it has begun. */
  get stop(): StopBegun | undefined {
    return this.#begun;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** The error behind a failure, if any. */
  get error(): unknown {
    return this.#error;
  }

  /** Deregistration has begun: nothing more may be announced to a registry. */
  get deregistered(): boolean {
    return this.#deregistered;
  }

  get finished(): boolean {
    return this.state === 'stopped';
  }

  /** Epoch ms of `start()`. */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  /** Epoch ms at which the worker became `ready`. */
  get readyAt(): number | undefined {
    return this.#readyAt;
  }

  /**
   * Epoch ms at which warm-up was done and the ports began to announce the worker (the
   * registry's `readyAt`: the entry is written before the state turns `ready`).
   */
  get announcedAt(): number | undefined {
    return this.#announcedAt;
  }

  /** True once the worker has been ready; stays true while it drains. */
  get hasBeenReady(): boolean {
    return this.#readyAt !== undefined;
  }

  beginWarmup(): void {
    this.#startedAt = this.#now();
    this.#machine.transition('warming', 'start');
  }

  beginAnnouncing(): void {
    this.#announcedAt = this.#now();
  }

  becomeReady(): void {
    this.#readyAt = this.#now();
    this.#machine.transition('ready', 'warmed-up');
  }

  /**
   * Begins the stop: the state moves on (`draining` from ready, `stopping` before it, `failed`
   * for a fatal error; from `created` it stays until {@link finish}) and `stopSignal` fires.
   */
  beginStop(reason: string, how: { failed: boolean; fatal: boolean; error?: unknown }): StopBegun {
    const from = this.state;
    const begun = { reason, at: this.#now(), wasReady: from === 'ready' };
    this.#begun = begun;
    if (how.failed) this.#fail(how.error);
    this.#stop.abort(reason);
    if (from !== 'created') {
      this.#machine.transition(
        how.fatal ? 'failed' : begun.wasReady ? 'draining' : 'stopping',
        reason,
      );
    }
    return begun;
  }

  /** A fatal error during the stop: the state becomes `failed` (the first error is kept). */
  failDuringStop(reason: string, error: unknown): void {
    this.#fail(error);
    if (this.state !== 'failed' && this.state !== 'stopped') {
      this.#machine.transition('failed', reason);
    }
  }

  beginDeregistration(): void {
    this.#deregistered = true;
  }

  finish(reason: string): void {
    if (this.state !== 'stopped') this.#machine.transition('stopped', reason);
  }

  #fail(error: unknown): void {
    if (!this.#failed) this.#error = error;
    this.#failed = true;
  }
}
