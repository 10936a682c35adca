import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Port } from './ports.js';

/**
 * Calls every port's `heartbeat()` each interval, from ready until deregistration. A port
 * whose previous heartbeat is still pending (a broker that is away) is skipped, so heartbeats
 * never pile up.
 */
export class Heartbeat {
  readonly #clock: Clock;
  readonly #ports: readonly Port[];
  readonly #logger: Logger;
  readonly #pending = new Set<Port>();
  #timer: unknown;

  constructor(clock: Clock, ports: readonly Port[], logger: Logger) {
    this.#clock = clock;
    this.#ports = ports;
    this.#logger = logger;
  }

  start(intervalMs: number): void {
    const beat = (): void => {
      this.#timer = this.#clock.setTimeout(beat, intervalMs);
      for (const port of this.#ports) {
        if (port.heartbeat === undefined || this.#pending.has(port)) continue;
        this.#pending.add(port);
        port
          .heartbeat()
          .catch((error: unknown) =>
            this.#logger.debug({ err: error, port: port.name }, 'heartbeat failed'),
          )
          .finally(() => this.#pending.delete(port));
      }
    };
    this.#timer = this.#clock.setTimeout(beat, intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
