import { fileURLToPath } from 'node:url';
import { type Haproxy, startHaproxy } from './haproxy.js';
import { type HttpService, startHttpService } from './http-service.js';
import { type LbLoadOptions, type LbLoadReport, rateBetween, startLbLoad } from './lb-load.js';
import { type Nginx, startNginx } from './nginx.js';
import { getStablePort } from './stable-port.js';
import { waitFor } from './wait.js';

/**
 * The baseline of the LB stage: a bare `node:http` service stopped with `server.close()` on
 * SIGTERM, no Handover (packages/testkit/fixtures/bare-close.mjs).
 */
export const bareCloseFixture = fileURLToPath(
  new URL('../fixtures/bare-close.mjs', import.meta.url),
);

/** A load balancer set-up of the LB stage, and the drain delay its instances run with. */
export interface LbSetup {
  /** `nginx`, `haproxy`, `haproxy-httpchk`. */
  readonly name: string;
  /** Whether the balancer checks `/readyz` (then a roll must lose nothing). */
  readonly checks: boolean;
  /**
   * The drain delay the instances run with: 0 where nothing checks readiness (there is
   * nothing to wait for), ≥ 2 check intervals where something does.
   */
  readonly drainDelayMs: number;
  /**
   * The most failed requests (5xx + resets) a roll of two Handover instances may have: 0
   * behind a checking balancer; behind the others, what the race left at the listener's close
   * allows (docs/http.md, "Behind a load balancer").
   */
  readonly maxFailed: number;
  start(upstreams: readonly number[]): Promise<Nginx | Haproxy>;
}

/** nginx with `keepalive 16`, HAProxy with `http-reuse always` unchecked and checked. */
export const lbSetups: readonly LbSetup[] = [
  {
    name: 'nginx',
    checks: false,
    drainDelayMs: 0,
    // The goal is 1. Measured: 0 in most rolls, 2-3 in about one in ten: connections nginx
    // opens to the instance just as its listener closes (they are reset in the accept queue
    // with a request on them; the bare server.close() baseline loses them too).
    maxFailed: 3,
    start: (upstreams) => startNginx({ upstreams, keepalive: 16 }),
  },
  {
    name: 'haproxy',
    checks: false,
    drainDelayMs: 0,
    // The goal is 1. Measured (Fastify, 75 rolls in series of 20-30): 0 in 67, 1-3 in the
    // rest, always at the first instance's close: connections HAProxy opened while the
    // instance ran its stop (a few ms in which its pooled connections were busy), reset in
    // the accept queue or before their handshake completed (HAProxy closes the client
    // connection: an EOF). The bare server.close() baseline loses 0-3 in the same runs.
    maxFailed: 3,
    start: (upstreams) => startHaproxy({ upstreams }),
  },
  {
    name: 'haproxy-httpchk',
    checks: true,
    // Down after 2 failed checks 250 ms apart: 1 s leaves room for a late check.
    drainDelayMs: 1000,
    maxFailed: 0,
    start: (upstreams) => startHaproxy({ upstreams, check: true, checkIntervalMs: 250 }),
  },
];

/** Options of {@link rollBehindLb}. */
export interface LbRollOptions {
  /** The service fixture (see {@link startHttpService}), configured by `PORT`, `INSTANCE`, ... */
  readonly fixture: string;
  readonly setup: LbSetup;
  /** Names the instances: `<prefix>-a1`, `<prefix>-b1`, then their replacements `-a2`, `-b2`. */
  readonly prefix: string;
  /** More environment for the fixture. */
  readonly env?: Readonly<Record<string, string>>;
  readonly load?: Omit<LbLoadOptions, 'port'>;
  /** Answered requests each instance must have served before it is rolled. @default 200 */
  readonly warmRequests?: number;
}

/** What one roll of two instances behind a load balancer saw. */
export interface LbRollResult {
  readonly setup: string;
  readonly prefix: string;
  readonly load: LbLoadReport;
  /** SIGTERM → exit of each old instance, in ms. */
  readonly drainMs: readonly number[];
  /**
   * When each old instance got its SIGTERM, in ms from the start of the load: the failure
   * samples (`+<ms>`) are timed the same way, so a failure can be placed against the rolls.
   */
  readonly signalledMs: readonly number[];
  /**
   * The load's rate in the second before each SIGTERM (requests per second that got an
   * outcome): the rate the instance was closed at, whatever the start-ups around it cost.
   */
  readonly rateBeforeSignal: readonly number[];
  readonly exitCodes: readonly (number | null)[];
  /** The old instances' log lines about their close (`server closing`, `server closed`). */
  readonly closeLogs: readonly string[];
  /** What the balancer logged (errors only). */
  readonly lbLog: string;
}

