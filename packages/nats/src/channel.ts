/**
 * A multicast async iterable: every iterator receives `initial()` (taken when it starts), then
 * the values pushed from then on, until `end()`.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly #subscribers = new Set<{ queue: T[]; wake: (() => void) | undefined }>();
  readonly #initial: () => T[];
  #ended = false;

  constructor(initial: () => T[] = () => []) {
    this.#initial = initial;
  }

  push(value: T): void {
    for (const subscriber of this.#subscribers) {
      subscriber.queue.push(value);
      subscriber.wake?.();
    }
  }

  end(): void {
    this.#ended = true;
    for (const subscriber of this.#subscribers) subscriber.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    // Taken in the same tick the subscriber joins: nothing falls between the two.
    const subscriber: { queue: T[]; wake: (() => void) | undefined } = {
      queue: this.#initial(),
      wake: undefined,
    };
    this.#subscribers.add(subscriber);
    try {
      for (;;) {
        const next = subscriber.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          subscriber.wake = resolve;
        });
        subscriber.wake = undefined;
      }
    } finally {
      this.#subscribers.delete(subscriber);
    }
  }
}
