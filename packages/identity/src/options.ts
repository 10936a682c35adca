import { hostname as osHostname } from 'node:os';
import type { IdentityWarning } from './errors.js';
import { expectOption, isRecord } from './validate.js';

/** Options of {@link readIdentity} and {@link readIdentitySync}. Every one is for tests or odd hosts. */
export interface ReadIdentityOptions {
  /**
   * The hosts file to read. Container runtimes write the container's address there.
   * @default '/etc/hosts'
   */
  readonly hostsPath?: string;
  /**
   * The host name to look up and derive the id from. May be empty only when
   * `HANDOVER_WORKER_ID` is set.
   * @default os.hostname()
   */
  readonly hostname?: string;
  /**
   * The environment to read `HANDOVER_WORKER_ID` from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The process id appended (`-<pid>`) to the id of a plain, non-container host. Minimum 1.
   * @default process.pid
   */
  readonly pid?: number;
  /**
   * Receives what went wrong but did not stop the read (an unreadable hosts file, ignored
   * lines). An exception it throws, or a promise it rejects, is swallowed.
   * @default (warning) => process.emitWarning(warning.message, { code: warning.code })
   */
  readonly onWarning?: (warning: IdentityWarning) => void;
}

/** Options with their defaults applied; `warn` never throws. */
export interface Settings {
  readonly hostsPath: string;
  readonly hostname: string;
  readonly env: Readonly<Record<string, unknown>>;
  readonly pid: number;
  readonly warn: (warning: IdentityWarning) => void;
}

const emitWarning = (warning: IdentityWarning): void => {
  process.emitWarning(warning.message, { code: warning.code });
};

function guarded(onWarning: (warning: IdentityWarning) => void) {
  return (warning: IdentityWarning): void => {
    // A logging callback must not turn a readable identity into a crash.
    try {
      const result: unknown = onWarning(warning);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {}
  };
}

// Only `undefined` means "use the default": a `null` is a mistake worth reporting.
function or(value: unknown, fallback: string | (() => unknown)): unknown {
  if (value !== undefined) return value;
  return typeof fallback === 'function' ? fallback() : fallback;
}

/** Validates the options at the boundary and applies the defaults. */
export function resolveOptions(options: unknown): Settings {
  const given = options === undefined ? {} : options;
  expectOption(isRecord(given), 'options', 'an object', options);
  const path = or(given.hostsPath, '/etc/hosts');
  expectOption(typeof path === 'string' && path !== '', 'hostsPath', 'a non-empty string', path);
  // fs would throw a TypeError for it, which would read as "file unreadable" and hide the bug.
  expectOption(!path.includes('\0'), 'hostsPath', 'a path without NUL characters', path);
  const hostname = or(given.hostname, osHostname);
  expectOption(typeof hostname === 'string', 'hostname', 'a string', hostname);
  const env = or(given.env, () => process.env);
  expectOption(isRecord(env), 'env', 'an object', env);
  const pid = or(given.pid, () => process.pid);
  const validPid = typeof pid === 'number' && Number.isSafeInteger(pid) && pid >= 1;
  expectOption(validPid, 'pid', 'an integer >= 1', pid);
  const { onWarning } = given;
  const validWarn = onWarning === undefined || typeof onWarning === 'function';
  expectOption(validWarn, 'onWarning', 'a function', onWarning);
  return {
    hostsPath: path,
    hostname,
    env,
    pid,
    warn: guarded((onWarning as ReadIdentityOptions['onWarning']) ?? emitWarning),
  };
}
