import type { Port } from './ports.js';

/**
 * The ports attached to a worker, in attach order, and how far each got: a broker whose
 * `open` was called (even if it did not finish) has something to drain and deregister.
 */
export class AttachedPorts {
  readonly all: Port[] = [];
  readonly #opened = new Set<Port>();
  #opening: Promise<unknown> | undefined;

  add(port: Port): void {
    this.all.push(port);
  }

  get hasServers(): boolean {
    return this.all.some((port) => port.kind === 'server');
  }

  /**
   * The ports the drain must go through: every server and extension, and the brokers whose
   * `open` was called.
   */
  toDrain(): Port[] {
    return this.all.filter((port) => port.kind !== 'broker' || this.#opened.has(port));
  }

  /**
   * Settles once every `open` begun has settled, whatever the outcome; undefined before any
   * began and after all settled (a drain then begins in the signal's own turn).
   */
  get opening(): Promise<unknown> | undefined {
    return this.#opening;
  }

  /** Opens every port (in parallel); rejects with the first failure. */
  open(signal: AbortSignal): Promise<void> {
    const opens = this.all.map(async (port) => {
      if (port.open === undefined) return;
      this.#opened.add(port);
      await port.open(signal);
    });
    const settled = Promise.allSettled(opens);
    this.#opening = settled;
    void settled.then(() => {
      if (this.#opening === settled) this.#opening = undefined;
    });
    return Promise.all(opens).then(() => {});
  }

  /** The URL of the first server that knows its own, for the registry's `http`. */
  url(): string | undefined {
    for (const port of this.all) {
      const url = port.url?.();
      if (url !== undefined) return url;
    }
    return undefined;
  }
}
