import { existsSync } from 'node:fs';
import { type Child, type LogLine, spawnNode } from './child.js';

/** A service fixture running as a child process (its own SIGTERM, its own exit). */
export interface HttpService {
  readonly child: Child;
  /** The port its main server listens on. */
  readonly port: number;
  /** Resolves with the first log line whose `msg` is `msg` and whose fields match `fields`. */
  log(
    msg: string,
    fields?: Readonly<Record<string, unknown>>,
    timeoutMs?: number,
  ): Promise<LogLine>;
}

/** Fails with a clear message when a built file a fixture imports is missing. */
export function expectBuilt(files: readonly string[]): void {
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`built package missing (${missing.join(', ')}): run \`pnpm build\` first`);
  }
}

/**
 * Starts a service fixture that logs `listening` with its `port` (pino JSON lines) and waits
 * until its worker is `ready`.
 */
export async function startHttpService(
  fixture: string,
  env: Readonly<Record<string, string>> = {},
): Promise<HttpService> {
  const child = spawnNode(fixture, { env: { HANDOVER_LOG_LEVEL: 'info', ...env } });
  const log = (
    msg: string,
    fields: Readonly<Record<string, unknown>> = {},
    timeoutMs = 10_000,
  ): Promise<LogLine> =>
    child.waitForLog(
      (line) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v),
      { timeoutMs, what: `log "${msg}" ${JSON.stringify(fields)}` },
    );
  try {
    const listening = await log('listening');
    await log('ready');
    return { child, port: Number(listening.port), log };
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  }
}
