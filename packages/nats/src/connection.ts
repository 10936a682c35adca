import { readFileSync } from 'node:fs';
import { describeError, isHandoverError, type Logger } from '@handover/core';
import {
  AuthorizationError,
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { NatsAdapterError } from './errors.js';
import { parseServers, serversEnv } from './servers.js';
import { invalidOption } from './validate.js';

/** How the adapter reaches NATS. Every nats.js option passes through untouched. */
export interface ConnectionSettings {
  /**
   * The NATS server(s): a URL, a comma-separated list of URLs (as `NATS_URL` is written for the
   * Go client and the `nats` CLI), or an array. nats.js tries them in random order and learns
   * the rest of a cluster from the server it reaches. Credentials in the URLs
   * (`nats://user:pass@host`) apply to the whole list.
   * @default `connection.servers`, else env `NATS_URL`, else `nats://127.0.0.1:4222`
   */
  readonly servers?: string | readonly string[] | undefined;
  /**
   * nats.js connection options: `servers`, `token`, `user`/`pass`, `authenticator` (nkey,
   * JWT), `tls`, `name`, ... Credentials in server URLs (`nats://user:pass@host`) are moved
   * into `user`/`pass` (`token` without a colon). Handover waits for a broker that is down at
   * start (logging why each attempt failed) and sets `maxReconnectAttempts: -1` unless you set
   * it: a worker reconnects forever. Nothing of these options is ever logged.
   * @default {}
   */
  readonly connection?: ConnectionOptions | undefined;
  /** Path of a `.creds` file (JWT + nkey seed), read once at connect. */
  readonly credsFile?: string | undefined;
}

/**
 * Splits `scheme://userinfo@host:port` (scheme optional) at the last `@` of the authority, so a
 * password with an unencoded `@` stays whole. `userinfo` is undefined when there is none.
 */
function splitUserinfo(server: string): {
  scheme: string;
  userinfo: string | undefined;
  rest: string;
} {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(server)?.[0] ?? '';
  const afterScheme = server.slice(scheme.length);
  const slash = afterScheme.indexOf('/');
  const authorityEnd = slash === -1 ? afterScheme.length : slash;
  const at = afterScheme.lastIndexOf('@', authorityEnd - 1);
  if (at === -1) return { scheme, userinfo: undefined, rest: afterScheme };
  return { scheme, userinfo: afterScheme.slice(0, at), rest: afterScheme.slice(at + 1) };
}

/** `nats://user:secret@host:4222` → `nats://***@host:4222`: server lists are logged redacted. */
export function redactServer(server: string): string {
  const { scheme, userinfo, rest } = splitUserinfo(server);
  return userinfo === undefined ? server : `${scheme}***@${rest}`;
}

/**
 * nats.js ignores `user:pass@` in server URLs, yet `NATS_URL=nats://user:pass@host:4222` is how
 * many deployments pass credentials. Moves them into `user`/`pass` (or `token` when there is no
 * colon) and strips them from the URLs, so they never sit in nats.js's server list either.
 * `source` names where the servers came from in an error (an option, or `NATS_URL`).
 */
export function credentialsFromUrls(
  options: ConnectionOptions,
  source = 'connection.servers',
): ConnectionOptions {
  const { servers } = options;
  if (servers === undefined) return options;
  const list = Array.isArray(servers) ? servers : [servers];
  const found = new Set<string>();
  const stripped = list.map((server) => {
    const { scheme, userinfo, rest } = splitUserinfo(server);
    if (userinfo === undefined) return server;
    found.add(userinfo);
    return `${scheme}${rest}`;
  });
  if (found.size === 0) return options;
  if (found.size > 1) {
    throw invalidOption(source, '(redacted)', 'URLs that carry the same credentials, or none');
  }
  if (
    options.user !== undefined ||
    options.token !== undefined ||
    options.authenticator !== undefined
  ) {
    throw invalidOption(
      source,
      '(redacted)',
      'URLs without credentials when `user`, `token` or `authenticator` is set',
    );
  }
  const [userinfo = ''] = found;
  const colon = userinfo.indexOf(':');
  const decode = (part: string): string => decodeURIComponent(part);
  const auth =
    colon === -1
      ? { token: decode(userinfo) }
      : { user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) };
  return { ...options, ...auth, servers: Array.isArray(servers) ? stripped : stripped[0] };
}

