import type { ConnectionOptions } from '@nats-io/transport-node';
import { credentialsFromUrls, redactServer } from './connection.js';
import { invalidOption } from './validate.js';

/**
 * Reads a list of NATS servers as the NATS tools do (`nats://a:4222,nats://b:4222`, as in the
 * Go client and the `nats` CLI): a comma-separated string, or an array whose entries may
 * themselves be comma-separated. Entries are trimmed; an empty one (`a,,b`, a trailing comma,
 * a blank string) is a mistake, not something to skip: it fails with
 * `HANDOVER_E_INVALID_OPTION` naming `source` (the option, or the environment variable the
 * list came from). Credentials in the URLs are never echoed.
 *
 * nats.js takes one string as one server, so without this a whole `NATS_URL` list reaches it
 * as a single, unparseable server and every worker ends up on the same node.
 * A comma inside a password must be percent-encoded (`%2C`).
 */
export function parseServerList(value: unknown, source: string): string[] {
  const expected = 'a NATS URL, a comma-separated list of them, or an array of them';
  if (typeof value !== 'string' && !Array.isArray(value)) {
    throw invalidOption(source, value, expected);
  }
  const parts = typeof value === 'string' ? [value] : (value as unknown[]);
  const servers: string[] = [];
  for (const part of parts) {
    if (typeof part !== 'string') throw invalidOption(source, part, `${expected} (strings)`);
    for (const entry of part.split(',')) {
      const server = entry.trim();
      if (server === '') {
        throw invalidOption(
          source,
          redactList(parts),
          'a list of NATS URLs without empty entries (check for a doubled or trailing comma)',
        );
      }
      servers.push(server);
    }
  }
  if (servers.length === 0) throw invalidOption(source, value, `${expected}, not an empty array`);
  return servers;
}

/** Every URL of a list redacted, for an error message. */
function redactList(parts: readonly unknown[]): string {
  return parts
    .map((part) =>
      typeof part === 'string'
        ? part
            .split(',')
            .map((server) => redactServer(server.trim()))
            .join(',')
        : String(part),
    )
    .join(',');
}

/**
 * The servers of the `NATS_URL` environment variable, or `undefined` when it is unset or empty
 * (an empty variable is how many deployment files leave a value unset).
 */
export function serversFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const value = env.NATS_URL;
  if (value === undefined || value === '') return undefined;
  return parseServerList(value, 'NATS_URL');
}

/**
 * nats.js connection options with `servers` read as a list (see {@link parseServerList}) and
 * the credentials of its URLs moved into `user`/`pass`/`token` (one set for the whole list, as
 * `credentialsFromUrls` requires). `source` names where `servers` came from.
 */
export function withServerList(
  options: ConnectionOptions,
  source = 'connection.servers',
): ConnectionOptions {
  if (options.servers === undefined) return options;
  return credentialsFromUrls(
    { ...options, servers: parseServerList(options.servers, source) },
    source,
  );
}
