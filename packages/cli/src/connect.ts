import { readFileSync } from 'node:fs';
import { describeError } from '@handover/core';
import { credentialsFromUrls, redactServer, resolveServers } from '@handover/nats/controller';
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { ConnectFlags } from './args.js';
import { CliError, usageError } from './errors.js';
import { Interrupted, interruptible } from './interrupt.js';

/** nats.js options from the flags: servers, credentials, TLS. Secrets stay out of errors. */
export function connectionOptions(
  flags: ConnectFlags,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionOptions {
  let servers: string[] | undefined;
  try {
    servers = resolveServers({ servers: flags.server }, env);
  } catch (error) {
    // The flag's own name, not the library option's; never the value (it may hold a password).
    throw usageError(
      flags.server === undefined
        ? describeError(error)
        : 'Expected `--server` to be server URLs, comma-separated, none of them empty',
    );
  }
  const options: ConnectionOptions = {
    name: 'handover-cli',
    ...(servers === undefined ? {} : { servers }),
    ...(flags.user === undefined ? {} : { user: flags.user, pass: flags.password ?? '' }),
    ...(flags.token === undefined ? {} : { token: flags.token }),
    ...(flags.creds === undefined
      ? {}
      : { authenticator: credsAuthenticator(readFlagFile('creds', flags.creds)) }),
  };
  if (flags.tlscert !== undefined || flags.tlsca !== undefined) {
    options.tls = {
      ...(flags.tlscert === undefined
        ? {}
        : { cert: readFlagFile('tlscert', flags.tlscert).toString() }),
      ...(flags.tlskey === undefined
        ? {}
        : { key: readFlagFile('tlskey', flags.tlskey).toString() }),
      ...(flags.tlsca === undefined ? {} : { ca: readFlagFile('tlsca', flags.tlsca).toString() }),
    };
  }
  try {
    return credentialsFromUrls(options, flags.server === undefined ? 'NATS_URL' : '--server');
  } catch (error) {
    throw usageError(describeError(error));
  }
}

/** The servers as they may be shown: credentials in URLs replaced by `***`. */
export function shownServers(options: ConnectionOptions): string {
  const { servers } = options;
  if (servers === undefined) return 'nats://127.0.0.1:4222';
  return (Array.isArray(servers) ? servers : [servers]).map(redactServer).join(',');
}

/**
 * Connects within `timeoutMs`, trying each server once, unless `signal` interrupts it; a
 * connection that completes after the bound (or the interruption) is closed. `reconnect` keeps reconnecting afterwards (a `watch` outlives a broker
 * restart); a one-shot command gives up instead.
 */
export async function connectWithin(
  options: ConnectionOptions,
  timeoutMs: number,
  reconnect: boolean,
  signal: AbortSignal,
): Promise<NatsConnection> {
  const pending = connect({
    ...options,
    timeout: timeoutMs,
    waitOnFirstConnect: false,
    maxReconnectAttempts: reconnect ? -1 : 0,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await interruptible(Promise.race([pending, bound]), signal);
  } catch (error) {
    pending.then((nc) => nc.close()).catch(() => {});
    if (error instanceof Interrupted) throw error;
    throw new CliError(
      'HANDOVER_E_CLI_CONNECT',
      `cannot connect to NATS at ${shownServers(options)}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(
      'HANDOVER_E_CLI_CONNECT',
      `cannot read the --${flag} file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: error },
    );
  }
}