function serverList(options: ConnectionOptions): string[] {
  const { servers, port } = options;
  if (servers === undefined) return [port === undefined ? '127.0.0.1:4222' : `127.0.0.1:${port}`];
  return (Array.isArray(servers) ? servers : [servers]).map(redactServer);
}

/**
 * The server list: the `servers` option, else `connection.servers`, else `NATS_URL`, else
 * nats.js's default (`127.0.0.1:4222`).
 */
export function resolveServers(
  settings: ConnectionSettings,
  env: Readonly<Record<string, string | undefined>>,
): string[] | undefined {
  if (settings.servers !== undefined) return parseServers(settings.servers, 'option');
  const own = settings.connection?.servers;
  if (own !== undefined) return parseServers(own, 'option');
  const fromEnv = env[serversEnv];
  return fromEnv === undefined || fromEnv.trim() === '' ? undefined : parseServers(fromEnv, 'env');
}

/** How often a failed first connection is logged: the first failure, then every 30 s. */
const logEveryMs = 30_000;

/** What {@link openConnection} needs besides the settings. */
export interface ConnectContext {
  /** The connection's name, as the server shows it. */
  readonly name: string;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Told why the worker is still waiting, after each failed attempt. */
  readonly waiting: (detail: string) => void;
}

/**
 * Connects, retrying (every `reconnectTimeWait`, default 2 s) while the broker is down, until
 * `signal` fires. Unlike nats.js's `waitOnFirstConnect`, every retry's reason (refused, TLS,
 * timeout) is logged and reported, and an authorization failure ends the wait at once: it will
 * not fix itself. When `signal` fires because the worker's `connectTimeoutMs` ran out, the wait
 * ends with `HANDOVER_E_NATS_CONNECT` naming the servers (redacted) and the last error. A
 * connection that completes after the abort is closed.
 */
export async function openConnection(
  settings: ConnectionSettings,
  signal: AbortSignal,
  { name, logger, env, waiting }: ConnectContext,
): Promise<NatsConnection> {
  const options = connectionOptions(settings, env, name);
  const shown = serverList(options);
  logger.info({ servers: shown }, 'connecting to NATS');
  let loggedAt = Number.NEGATIVE_INFINITY;
  let last = 'no attempt finished';
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw gaveUp(signal.reason, shown, last);
    try {
      return await abortable(connect({ ...options, waitOnFirstConnect: false }), signal);
    } catch (error) {
      if (signal.aborted) throw gaveUp(signal.reason, shown, last);
      if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError) {
        throw new NatsAdapterError(
          'HANDOVER_E_NATS_CONNECT',
          `NATS refused the credentials: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
      last = describeError(error);
      waiting(`connecting to ${shown.join(',')}: ${last} (attempt ${attempt})`);
      if (Date.now() - loggedAt >= logEveryMs) {
        loggedAt = Date.now();
        logger.warn(
          { attempt, error: last, servers: shown },
          'cannot connect to NATS yet; retrying (set HANDOVER_CONNECT_TIMEOUT_MS to bound the wait)',
        );
      }
    }
    await sleep(options.reconnectTimeWait ?? 2000, signal);
  }
}

/**
 * The temporary second connection of a lame-duck move (make before break): the worker's
 * settings (auth, TLS, creds; its connection's name with `:move` appended), but `servers`
 * instead of the configured list, and no reconnect: each server is tried once. Rejects when
 * all refuse, or when `signal` fires (a connection that completes afterwards is closed).
 */
export function openMoveConnection(
  settings: ConnectionSettings,
  signal: AbortSignal,
  { name, env, servers }: { name: string; env: ConnectContext['env']; servers: string[] },
): Promise<NatsConnection> {
  const options = connectionOptions(settings, env, name);
  return abortable(
    connect({
      ...options,
      name: `${options.name ?? name}:move`,
      servers,
      reconnect: false,
      maxReconnectAttempts: 0,
      waitOnFirstConnect: false,
    }),
    signal,
  );
}

/**
 * The nats.js options: the user's, with the resolved servers, credentials moved out of the URLs
 * and the creds file read; a worker reconnects forever unless told otherwise.
 */
function connectionOptions(
  settings: ConnectionSettings,
  env: ConnectContext['env'],
  name: string,
): ConnectionOptions {
  const servers = resolveServers(settings, env);
  const options = credentialsFromUrls({
    name,
    maxReconnectAttempts: -1,
    ...settings.connection,
    ...(servers === undefined ? {} : { servers }),
  });
  if (settings.credsFile !== undefined) options.authenticator = readCreds(settings.credsFile);
  return options;
}

/** The error for a wait that ended: a connect timeout says what it waited for, a stop is kept. */
function gaveUp(reason: unknown, servers: readonly string[], last: string): unknown {
  if (!isHandoverError(reason, 'HANDOVER_E_CONNECT_TIMEOUT')) return reason;
  return new NatsAdapterError(
    'HANDOVER_E_NATS_CONNECT',
    `cannot connect to NATS at ${servers.join(',')}: ${reason.message}; last error: ${last}`,
    { cause: reason },
  );
}

function readCreds(path: string): ReturnType<typeof credsAuthenticator> {
  try {
    return credsAuthenticator(readFileSync(path));
  } catch (error) {
    throw new NatsAdapterError(
      'HANDOVER_E_NATS_CONNECT',
      `cannot read credsFile ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: error },
    );
  }
}

