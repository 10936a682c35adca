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
export function versionLine(load: NatsLoadSummary): { line: string; legend: string } {
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

/** Per worker, from its own events: when it was ready, drained, stopped (s since the load began). */
function workerLines(load: NatsLoadSummary): string[] {
  const workers = new Map<string, Record<string, string>>();
  for (const event of load.events) {
    const w = workers.get(event.id) ?? { version: event.version };
    w[event.type] = s(Date.parse(event.at) - load.t0);
    if (event.type === 'stopped')
      w.drain = `${event.drainMs ?? '?'} ms drain, ${event.abandoned ?? '?'} abandoned`;
    workers.set(event.id, w);
  }
  return [...workers].map(
    ([id, w]) =>
      `    ${id.padEnd(13)} ${w.version?.padEnd(6)} ready ${w.ready ?? '-'}, draining ${w.draining ?? '-'}, stopped ${w.stopped ?? '-'}${w.drain ? ` (${w.drain})` : ''}`,
  );
}

/** The phase as text, for the test log and the demo. */
export function phaseReport(phase: Phase): string {
  const { requests, jobs, consumer } = phase.load;
  const versions = versionLine(phase.load);
  const lines = [
    `${phase.name} (${s(phase.ms)})`,
    `  commands: ${phase.steps.map((step) => `${step.name} ${s(step.ms)}`).join(', ') || '-'}`,
    `  plain requests (no retry): ${requests.sent} sent, ${requests.ok} ok, ${requests.failed} failed${kinds(requests.errors)}`,
    `  jobs: ${jobs.published} published${jobs.publishFailed ? `, ${jobs.publishFailed} not published${kinds(jobs.errors)}` : ''}, ${jobs.acked} acked, ${jobs.unacked} unacked, ${jobs.redelivered} redelivered, ${jobs.naks} naks`,
    `  consumer after the load: ${consumer ? `${consumer.numPending} pending + ${consumer.numAckPending} ack pending (ack_wait ${consumer.ackWaitMs} ms)` : '-'}; last ack ${jobs.ackWaitMs} ms after the load stopped`,
    `  ended tasks: ${
      phase.ended
        .map(
          (t) =>
            `slot ${t.slot ?? '-'} ${t.state} exit ${t.exitCode ?? '?'}${t.containerExitCode !== undefined && t.containerExitCode !== t.exitCode ? ` (container ${t.containerExitCode})` : ''}`,
        )
        .join(', ') || 'none'
    }`,
    '  workers (their own events, s since the load began):',
    ...workerLines(phase.load),
    `  versions answering, 1 s a column: ${versions.line}`,
    `    ${versions.legend}   +: both   x: a failure`,
  ];
  return lines.join('\n');
}
