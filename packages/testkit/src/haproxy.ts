import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { whenListening } from './lb-process.js';
import { getFreePort } from './ports.js';

/** Finds a `haproxy` binary: `HAPROXY_BIN`, then `PATH`, then Debian's `/usr/sbin`. */
export function findHaproxy(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findBinary('haproxy', 'HAPROXY_BIN', ['/usr/sbin/haproxy'], env);
}

/** Options of {@link startHaproxy}. */
export interface HaproxyOptions {
  /** Ports of the upstream servers on 127.0.0.1. */
  readonly upstreams: readonly number[];
  /**
   * Health-check every upstream with `option httpchk GET /readyz` every `checkIntervalMs`
   * (down after 2 failures, up after 2 successes). Without it, HAProxy never takes an
   * upstream out: a refused connection is retried on another one (`option redispatch`).
   * @default false
   */
  readonly check?: boolean;
  /** @default 250 */
  readonly checkIntervalMs?: number;
}

/** A private HAProxy load balancer on a free port. */
export interface Haproxy {
  readonly port: number;
  /** Temporary directory with the config; removed by `stop()`. */
  readonly dir: string;
  /** What HAProxy printed: its warnings, and a log line per failed request. */
  log(): string;
  stop(): Promise<void>;
}

function config(port: number, options: HaproxyOptions): string {
  const check = options.check ?? false;
  const inter = options.checkIntervalMs ?? 250;
  const servers = options.upstreams.map(
    (p, i) => `  server s${i} 127.0.0.1:${p}${check ? ' check' : ''}`,
  );
  // `http-reuse always`: idle server connections are shared between client connections, as in
  // most production set-ups; `option redispatch` + `retries`: a refused connection goes to
  // another upstream. Only failed requests are logged (`dontlog-normal`).
  return `global
  log stdout format raw local0
  maxconn 4096
defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  retries 3
  option redispatch 1
  http-reuse always
frontend lb
  bind 127.0.0.1:${port}
  default_backend app
backend app
  balance roundrobin
${check ? `  option httpchk GET /readyz\n  default-server inter ${inter}ms fall 2 rise 2\n` : ''}${servers.join('\n')}
`;
}

/** Starts HAProxy in front of `upstreams` (round robin, `http-reuse always`). */
export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const bin = findHaproxy();
  if (!bin) {
    throw new Error('haproxy not found: install it (apt-get install haproxy) or set HAPROXY_BIN');
  }
  const dir = mkdtempSync(join(tmpdir(), 'handover-haproxy-'));
  const port = await getFreePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config(port, options));
  let output = '';
  const child: ChildProcess = spawn(bin, ['-f', file, '-db'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: string): void => {
    // Bounded: a broken run could log a line per request.
    if (output.length < 200_000) output += chunk;
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  return whenListening(child, {
    name: 'haproxy',
    port,
    dir,
    log: () => output,
    stopSignal: 'SIGTERM',
  });
}