/** Rejects when `signal` fires; a connection that arrives afterwards is closed. */
function abortable(pending: Promise<NatsConnection>, signal: AbortSignal): Promise<NatsConnection> {
  return new Promise<NatsConnection>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      pending.then((nc) => nc.close()).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (nc) => {
        signal.removeEventListener('abort', onAbort);
        resolve(nc);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` or when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Whether `step` resolved within `ms` (rejects if it failed first); the timer is cleared. */
export async function within(step: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = step.then(() => true as const);
  // Failing after the bound is nobody's concern: not an unhandled rejection.
  done.catch(() => {});
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the connected server's version is at least `major.minor`. */
export function serverAtLeast(
  nc: Pick<NatsConnection, 'info'>,
  major: number,
  minor: number,
  patch = 0,
): boolean {
  const [have = 0, haveMinor = 0, havePatch = 0] = (nc.info?.version ?? '0.0.0')
    .split(/[.-]/)
    .map(Number);
  if (have !== major) return have > major;
  if (haveMinor !== minor) return haveMinor > minor;
  return havePatch >= patch;
}

/**
 * Warnings about the connected server that an operator should act on. nats-server before
 * 2.9.15 lists a stream before its store is set up, so a `$JS.API.STREAM.MSG.GET` arriving
 * during the stream's creation dereferences nil and the whole server exits (seen in this
 * project's tests on 2.9.10; fixed in 2.9.15). Handover reads its buckets with direct gets,
 * which are served only once the store exists, but other clients of the same buckets may not.
 */
export function serverWarnings(nc: Pick<NatsConnection, 'info'>, usesJetStream: boolean): string[] {
  const warnings: string[] = [];
  if (usesJetStream && !serverAtLeast(nc, 2, 9, 15)) {
    warnings.push(
      `nats-server ${nc.info?.version ?? 'unknown'} can crash when a client reads a stream message (STREAM.MSG.GET, e.g. a KV get without direct get) while that stream is being created: upgrade to 2.9.15 or later`,
    );
  }
  return warnings;
}

/** What the connected server can do, checked once at connect. */
export function checkServer(nc: NatsConnection, needsJetStream: boolean, logger: Logger): void {
  const info = nc.info;
  const version = info?.version ?? 'unknown';
  if (!info?.headers) {
    throw new NatsAdapterError(
      'HANDOVER_E_NATS_UNSUPPORTED_SERVER',
      `nats-server ${version} does not support headers (2.2 or later needed for service errors)`,
    );
  }
  if (needsJetStream && !info.jetstream) {
    throw new NatsAdapterError(
      'HANDOVER_E_NATS_UNSUPPORTED_SERVER',
      `nats-server ${version} has JetStream disabled: the registry (KV) needs it (start the server with -js, or pass registry: false)`,
    );
  }
  const missing: string[] = [];
  if (!serverAtLeast(nc, 2, 11)) {
    missing.push(
      'per-key TTL and KV expiry markers (2.11): staleness is read from heartbeatAt instead',
    );
    missing.push('reasons on JetStream term (2.11): the worker logs them instead');
  }
  logger.info(
    { server: nc.getServer(), serverVersion: version, newerServerWouldAdd: missing },
    'connected to NATS',
  );
  for (const warning of serverWarnings(nc, needsJetStream)) {
    logger.warn({ serverVersion: version }, warning);
  }
}
