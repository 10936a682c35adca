import { formatClock, formatDuration } from './format.js';
import type { Transition } from './transitions.js';

/** What a transition's line says after the worker's id and version. */
function detail(t: Transition): string {
  switch (t.type) {
    case 'watching':
      return `on ${t.server ?? 'NATS'}`;
    case 'present':
      return `${t.state ?? ''} (at start)`;
    case 'ready':
      return '';
    case 'draining':
      return t.reason ?? '';
    case 'gone':
      if (t.reason === 'stopped') {
        const drained =
          t.drainMs === undefined ? 'stopped' : `drained in ${formatDuration(t.drainMs)}`;
        return t.abandoned === undefined ? drained : `${drained}, ${t.abandoned} abandoned`;
      }
      if (t.reason === 'stale') {
        const silence = 3 * (t.worker?.heartbeatMs ?? 1000);
        return `stale: no heartbeat for ${formatDuration(silence)}`;
      }
      if (t.reason === 'replaced') return 'replaced: another instance took its id';
      return 'deregistered (no stopped event)';
    case 'stalled':
      return `registry stalled: no entry written for ${formatDuration(t.silentMs ?? 0)}; workers that answer $SRV.PING are kept`;
    case 'resumed':
      return 'registry written again';
    case 'disconnected':
      return 'lost the connection to NATS; reconnecting';
    case 'reconnected':
      return `reconnected to ${t.server ?? 'NATS'}`;
  }
}

/**
 * One line per transition, for a log or a pipe: the time, what happened, the worker, the
 * details, and the live fleet after it. Columns widen as longer ids appear.
 */
export class PlainLines {
  #idWidth = 2;
  #versionWidth = 5;
  readonly #timeZone: string | undefined;

  constructor(timeZone?: string) {
    this.#timeZone = timeZone;
  }

  format(t: Transition): string {
    const time = formatClock(t.at, this.#timeZone);
    const fleet = `[${t.fleet.ready} ready, ${t.fleet.draining} draining]`;
    if (!t.worker) return `${time}  ${t.type.padEnd(8)}  ${detail(t)}  ${fleet}`;
    this.#idWidth = Math.max(this.#idWidth, t.worker.id.length);
    this.#versionWidth = Math.max(this.#versionWidth, t.worker.version.length);
    const text = detail(t);
    return [
      time,
      t.type.padEnd(8),
      t.worker.id.padEnd(this.#idWidth),
      t.worker.version.padEnd(this.#versionWidth),
      ...(text === '' ? [] : [text]),
      fleet,
    ].join('  ');
  }
}

/** One JSON object per transition (`watch --json`). */
export function jsonLine(service: string, t: Transition): string {
  const { worker, at, type, fleet, ...details } = t;
  return JSON.stringify({
    type,
    at: new Date(at).toISOString(),
    service,
    ...(worker ? { id: worker.id, instance: worker.instance, version: worker.version } : {}),
    ...details,
    fleet,
  });
}
