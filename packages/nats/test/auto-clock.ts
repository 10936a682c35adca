import type { Clock } from '@handover/core';

/**
 * A clock for unit tests of retry loops: a timer fires at once, moving `now` forward by its
 * delay, and every delay is recorded. Time passes only through timers.
 */
export class AutoClock implements Clock {
  #now: number;
  readonly delays: number[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward without a timer (the time an attempt itself took). */
  advance(ms: number): void {
    this.#now += ms;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    this.#now += ms;
    queueMicrotask(callback);
    return this.delays.length;
  }

  clearTimeout(): void {}
}