/** One line for a test's or a benchmark's output. */
export function describeRoll(result: LbRollResult): string {
  const { load } = result;
  const errors = Object.entries(load.errors)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
  return `${result.prefix} behind ${result.setup}: 5xx ${load.status5xx}, resets ${load.resets}${
    errors ? ` (${errors})` : ''
  }, ${load.total} requests (${load.posts} POST) at ${load.rate} req/s (${result.rateBeforeSignal.join(
    ', ',
  )} in the second before each SIGTERM), drain ${result.drainMs
    .map((ms) => `${ms} ms`)
    .join(' + ')} (SIGTERM at ${result.signalledMs.map((ms) => `+${ms}`).join(', ')} ms)`;
}

/**
 * Two instances of `fixture` behind a load balancer under GET + POST load; rolls both, one
 * after the other: SIGTERM, wait for the exit, start the replacement on the same port, wait
 * until it serves, then the next. Returns what the load saw over the whole roll.
 */
export async function rollBehindLb(options: LbRollOptions): Promise<LbRollResult> {
  const { setup, prefix } = options;
  const warm = options.warmRequests ?? 200;
  const ports = [await getStablePort(), await getStablePort()];
  const services: HttpService[] = [];
  const launch = async (i: number, generation: number): Promise<HttpService> => {
    const service = await startHttpService(options.fixture, {
      PORT: String(ports[i]),
      INSTANCE: `${prefix}-${i === 0 ? 'a' : 'b'}${generation}`,
      DRAIN_DELAY_MS: String(setup.drainDelayMs),
      ...options.env,
    });
    services.push(service);
    return service;
  };
  let lb: Nginx | Haproxy | undefined;
  try {
    const old = await Promise.all([launch(0, 1), launch(1, 1)]);
    lb = await setup.start(ports);
    const load = startLbLoad({ ...options.load, port: lb.port });
    const served = (instance: string) => () =>
      (load.report().headerValues[`${prefix}-${instance}`] ?? 0) >= warm;
    const drainMs: number[] = [];
    const signalledMs: number[] = [];
    const closeLogs: string[] = [];
    const exitCodes: (number | null)[] = [];
    try {
      await waitFor(served('a1'), { what: `traffic on ${prefix}-a1`, timeoutMs: 15_000 });
      await waitFor(served('b1'), { what: `traffic on ${prefix}-b1`, timeoutMs: 15_000 });
      for (const i of [0, 1]) {
        const stopping = old[i] as HttpService;
        const signalledAt = Date.now();
        stopping.child.signal('SIGTERM');
        signalledMs.push(signalledAt - load.report().startedAt);
        const exit = await stopping.child.waitForExit(30_000);
        drainMs.push(exit.at - signalledAt);
        exitCodes.push(exit.code);
        for (const line of stopping.child.logs) {
          if (
            typeof line.msg === 'string' &&
            /^server (closing|closed)|^closed$|^forced exit$/.test(line.msg)
          ) {
            closeLogs.push(JSON.stringify(line));
          }
        }
        await launch(i, 2);
        await waitFor(served(`${i === 0 ? 'a' : 'b'}2`), {
          what: `traffic on the replacement of ${prefix}-${i === 0 ? 'a' : 'b'}1`,
          timeoutMs: 15_000,
        });
      }
    } finally {
      await load.stop();
    }
    const report = load.report();
    return {
      setup: setup.name,
      prefix,
      load: report,
      drainMs,
      signalledMs,
      rateBeforeSignal: signalledMs.map((at) => rateBetween(report, at - 1000, at)),
      exitCodes,
      closeLogs,
      lbLog: lb.log(),
    };
  } finally {
    for (const service of services) service.child.signal('SIGKILL');
    await Promise.all(services.map((s) => s.child.exited));
    await lb?.stop();
  }
}
