/** A map of event name to the listener's argument. */
export type EventMap = Record<string, unknown>;

/**
 * A minimal typed event emitter. A listener that throws is reported through `onListenerError`
 * and never interrupts the lifecycle that emitted the event.
 */
export class TypedEmitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<(value: never) => void>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends keyof Events>(event: E, value: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set] as ((value: Events[E]) => void)[]) {
      try {
        listener(value);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
