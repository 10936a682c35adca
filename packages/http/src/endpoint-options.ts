import { expectOption, isRecord, optionalBoolean, optionalInteger } from './validate.js';

/** The four probes. */
export type ProbeName = 'livez' | 'readyz' | 'startupz' | 'healthz';

/** Where each probe is served; `false` turns one off. */
export interface ProbePaths {
  /** Liveness: 200 unless the worker failed. @default '/livez' */
  readonly livez?: string | false;
  /** Readiness: 200 while `worker.ready`. @default '/readyz' */
  readonly readyz?: string | false;
  /** Startup: 200 once the worker has been ready (`worker.hasBeenReady`). @default '/startupz' */
  readonly startupz?: string | false;
  /**
   * Docker `HEALTHCHECK`: 200 once started and until stopped, draining included, 503 while
   * warming and after a failure. @default '/healthz'
   */
  readonly healthz?: string | false;
}

/**
 * The preStop drain endpoint. It can take the worker out of service, so it must be protected:
 * set `token`, `loopbackOnly: true`, or both (then both must hold).
 */
export interface DrainEndpointOptions {
  /** Path of the endpoint. @default '/drain' */
  readonly path?: string;
  /**
   * Bearer token the caller must send (`Authorization: Bearer <token>`), compared in constant
   * time and never logged. At least 16 characters of `[A-Za-z0-9-._~+/=]`.
   * @default undefined (no token)
   */
  readonly token?: string;
  /**
   * Accept calls from loopback addresses only (`127.0.0.0/8`, `::1`), e.g. an `exec` preStop
   * hook running `curl localhost`. Kubelet's `httpGet` hook comes from the node, not loopback:
   * use a token for it.
   * @default false
   */
  readonly loopbackOnly?: boolean;
  /**
   * Longest time the endpoint holds a call before answering, from the start of the drain.
   * @default the worker's drain deadline: `gracePeriodMs - shutdownReserveMs`
   */
  readonly maxWaitMs?: number;
}

/**
 * Metrics to serve at `/metrics`: `handoverMetrics()` of `@handover/metrics`, or anything that
 * renders a text exposition format.
 */
export interface MetricsSource {
  /** The `Content-Type` of what {@link render} returns. */
  readonly contentType: string;
  render(): Promise<string>;
}

/** Options of the probe and drain endpoints, wherever they are mounted. */
export interface EndpointOptions {
  /** Paths of the probes. @default { livez: '/livez', readyz: '/readyz', startupz: '/startupz', healthz: '/healthz' } */
  readonly paths?: ProbePaths | undefined;
  /** The preStop drain endpoint; off unless given. @default false */
  readonly drain?: DrainEndpointOptions | false | undefined;
  /** Serve these metrics (GET) at {@link metricsPath}; off unless given. @default undefined */
  readonly metrics?: MetricsSource | undefined;
  /** Where the metrics are served. @default '/metrics' */
  readonly metricsPath?: string | undefined;
}

/** Validated drain endpoint options. */
export interface ResolvedDrain {
  readonly path: string;
  readonly token: string | undefined;
  readonly loopbackOnly: boolean;
  readonly maxWaitMs: number | undefined;
}

/** Validated endpoint options. */
export interface ResolvedEndpoints {
  /** Path → probe, for the probes that are on. */
  readonly probes: ReadonlyMap<string, ProbeName>;
  readonly drain: ResolvedDrain | undefined;
  readonly metrics: { readonly source: MetricsSource; readonly path: string } | undefined;
}

const probeNames: readonly ProbeName[] = ['livez', 'readyz', 'startupz', 'healthz'];
const pathPattern = /^\/[\x21-\x7e]*$/;
const pathExpectation = 'a path starting with / without spaces, ? or #';
// RFC 6750 b64token characters.
const tokenPattern = /^[A-Za-z0-9\-._~+/]+=*$/;

function path(name: string, value: unknown): string {
  expectOption(
    typeof value === 'string' && pathPattern.test(value) && !/[?#]/.test(value),
    name,
    pathExpectation,
    value,
  );
  return value;
}

function token(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Never echo a token, even a malformed one, into an error message (they end up in logs).
  const shown = typeof value === 'string' ? `a string of ${value.length} characters` : undefined;
  expectOption(
    typeof value === 'string' && value.length >= 16 && tokenPattern.test(value),
    'drain.token',
    'at least 16 characters of [A-Za-z0-9-._~+/=] (a bearer token)',
    value,
    shown,
  );
  return value;
}

function resolveDrain(value: unknown): ResolvedDrain | undefined {
  if (value === undefined || value === false) return undefined;
  expectOption(
    isRecord(value),
    'drain',
    'false or an object such as { token } or { loopbackOnly: true }',
    value,
  );
  const resolved: ResolvedDrain = {
    path: value.path === undefined ? '/drain' : path('drain.path', value.path),
    token: token(value.token),
    loopbackOnly: optionalBoolean('drain.loopbackOnly', value.loopbackOnly) ?? false,
    maxWaitMs: optionalInteger('drain.maxWaitMs', value.maxWaitMs, 0),
  };
  expectOption(
    resolved.token !== undefined || resolved.loopbackOnly,
    'drain',
    'protected: set `token` or `loopbackOnly: true` (an open drain endpoint lets anyone take the worker out of service)',
    value,
    'neither',
  );
  return resolved;
}

/** Validates endpoint options; throws `HANDOVER_E_INVALID_OPTION` on the first problem. */
export function resolveEndpointOptions(options: unknown): ResolvedEndpoints {
  if (options === undefined) options = {};
  expectOption(isRecord(options), 'options', 'an object', options);
  const paths = options.paths ?? {};
  expectOption(isRecord(paths), 'paths', 'an object of probe paths', paths);
  for (const key of Object.keys(paths)) {
    expectOption(
      probeNames.includes(key as ProbeName),
      'paths',
      `keyed by ${probeNames.join(', ')}`,
      key,
      `key "${key}"`,
    );
  }
  const probes = new Map<string, ProbeName>();
  const drain = resolveDrain(options.drain);
  const metrics = resolveMetrics(options.metrics, options.metricsPath);
  const taken = new Set([...(drain ? [drain.path] : []), ...(metrics ? [metrics.path] : [])]);
  expectOption(
    !drain || !metrics || drain.path !== metrics.path,
    'metricsPath',
    'a path no other endpoint uses',
    metrics?.path,
  );
  for (const name of probeNames) {
    const value = paths[name];
    if (value === false) continue;
    const resolved = value === undefined ? `/${name}` : path(`paths.${name}`, value);
    expectOption(!taken.has(resolved), `paths.${name}`, 'a path no other endpoint uses', resolved);
    taken.add(resolved);
    probes.set(resolved, name);
  }
  return { probes, drain, metrics };
}

function resolveMetrics(source: unknown, at: unknown): ResolvedEndpoints['metrics'] {
  // A path with nothing to serve at it is a forgotten `metrics`, not a wish for no metrics.
  expectOption(
    at === undefined || source !== undefined,
    'metrics',
    'given when metricsPath is (a metrics source such as handoverMetrics())',
    source,
  );
  if (source === undefined) return undefined;
  const valid =
    isRecord(source) &&
    typeof source.contentType === 'string' &&
    typeof (source as { render?: unknown }).render === 'function';
  expectOption(valid, 'metrics', 'a metrics source such as handoverMetrics()', source);
  return {
    source: source as unknown as MetricsSource,
    path: at === undefined ? '/metrics' : path('metricsPath', at),
  };
}
