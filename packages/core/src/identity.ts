import { type IdentityWarning, readIdentitySync } from '@handover/identity';
import { workerIdPattern } from './config.js';
import type { Logger } from './logger.js';
import type { WorkerIdentity } from './options.js';
import { expectOption, isThenable, received } from './validate.js';

/** Checks an `identity` option: an object such as `readIdentity()` resolves to. */
function validateIdentity(value: unknown): WorkerIdentity {
  expectOption(
    typeof value === 'object' && value !== null && !isThenable(value),
    `Expected \`identity\` to be an identity object such as readIdentity() resolves to, got ${received(value)}`,
  );
  const { id, hostname, addresses } = value as Partial<Record<keyof WorkerIdentity, unknown>>;
  expectOption(
    typeof id === 'string' && workerIdPattern.test(id),
    `Expected \`identity.id\` to be 1-128 characters of [A-Za-z0-9_-], got ${received(id)}`,
  );
  expectOption(
    typeof hostname === 'string',
    `Expected \`identity.hostname\` to be a string, got ${received(hostname)}`,
  );
  expectOption(
    Array.isArray(addresses) && addresses.every((a) => typeof a === 'string'),
    `Expected \`identity.addresses\` to be an array of strings, got ${received(addresses)}`,
  );
  return value as WorkerIdentity;
}

/** An identity and what reading it had to say, for the worker's logger once it exists. */
export interface ResolvedIdentity {
  readonly identity: WorkerIdentity;
  /** Where the id came from, when it was read here (`env`, `hosts`, `hostname`). */
  readonly source: string | undefined;
  readonly warnings: readonly IdentityWarning[];
}

/**
 * The `identity` option, or, when it is absent, the identity of this host: read from
 * `/etc/hosts`, the host name and `HANDOVER_WORKER_ID` with `@handover/identity`'s rules, so
 * that the simplest worker needs no option for it. Errors of a hosts file that is broken are
 * thrown as they are (`HANDOVER_E_HOSTS_*`).
 */
export function resolveIdentity(
  option: unknown,
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): ResolvedIdentity {
  if (option !== undefined) {
    return { identity: validateIdentity(option), source: undefined, warnings: [] };
  }
  const warnings: IdentityWarning[] = [];
  const read = readIdentitySync({ env, pid, onWarning: (warning) => warnings.push(warning) });
  return { identity: read, source: read.source, warnings };
}

/** Logs what reading the identity found worth saying. */
export function logIdentity(logger: Logger, resolved: ResolvedIdentity): void {
  const { identity, source, warnings } = resolved;
  for (const warning of warnings) {
    logger.warn({ code: warning.code, detail: warning.message }, 'identity warning');
  }
  if (source === undefined) return;
  const { hostname, addresses } = identity;
  logger.info({ source, hostname, addresses }, 'identity read from this host');
}
