// HTTP load and probes from containers on the overlay network (containers/http-load.mjs,
// containers/http-probe.mjs): the load balancer is reached by its name on that network, as a
// client of the platform would reach it.
import { containerScript, logs, runOnce, startContainer, stopContainer } from './containers.js';
import type { RunningLoad } from './scenario.js';
import { until } from './until.js';

/** Where the load balancer is and what to send. */
export interface HttpLoadOptions {
  readonly image: string;
  readonly network: string;
  /** e.g. `http://lb:8080` */
  readonly target: string;
  /** Requests a second, GET and POST together. */
  readonly rate: number;
  /** The share of POST requests. @default 0.5 */
  readonly postShare?: number;
  /** A request's timeout. @default 10000 */
  readonly timeoutMs?: number;
}

/** What one method saw. */
export interface MethodCounts {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Status code → count (every answer, 2xx included). */
  readonly statuses: Record<string, number>;
  /** Failure kind (a status code, `ECONNRESET`, `timeout`...) → count. */
  readonly errors: Record<string, number>;
  readonly fiveXx: number;
  /** Connections reset under a request (ECONNRESET, EPIPE). */
  readonly resets: number;
  readonly versions: Record<string, number>;
}

/** What containers/http-load.mjs prints when it stops. */
export interface HttpLoadSummary {
  readonly t0: number;
  readonly sendingMs: number;
  readonly options: { target: string; rate: number; postShare: number; timeoutMs: number };
  readonly requests: { readonly GET: MethodCounts; readonly POST: MethodCounts };
  /** Requests still without an answer or an error when the load stopped (bounded wait). */
  readonly unanswered: number;
  /** Per worker: POST answers, the lowest and highest order numbers, numbers seen twice. */
  readonly orders: Record<string, { count: number; min: number; max: number; duplicates: number }>;
  readonly failures: {
    n: number;
    method: string;
    sentAt: number;
    doneAt: number;
    error: string;
    body?: string;
  }[];
  /** Answers per second since t0: ok, failed, and which versions answered. */
  readonly seconds: { ok: number; failed: number; versions: Record<string, number> }[];
}

/** Starts the load; resolves once it sends. */
export async function startHttpLoad(
  options: HttpLoadOptions,
): Promise<RunningLoad<HttpLoadSummary> & { readonly id: string }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const id = await startContainer({
    image: options.image,
    network: options.network,
    command: ['node', containerScript('http-load.mjs')],
    env: {
      TARGET: options.target,
      RATE: String(options.rate),
      POST_SHARE: String(options.postShare ?? 0.5),
      TIMEOUT_MS: String(timeoutMs),
    },
  });
  await until(async () => (await logs(id)).stderr.includes('"loading":true'), {
    timeoutMs: 60_000,
    what: 'the HTTP load container to start sending',
  });
  return {
    id,
    async stop() {
      const { exitCode, stdout, stderr } = await stopContainer(id, {
        timeoutMs: timeoutMs + 60_000,
      });
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line) as HttpLoadSummary;
      } catch {
        throw new Error(
          `the HTTP load container exited ${exitCode} without a summary:\n${stdout}\n${stderr}`,
        );
      }
    },
  };
}

/** What containers/http-probe.mjs saw: worker → version. */
export interface HttpProbe {
  readonly ok: boolean;
  readonly seen: Record<string, string>;
  readonly requests: number;
  readonly lastError?: string;
}

/**
 * Asks through the load balancer until `workers` distinct workers (of `version`, when given)
 * have answered; fails with what it saw after `boundMs`.
 */
export async function probeHttp(
  options: Pick<HttpLoadOptions, 'image' | 'network' | 'target'> & {
    workers: number;
    version?: string;
    boundMs?: number;
  },
): Promise<HttpProbe> {
  const boundMs = options.boundMs ?? 60_000;
  const out = await runOnce(
    {
      image: options.image,
      network: options.network,
      command: ['node', containerScript('http-probe.mjs')],
      env: {
        TARGET: options.target,
        WORKERS: String(options.workers),
        BOUND_MS: String(boundMs),
        ...(options.version ? { VERSION: options.version } : {}),
      },
    },
    boundMs + 30_000,
  );
  const probe = JSON.parse(out.trim().split('\n').pop() ?? '{}') as HttpProbe;
  if (!probe.ok)
    throw new Error(
      `Expected ${options.workers} workers${options.version ? ` of ${options.version}` : ''} to answer through ${options.target} within ${boundMs} ms, saw ${JSON.stringify(probe)}`,
    );
  return probe;
}
