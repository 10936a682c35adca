import { type ServiceView, shownState, summary, type WorkerRow } from './fleet.js';
import { formatAge, formatDuration, renderTable } from './format.js';

const header = ['ID', 'VERSION', 'STATE', 'INFLIGHT', 'HEARTBEAT', 'UPTIME', 'ADDRESS', 'HTTP'];

const cells = (w: WorkerRow): string[] => [
  w.id,
  w.version,
  shownState(w),
  `${w.inflight}/${w.concurrency}`,
  formatAge(w.heartbeatAgeMs),
  formatDuration(w.uptimeMs),
  w.addresses.length === 0 ? '-' : w.addresses.join(','),
  w.http ?? '-',
];

/**
 * The workers of one or more services as a table, then one summary line per service and what
 * the marks mean. With `withService`, a SERVICE column comes first (`handover ls` of all).
 */
export function renderViews(views: readonly ServiceView[], withService: boolean): string {
  const rows = views.flatMap((view) =>
    view.workers.map((w) => (withService ? [view.service, ...cells(w)] : cells(w))),
  );
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push(renderTable(withService ? ['SERVICE', ...header] : header, rows), '');
  }
  lines.push(...views.map(summary));
  for (const view of views) {
    if (view.stalled && view.silentMs !== undefined) {
      lines.push(
        `${view.service}: registry stalled: no entry written for ${formatAge(view.silentMs)} (a JetStream leader election?); workers that answer $SRV.PING are shown "(ping)"`,
      );
    }
  }
  if (views.some((view) => view.workers.some((w) => w.stale))) {
    lines.push(
      'stale: no heartbeat for 3 x its interval: the worker died or lost NATS without deregistering; the entry expires with the bucket TTL',
    );
  }
  return `${lines.join('\n')}\n`;
}
