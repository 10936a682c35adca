import { HandoverOptionError } from '@handover/core';
import { invalidOption } from './validate.js';

/** Where a server list came from, for the error that names it. */
export type ServersSource = 'option' | 'env';

/** The variable NATS tools read the server list from. */
export const serversEnv = 'NATS_URL';

/**
 * A server list as NATS tools take it (the Go client, the `nats` CLI): one URL, a
 * comma-separated string of them, or an array. Entries are trimmed; an empty entry is a
 * mistake (a trailing comma, `NATS_URL=` set to spaces) reported with the source named, and
 * never echoed, since URLs may carry credentials.
 */
export function parseServers(value: unknown, source: ServersSource): string[] {
  const name = source === 'env' ? serversEnv : 'servers';
  const list = typeof value === 'string' ? value.split(',') : value;
  const valid =
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((entry) => typeof entry === 'string' && entry.trim() !== '');
  if (valid) return (list as string[]).map((entry) => entry.trim());
  const expected = 'server URLs, comma-separated or as an array, none of them empty';
  if (typeof value !== 'string' && !Array.isArray(value))
    throw invalidOption(name, value, expected);
  const what = source === 'env' ? `environment variable ${serversEnv}` : `\`${name}\``;
  throw new HandoverOptionError(
    source === 'env' ? 'HANDOVER_E_INVALID_ENV' : 'HANDOVER_E_INVALID_OPTION',
    `Expected ${what} to be ${expected}, got a list with an empty entry`,
  );
}
