// A phase in a few lines: what the clients saw, what the tasks did, how long the commands took.
import type { NatsLoadSummary } from './nats-load.js';
import type { Phase } from './scenario.js';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const kinds = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? ''
    : ` (${Object.entries(errors)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')})`;

/** One character a second: which version answered (1, 2...: in order of appearance), x = a failure. */
export function versionLine(load: Pick<NatsLoadSummary, 'seconds'>): {
  line: string;
  legend: string;
} {
  const order: string[] = [];
  for (const second of load.seconds)
    for (const v of Object.keys(second.versions)) if (!order.includes(v)) order.push(v);
  const line = load.seconds
    .map((second) => {
      if (second.failed > 0) return 'x';
      const vs = Object.keys(second.versions);
      if (vs.length === 0) return ' ';
      return vs.length > 1 ? '+' : String(order.indexOf(vs[0] as string) + 1);
    })
    .join('');
  return { line, legend: order.map((v, i) => `${i + 1}: ${v}`).join('   ') };
}

/**
 * The fewest workers ready at once while workers of `version` were replaced, from the workers'
 * own events: `initial` ready when the load began, +1 at each `ready`, -1 at each `draining`,
 * looked at after each `draining` of a `version` worker. start-first keeps it at the replica
 * count; stop-first takes one away; with one replica that is none.
 */
export function fewestReady(load: NatsLoadSummary, initial: number, version: string): number {
  let ready = initial;
  let fewest = Number.POSITIVE_INFINITY;
  const events = [...load.events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const event of events) {
    if (event.type === 'ready') ready++;
    if (event.type === 'draining' || event.type === 'failed') {
      ready--;
      if (event.version === version) fewest = Math.min(fewest, ready);
    }
  }
  return fewest;
}

interface Lane {
  id: string;
  version: string;
  ready?: number;
  draining?: number;
  stopped?: number;
  drainMs?: number;
  abandoned?: number;
  exit?: number;
}

/** Per worker, from its own events (times in ms since the load began), with its exit code. */
function lanes(phase: Phase): Lane[] {
  const { load } = phase;
  const byId = new Map<string, Lane>();
  for (const event of load.events) {
    const lane = byId.get(event.id) ?? { id: event.id, version: event.version };
    const at = Date.parse(event.at) - load.t0;
    if (event.type === 'ready') lane.ready = at;
    if (event.type === 'draining' || event.type === 'failed') lane.draining ??= at;
    if (event.type === 'stopped')
      Object.assign(lane, { stopped: at, drainMs: event.drainMs, abandoned: event.abandoned });
    byId.set(event.id, lane);
  }
  // The worker id is the container's host name: the first 12 characters of its id.
  for (const lane of byId.values())
    lane.exit = phase.ended.find((t) => t.containerId?.startsWith(lane.id))?.exitCode;
  // Old workers (ready before the load began) first, then by when they became ready.
  const key = (lane: Lane) => lane.ready ?? Number.NEGATIVE_INFINITY;
  return [...byId.values()].sort(
    (a, b) => key(a) - key(b) || (a.draining ?? 0) - (b.draining ?? 0),
  );
}

const glyph = (lane: Lane, t: number): string => {
  if (lane.stopped !== undefined && t >= lane.stopped) return ' ';
  if (lane.draining !== undefined && t >= lane.draining) return '▒';
  // A worker that was ready before the load began has no ready event in it.
  if (lane.ready === undefined ? lane.draining !== undefined : t >= lane.ready) return '█';
  return ' ';
};

/** The phase as text, for the test log and the demo. */
export function phaseReport(phase: Phase): string {
  const { requests, jobs, consumer } = phase.load;
  const versions = versionLine(phase.load);
  const columns = Math.max(1, versions.line.length);
  const rows = lanes(phase);
  const ms = (v: number | undefined) => (v === undefined ? '-' : s(v));
  const lines = [
    `${phase.name} (${s(phase.ms)})`,
    `  commands: ${phase.steps.map((step) => `${step.name} ${s(step.ms)}`).join(', ') || '-'}`,
    `  plain requests (no retry): ${requests.sent} sent, ${requests.ok} ok, ${requests.failed} failed${kinds(requests.errors)}`,
  ];
  if (phase.load.options.jobRate > 0)
    lines.push(
      `  jobs: ${jobs.published} published${jobs.publishFailed ? `, ${jobs.publishFailed} not published${kinds(jobs.errors)}` : ''}, ${jobs.acked} acked, ${jobs.unacked} unacked, ${jobs.redelivered} redelivered, ${jobs.naks} naks`,
      `  consumer after the load: ${consumer ? `${consumer.numPending} pending + ${consumer.numAckPending} ack pending (ack_wait ${consumer.ackWaitMs} ms)` : '-'}; all acked ${jobs.ackWaitMs} ms after the load stopped`,
    );
  lines.push(
    `  ended tasks: ${
      phase.ended
        .map(
          (t) =>
            `slot ${t.slot ?? '-'} ${t.state} exit ${t.exitCode ?? '?'}${t.containerExitCode !== undefined && t.containerExitCode !== t.exitCode ? ` (container ${t.containerExitCode})` : ''}`,
        )
        .join(', ') || 'none'
    }`,
    '  worker        version  ready  draining  stopped  drain ms  exit   (s since the load began)',
    ...rows.map(
      (w) =>
        `  ${w.id.padEnd(13)} ${w.version.padEnd(7)} ${ms(w.ready).padStart(6)} ${ms(w.draining).padStart(9)} ${ms(w.stopped).padStart(8)} ${String(w.drainMs ?? '-').padStart(9)} ${String(w.exit ?? '-').padStart(5)}`,
    ),
    `  timeline, 1 s a column:   █ ready   ▒ draining`,
    ...rows.map(
      (w) =>
        `  ${`${w.id} ${w.version}`.padEnd(20)}${Array.from({ length: columns }, (_, i) => glyph(w, i * 1000 + 500)).join('')}`,
    ),
    `  ${'versions answering'.padEnd(20)}${versions.line}`,
    `  ${''.padEnd(20)}${versions.legend}   +: both   x: a failure`,
  );
  return lines.join('\n');
}
