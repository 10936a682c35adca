import type { NatsConnection } from '@nats-io/transport-node';
import { CliError } from './errors.js';
import { formatDuration, renderTable } from './format.js';
import type { Context } from './io.js';
import { bucketExists, registryManager } from './registry.js';
import { gather } from './srv.js';

/** One instance's `$SRV` STATS, summed over its endpoints. */
export interface InstanceStats {
  /** The worker id (`handover.id` in the metadata). */
  readonly id: string;
  /** The micro service id: the worker's instance NUID. */
  readonly instance: string;
  readonly version: string;
  readonly state: string | undefined;
  readonly inflight: number | undefined;
  readonly started: string | undefined;
  readonly uptimeMs: number | undefined;
  readonly requests: number;
  readonly errors: number;
  readonly lastError: string;
  readonly processingTimeNs: number;
  readonly averageProcessingTimeNs: number;
  /** The endpoints as the worker answered them. */
  readonly endpoints: readonly Record<string, unknown>[];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A STATS response (ADR-32) as one row; `undefined` if it is not one of `service`'s. */
export function instanceStats(
  answer: Record<string, unknown>,
  service: string,
  now: number,
): InstanceStats | undefined {
  if (answer.type !== 'io.nats.micro.v1.stats_response' || answer.name !== service) return;
  const instance = str(answer.id);
  if (instance === undefined) return;
  const endpoints = (Array.isArray(answer.endpoints) ? answer.endpoints : []).filter(
    (e): e is Record<string, unknown> => typeof e === 'object' && e !== null,
  );
  const metadata = (answer.metadata ?? {}) as Record<string, unknown>;
  const data = (endpoints[0]?.data ?? {}) as Record<string, unknown>;
  const requests = endpoints.reduce((n, e) => n + num(e.num_requests), 0);
  const processingTimeNs = endpoints.reduce((n, e) => n + num(e.processing_time), 0);
  const started = str(answer.started);
  const startedMs = started === undefined ? Number.NaN : Date.parse(started);
  return {
    id: str(metadata['handover.id']) ?? '-',
    instance,
    version: str(answer.version) ?? '-',
    state: str(data.state),
    inflight: typeof data.inflight === 'number' ? data.inflight : undefined,
    started,
    uptimeMs: Number.isNaN(startedMs) ? undefined : Math.max(0, now - startedMs),
    requests,
    errors: endpoints.reduce((n, e) => n + num(e.num_errors), 0),
    lastError: endpoints.map((e) => str(e.last_error) ?? '').findLast((e) => e !== '') ?? '',
    processingTimeNs,
    averageProcessingTimeNs: requests === 0 ? 0 : Math.trunc(processingTimeNs / requests),
    endpoints,
  };
}

/** Nanoseconds as `850µs`, `12.3ms`, `1.25s`. */
export function formatNs(ns: number): string {
  if (ns < 1e6) return `${Math.round(ns / 1e3)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}

/** The STATS table, a total line, and what to make of an empty answer. */
export function renderStats(service: string, rows: readonly InstanceStats[]): string {
  if (rows.length === 0) return `${service}: no instance answered $SRV.STATS.${service}\n`;
  const header = ['ID', 'INSTANCE', 'VERSION', 'STATE', 'INFLIGHT', 'REQUESTS', 'ERRORS'];
  const table = renderTable(
    [...header, 'AVG TIME', 'UPTIME', 'LAST ERROR'],
    rows.map((r) => [
      r.id,
      r.instance,
      r.version,
      r.state ?? '-',
      r.inflight === undefined ? '-' : String(r.inflight),
      String(r.requests),
      String(r.errors),
      r.requests === 0 ? '-' : formatNs(r.averageProcessingTimeNs),
      r.uptimeMs === undefined ? '-' : formatDuration(r.uptimeMs),
      r.lastError === '' ? '-' : r.lastError,
    ]),
  );
  const requests = rows.reduce((n, r) => n + r.requests, 0);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  return `${table}\n\n${service}: ${plural(rows.length, 'instance')}, ${plural(requests, 'request')}, ${plural(errors, 'error')}\n`;
}

/** `handover stats <service>`: asks `$SRV.STATS.<service>` and collects every answer. */
export async function serviceStats(
  nc: NatsConnection,
  ctx: Context,
  request: { readonly service: string; readonly json: boolean; readonly waitMs: number },
): Promise<void> {
  const { service } = request;
  const answers = await gather(nc, `$SRV.STATS.${service}`, request.waitMs);
  const now = ctx.now();
  const rows = answers
    .map((a) => instanceStats(a, service, now))
    .filter((r): r is InstanceStats => r !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id) || a.instance.localeCompare(b.instance));
  // Nobody answered: a service that does not exist is an error, an idle one is not.
  if (rows.length === 0 && !(await bucketExists(await registryManager(nc), service))) {
    throw new CliError(
      'HANDOVER_E_CLI_NO_SERVICE',
      `no service ${service}: no instance answered $SRV.STATS.${service} and there is no bucket handover_${service}`,
    );
  }
  if (request.json) {
    const document = { at: new Date(now).toISOString(), service, instances: rows };
    ctx.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else ctx.stdout.write(renderStats(service, rows));
}
