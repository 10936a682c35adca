import { registryStalled } from './registry-rules.js';
import type { WorkerEntry } from './wire.js';

/** A watched worker: its entry and its last signs of life, on the watcher's own clock. */
export interface Tracked {
  entry: WorkerEntry;
  /** Local time of the last update of its entry. */
  seenAt: number;
  /** Local time it last answered `$SRV.PING` while the registry was stalled. */
  aliveAt?: number;
}

/**
 * Decides which watched workers are gone (docs/protocol.md, Registry). One silent for 3 × its
 * heartbeat is dead, unless the whole bucket went silent at once: then the registry stalled (a
 * JetStream leader election stops every write for seconds), not the workers. Those are asked
 * with `$SRV.PING.<svc>` (core NATS keeps working during an election); the ones that answer are
 * kept until the registry moves again, the others dropped. When it moves again, that moment
 * counts as a sign of life of the workers kept: each then has 3 × its heartbeat to write (a
 * worker's first write after an election can take a few round trips; dropping it for that
 * would show a live worker leaving).
 */
export class Liveness {
  readonly #ping: () => Promise<ReadonlySet<string>>;
  readonly #clock: () => number;
  #pinging = false;
  #wasStalled = false;

  /** `ping` resolves with the instances that answered `$SRV.PING.<svc>`. */
  constructor(ping: () => Promise<ReadonlySet<string>>, clock: () => number = Date.now) {
    this.#ping = ping;
    this.#clock = clock;
  }

  /** Whether every entry has gone silent at once now. */
  stalled(workers: ReadonlyMap<string, Tracked>, now: number): boolean {
    return registryStalled([...workers.values()].map(silence), now);
  }

  /**
   * Calls `drop` for each worker found gone: at once when the registry moves, after a ping
   * (one at a time) when it stalled.
   */
  sweep(workers: Map<string, Tracked>, now: number, drop: (id: string) => void): void {
    const stalled = this.stalled(workers, now);
    if (this.#wasStalled && !stalled) {
      for (const tracked of workers.values()) {
        // Kept by a ping and silent since: its clock starts again now.
        if ((tracked.aliveAt ?? 0) > tracked.seenAt) tracked.aliveAt = now;
      }
    }
    this.#wasStalled = stalled;
    const stale = [...workers].filter(([, t]) => now - lastSign(t) > 3 * t.entry.heartbeatMs);
    if (stale.length === 0) return;
    if (!stalled) {
      for (const [id] of stale) drop(id);
      return;
    }
    if (this.#pinging) return;
    this.#pinging = true;
    void this.#ping()
      .then((alive) => {
        const at = this.#clock();
        for (const [id, tracked] of stale) {
          if (workers.get(id) !== tracked) continue;
          if (alive.has(tracked.entry.instance)) tracked.aliveAt = at;
          else drop(id);
        }
      })
      .finally(() => {
        this.#pinging = false;
      });
  }
}

const lastSign = (t: Tracked): number => Math.max(t.seenAt, t.aliveAt ?? 0);
const silence = (t: Tracked) => ({ seenAt: t.seenAt, heartbeatMs: t.entry.heartbeatMs });
