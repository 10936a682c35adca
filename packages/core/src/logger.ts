import { createRequire } from 'node:module';
import type { pino as Pino } from 'pino';
import { HandoverOptionError } from './errors.js';
import { received } from './received.js';

/** A log method: structured fields first, then the message (pino's argument order). */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/**
 * The logger port: the subset of pino's API Handover uses, so a pino logger (or anything
 * shaped like one) can be passed in. Handover always logs structured fields and a constant
 * message; data is never concatenated into the message.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** The levels the default logger accepts in `HANDOVER_LOG_LEVEL`. */
const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * The default logger: pino writing JSON lines to stdout, at the level given by
 * `HANDOVER_LOG_LEVEL` (default `info`). pino is loaded on first use, so a service that passes
 * its own logger never pays for loading it.
 *
 * Writes are synchronous. pino's default asynchronous stdout flushes at process exit with a
 * loop that retries a broken pipe (EPIPE: the log reader is gone) forever, so a worker whose
 * log pipe broke would never exit, whatever signal it got. A synchronous write sees EPIPE at
 * once, and pino then drops further lines instead. The worker logs little (its lifecycle), and
 * nothing is lost at exit.
 */
export function createDefaultLogger(env: Readonly<Record<string, string | undefined>>): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
  const wanted = env.HANDOVER_LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!levels.has(wanted)) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_ENV',
      `Expected environment variable HANDOVER_LOG_LEVEL to be one of ${[...levels].join(', ')}, got ${received(env.HANDOVER_LOG_LEVEL)}`,
    );
  }
  const level = wanted;
  return pino({ name: 'handover', level }, pino.destination({ dest: 1, sync: true }));
}
