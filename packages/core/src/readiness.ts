import type { ReadinessChange } from './types.js';

/**
 * Whether the worker takes work now: in state `ready` and every component healthy. Emits a
 * change only when the answer changes.
 */
export class Readiness {
  readonly #health = new Map<string, string | undefined>();
  /** Every component that ever reported, healthy or not. */
  readonly #known = new Set<string>();
  readonly #isReadyState: () => boolean;
  readonly #emit: (change: ReadinessChange) => void;
  #last = false;

  constructor(isReadyState: () => boolean, emit: (change: ReadinessChange) => void) {
    this.#isReadyState = isReadyState;
    this.#emit = emit;
  }

  get ready(): boolean {
    return this.#isReadyState() && this.#health.size === 0;
  }

  /** The components reported unhealthy now, with what they said. */
  waitingFor(): Record<string, string> {
    return Object.fromEntries(
      [...this.#health].map(([component, detail]) => [component, detail ?? 'unhealthy']),
    );
  }

  /** Every component that ever reported, and whether it is healthy now. */
  components(): Record<string, boolean> {
    return Object.fromEntries([...this.#known].map((c) => [c, !this.#health.has(c)]));
  }

  setHealth(component: string, healthy: boolean, detail?: string): void {
    this.#known.add(component);
    if (healthy) this.#health.delete(component);
    else this.#health.set(component, detail);
    this.check(healthy ? `${component}: healthy` : `${component}: ${detail ?? 'unhealthy'}`);
  }

  /** Emits a change if readiness differs from the last one emitted. */
  check(reason: string): void {
    const ready = this.ready;
    if (ready === this.#last) return;
    this.#last = ready;
    this.#emit({ ready, reason });
  }
}
