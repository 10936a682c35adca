import type { WorkerChange } from '@handover/nats/controller';
import type { WorkerEntry } from '@handover/nats/wire';
import { type ServiceView, type Sighting, viewService } from './fleet.js';

/**
 * The live workers of a watched service, each with the local time its entry was last written.
 * A change that carries the same write (the iterator's first `added`, a `draining` applied
 * from an event) keeps the time already known, so an age is never reset by anything but a
 * new write.
 */
export class LiveView {
  readonly #service: string;
  readonly #sightings = new Map<string, Sighting>();

  constructor(service: string) {
    this.#service = service;
  }

  /** The watch's first workers, with the times read from the bucket where they match. */
  seed(workers: readonly WorkerEntry[], read: readonly Sighting[], now: number): void {
    for (const entry of workers) {
      const known = read.find((s) => sameWrite(s.entry, entry));
      this.#sightings.set(entry.id, { entry, seenAt: known?.seenAt ?? now });
    }
  }

  apply(change: WorkerChange): void {
    const { worker, at } = change;
    if (change.type === 'removed') {
      if (this.#sightings.get(worker.id)?.entry.instance === worker.instance) {
        this.#sightings.delete(worker.id);
      }
      return;
    }
    const before = this.#sightings.get(worker.id);
    const seenAt = before && sameWrite(before.entry, worker) ? before.seenAt : at;
    this.#sightings.set(worker.id, { entry: worker, seenAt });
  }

  /**
   * The view at `now`. While the registry stalled, `watchWorkers` keeps only the workers that
   * answered `$SRV.PING`: they are shown alive, whatever their age.
   */
  view(now: number, stalled: boolean): ServiceView {
    const sightings = [...this.#sightings.values()];
    const answered = stalled ? new Set(sightings.map((s) => s.entry.instance)) : undefined;
    return viewService(this.#service, sightings, now, answered);
  }

  /** The longest silence of a worker, in units of its heartbeat. */
  longestSilence(now: number): number {
    let longest = 0;
    for (const { entry, seenAt } of this.#sightings.values()) {
      longest = Math.max(longest, (now - seenAt) / entry.heartbeatMs);
    }
    return longest;
  }
}

const sameWrite = (a: WorkerEntry, b: WorkerEntry): boolean =>
  a.instance === b.instance && a.heartbeatAt === b.heartbeatAt;
