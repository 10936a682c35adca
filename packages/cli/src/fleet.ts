import type { WorkerEntry } from '@handover/nats/wire';

/** A worker's registry entry and when this process last saw it written (its own clock). */
export interface Sighting {
  readonly entry: WorkerEntry;
  /** Local epoch ms of the last write seen (on first read: the server's time of the write). */
  readonly seenAt: number;
}

/** A worker as `ls` and `watch` show it. */
export interface WorkerRow extends WorkerEntry {
  /** No write for 3 × `heartbeatMs` (and no answer to `$SRV.PING` while the registry stalled). */
  readonly stale: boolean;
  /** Silent, but answered `$SRV.PING` while the whole registry stalled. */
  readonly answeredPing?: true;
  /** Since the last write seen, on this process's clock. */
  readonly heartbeatAgeMs: number;
  /** Since the worker started (its `startedAt`, by its clock). */
  readonly uptimeMs: number;
}

/** The workers of one service at one moment. */
export interface ServiceView {
  readonly service: string;
  readonly bucket: string;
  /** Every entry went silent at once and live instances answered `$SRV.PING`. */
  readonly stalled: boolean;
  /** Since the newest write of any entry, when the registry is silent. */
  readonly silentMs?: number;
  readonly workers: readonly WorkerRow[];
}

/**
 * Whether the whole registry has gone silent (docs/protocol.md, "A stalled registry"): no
 * entry written for 2 × the longest heartbeat. Returns the silence in ms, or `undefined`.
 */
export function registrySilence(sightings: readonly Sighting[], now: number): number | undefined {
  if (sightings.length === 0) return undefined;
  const newest = Math.max(...sightings.map((s) => s.seenAt));
  const longest = Math.max(...sightings.map((s) => s.entry.heartbeatMs));
  return now - newest > 2 * longest ? now - newest : undefined;
}

/**
 * The view of a service at `now`. `answered` holds the instances that answered `$SRV.PING`,
 * asked only when the registry is silent: then the registry stalled (a JetStream leader
 * election) if any answered, and those are alive whatever their age.
 */
export function viewService(
  service: string,
  sightings: readonly Sighting[],
  now: number,
  answered?: ReadonlySet<string>,
): ServiceView {
  const silentMs = registrySilence(sightings, now);
  const stalled = silentMs !== undefined && answered !== undefined && answered.size > 0;
  const workers = sightings
    .map(({ entry, seenAt }): WorkerRow => {
      const heartbeatAgeMs = Math.max(0, now - seenAt);
      const pinged = stalled && answered.has(entry.instance);
      return {
        ...entry,
        stale: heartbeatAgeMs > 3 * entry.heartbeatMs && !pinged,
        ...(pinged ? { answeredPing: true as const } : {}),
        heartbeatAgeMs,
        uptimeMs: Math.max(0, now - Date.parse(entry.startedAt)),
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  return {
    service,
    bucket: `handover_${service}`,
    stalled,
    ...(silentMs === undefined ? {} : { silentMs }),
    workers,
  };
}

/** What a row's STATE column says. */
export function shownState(row: WorkerRow): string {
  if (row.stale) return 'stale';
  return row.answeredPing ? `${row.state} (ping)` : row.state;
}

/** `3 workers: 2 ready, 1 draining` (stale ones counted apart). */
export function summary(view: ServiceView): string {
  const count = (match: (w: WorkerRow) => boolean) => view.workers.filter(match).length;
  const parts = [
    `${count((w) => !w.stale && w.state === 'ready')} ready`,
    `${count((w) => !w.stale && w.state === 'draining')} draining`,
  ];
  const stale = count((w) => w.stale);
  if (stale > 0) parts.push(`${stale} stale`);
  const n = view.workers.length;
  return `${view.service}: ${n} worker${n === 1 ? '' : 's'} (${parts.join(', ')})`;
}
