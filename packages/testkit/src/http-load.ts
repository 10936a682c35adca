import { Agent } from 'node:http';
import { tryHttpRequest } from './http-client.js';

/** Options of {@link startLoad}. */
export interface LoadOptions {
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Paths requested in turn. @default ['/'] */
  readonly paths?: readonly string[];
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Reuse connections (a keep-alive agent). @default true */
  readonly keepAlive?: boolean;
  /** A response header whose values are counted (e.g. which instance answered). */
  readonly countHeader?: string;
}

/** Adds one to `map[key]` (a report's counts by status, error code, header value). */
export function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** What a load run saw. */
export interface LoadReport {
  readonly total: number;
  readonly ok: number;
  /** Non-2xx responses plus errors. */
  readonly failed: number;
  /** Responses by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Errors by code (`ECONNRESET`, ...). */
  readonly errors: Readonly<Record<string, number>>;
  /** Values of `countHeader`. */
  readonly headerValues: Readonly<Record<string, number>>;
  /** The first few failures, for assertion messages. */
  readonly samples: readonly string[];
}

/** A running load. */
export interface Load {
  /** What was seen so far. */
  report(): LoadReport;
  /** Stops sending, waits for requests in flight, returns the final report. */
  stop(): Promise<LoadReport>;
}

/** Sends requests in a closed loop (`concurrency` at a time) until stopped. */
export function startLoad(options: LoadOptions): Load {
  const paths = options.paths ?? ['/'];
  const agent = new Agent({ keepAlive: options.keepAlive ?? true });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const headerValues: Record<string, number> = {};
  const samples: string[] = [];
  let total = 0;
  let ok = 0;
  let running = true;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      const path = paths[next++ % paths.length] ?? '/';
      const outcome = await tryHttpRequest({ port: options.port, host: options.host, path, agent });
      total++;
      if (outcome.ok) {
        bump(statuses, String(outcome.status));
        const value = options.countHeader && outcome.headers[options.countHeader];
        if (typeof value === 'string') bump(headerValues, value);
        if (outcome.status >= 200 && outcome.status < 300) ok++;
        else if (samples.length < 10)
          samples.push(`${path}: ${outcome.status} ${outcome.body.slice(0, 200)}`);
      } else {
        bump(errors, outcome.code);
        if (samples.length < 10) samples.push(`${path}: ${outcome.code} ${outcome.message}`);
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 8 }, loop);
  const report = (): LoadReport => ({
    total,
    ok,
    failed: total - ok,
    statuses: { ...statuses },
    errors: { ...errors },
    headerValues: { ...headerValues },
    samples: [...samples],
  });
  return {
    report,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return report();
    },
  };
}
