import { IdentityError } from './errors.js';
import { findHost, type HostMatch, scanHosts } from './hosts.js';
import { readHostsText } from './hosts-file.js';
import { type Program, runAsync, runSync } from './io.js';
import { type ReadIdentityOptions, resolveOptions, type Settings } from './options.js';
import { hostId, sanitize } from './sanitize.js';
import { received } from './validate.js';

/** Where the worker id came from. */
export type IdentitySource = 'env' | 'hosts' | 'hostname';

/** Who this worker is on the network, as {@link readIdentity} found out. */
export interface Identity {
  /** Protocol-safe worker id: 1–128 characters of `[A-Za-z0-9_-]`. */
  readonly id: string;
  /** The host name that was looked up, as given. */
  readonly hostname: string;
  /** Non-loopback addresses of the host name in the hosts file, in file order, deduplicated. */
  readonly addresses: readonly string[];
  /** The other names on the lines that give those addresses, as written, deduplicated. */
  readonly aliases: readonly string[];
  /**
   * `env`: `HANDOVER_WORKER_ID`; `hosts`: the host name, found in the hosts file with a network
   * address; `hostname`: the host name plus `-<pid>` (no such address, or no readable file).
   */
  readonly source: IdentitySource;
  /** Whether the hosts file maps the host name to a network address, as container runtimes do. */
  readonly containerized: boolean;
}

const overrideVariable = 'HANDOVER_WORKER_ID';
const maxLinesListed = 10;

function readOverride(env: Settings['env']): string | undefined {
  const raw = env[overrideVariable];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') {
    throw new IdentityError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected \`env.${overrideVariable}\` to be a string, got ${received(raw)}`,
    );
  }
  // Values from files and YAML block scalars often end in a newline nobody meant as part of it.
  const value = raw.trim();
  if (value === '') {
    throw new IdentityError(
      'HANDOVER_E_IDENTITY_EMPTY',
      `Expected environment variable ${overrideVariable} to hold a worker id, got ${received(raw)}, which is blank`,
    );
  }
  return value;
}

function* lookUp({ hostsPath, hostname, warn }: Settings): Program<HostMatch> {
  const hosts = yield* readHostsText(hostsPath);
  if (!hosts.readable) {
    warn({
      code: 'HANDOVER_W_HOSTS_UNREADABLE',
      message: `Cannot read hosts file ${hostsPath} (${hosts.reason}); treating this as a plain host, not a container`,
    });
    return { addresses: [], aliases: [] };
  }
  const scan = scanHosts(hosts.text);
  const { entries } = scan;
  const ignoredLines = [...scan.ignoredLines, ...hosts.undecodableLines].sort((a, b) => a - b);
  if (ignoredLines.length > 0) {
    const listed = ignoredLines.slice(0, maxLinesListed).join(', ');
    const more =
      ignoredLines.length > maxLinesListed
        ? ` and ${ignoredLines.length - maxLinesListed} more`
        : '';
    warn({
      code: 'HANDOVER_W_HOSTS_LINE',
      message: `Ignored ${ignoredLines.length} line(s) of hosts file ${hostsPath} that are not "<IP address> <name>..." in UTF-8: line ${listed}${more}`,
    });
  }
  return findHost(entries, hostname);
}

function* identityProgram(options: unknown): Program<Identity> {
  const settings = resolveOptions(options);
  const override = readOverride(settings.env);
  if (override === undefined && settings.hostname === '') {
    throw new IdentityError(
      'HANDOVER_E_IDENTITY_EMPTY',
      `Expected a non-empty host name to derive the worker id from, got "" (string); set ${overrideVariable} or pass \`hostname\``,
    );
  }
  const { addresses, aliases } = yield* lookUp(settings);
  const containerized = addresses.length > 0;
  // One container runs one worker, but a plain host may run several under the same name.
  const id =
    override === undefined
      ? hostId(settings.hostname, containerized ? undefined : settings.pid)
      : sanitize(override);
  const source: IdentitySource =
    override !== undefined ? 'env' : containerized ? 'hosts' : 'hostname';
  return Object.freeze({
    id,
    hostname: settings.hostname,
    addresses: Object.freeze([...addresses]),
    aliases: Object.freeze([...aliases]),
    source,
    containerized,
  });
}

/**
 * Reads the worker's identity: its host name, the addresses the hosts file gives it, and a
 * protocol-safe worker id. The id is `HANDOVER_WORKER_ID` when set; else the sanitised host name
 * when the hosts file maps it to a network address (a container); else the sanitised host name
 * plus `-<pid>`, so that two processes on one host differ.
 *
 * @example const { id, addresses } = await readIdentity();
 * @throws {@link IdentityError} (as a rejection) `HANDOVER_E_INVALID_OPTION`,
 * `HANDOVER_E_IDENTITY_EMPTY`, `HANDOVER_E_HOSTS_TOO_LARGE` or `HANDOVER_E_HOSTS_BINARY`. A
 * missing or unreadable hosts file is a warning, not an error.
 */
export function readIdentity(options?: ReadIdentityOptions): Promise<Identity> {
  return runAsync(identityProgram(options));
}

/** {@link readIdentity}, blocking: for start-up code that cannot await. Same result, same errors. */
export function readIdentitySync(options?: ReadIdentityOptions): Identity {
  return runSync(identityProgram(options));
}
