import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { BrokerPort } from './ports.js';

/**
 * Calls every broker's `heartbeat()` each interval, from ready until deregistration. A broker
 * whose previous heartbeat is still pending (a broker that is away) is skipped, so heartbeats
 * never pile up.
 */
export class Heartbeat {
  readonly #clock: Clock;
  readonly #brokers: readonly BrokerPort[];
  readonly #logger: Logger;
  readonly #pending = new Set<BrokerPort>();
  #timer: unknown;

  constructor(clock: Clock, brokers: readonly BrokerPort[], logger: Logger) {
    this.#clock = clock;
    this.#brokers = brokers;
    this.#logger = logger;
  }

  start(intervalMs: number): void {
    const beat = (): void => {
      this.#timer = this.#clock.setTimeout(beat, intervalMs);
      for (const broker of this.#brokers) {
        if (this.#pending.has(broker)) continue;
        this.#pending.add(broker);
        broker
          .heartbeat()
          .catch((error: unknown) =>
            this.#logger.debug({ err: error, broker: broker.name }, 'heartbeat failed'),
          )
          .finally(() => this.#pending.delete(broker));
      }
    };
    this.#timer = this.#clock.setTimeout(beat, intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
