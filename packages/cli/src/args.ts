import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import { usageError } from './errors.js';
import { type CommandName, commands } from './usage.js';

/** How to reach NATS, from flags and the nats CLI's environment variables. */
export interface ConnectFlags {
  /** `--server`, as given (the server list is resolved with `NATS_URL` later). */
  readonly server?: string | undefined;
  readonly creds?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
  readonly tlsca?: string | undefined;
  /** Bound on connecting. @default 5000 */
  readonly timeoutMs: number;
}

/** A parsed command line. */
export type Invocation =
  | { readonly kind: 'help'; readonly command?: CommandName }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'run';
      readonly command: CommandName;
      readonly service: string | undefined;
      readonly json: boolean;
      /** `watch`: subject prefix of the events. */
      readonly prefix: string;
      /** `stats`: how long answers are collected. */
      readonly waitMs: number;
      readonly connection: ConnectFlags;
    };

const options = {
  server: { type: 'string', short: 's' },
  creds: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  tlsca: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  prefix: { type: 'string' },
  wait: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Flags only some commands take; every other flag is common to all. */
const commandFlags = new Set(['json', 'prefix', 'wait']);
const servicePattern = /^[A-Za-z0-9_-]{1,64}$/;
const prefixPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const isCommand = (name: string | undefined): name is CommandName =>
  name !== undefined && Object.hasOwn(commands, name);

/**
 * Parses `argv` (without `node` and the script). Throws a usage error (`HANDOVER_E_CLI_USAGE`)
 * for an unknown command or flag, a missing or extra argument, or a bad value; the message
 * never repeats a credential.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util names the flag, never its value.
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (name === 'help') {
    if (rest.length > 1 || (rest[0] !== undefined && !isCommand(rest[0]))) {
      throw usageError(`Unknown command ${JSON.stringify(rest.join(' '))}`);
    }
    return isCommand(rest[0]) ? { kind: 'help', command: rest[0] } : { kind: 'help' };
  }
  if (values.version) return { kind: 'version' };
  if (name === undefined) {
    if (values.help) return { kind: 'help' };
    throw usageError('Missing command');
  }
  if (!isCommand(name)) throw usageError(`Unknown command ${JSON.stringify(name)}`);
  if (values.help) return { kind: 'help', command: name };
  const command = commands[name];
  for (const flag of Object.keys(values)) {
    if (commandFlags.has(flag) && !command.flags.includes(flag)) {
      throw usageError(`\`handover ${name}\` has no option --${flag}`);
    }
  }
  if (rest.length > 1) throw usageError(`Unexpected argument ${JSON.stringify(rest[1])}`);
  const service = rest[0];
  if (service === undefined && command.service === 'required') {
    throw usageError(`Missing argument: handover ${name} ${command.args}`);
  }
  if (service !== undefined && !servicePattern.test(service)) {
    throw usageError(
      `Expected the service to be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(service)}`,
    );
  }
  const prefix = values.prefix ?? 'handover';
  if (!prefixPattern.test(prefix)) {
    throw usageError(
      `Expected \`--prefix\` to be dot-separated tokens of [A-Za-z0-9_-], got ${JSON.stringify(prefix)}`,
    );
  }
  return {
    kind: 'run',
    command: name,
    service,
    json: values.json ?? false,
    prefix,
    waitMs: values.wait === undefined ? 1000 : parseDuration('wait', values.wait),
    connection: connectFlags(values, env),
  };
}

/** The connection flags, each falling back to the variable the nats CLI reads. */
function connectFlags(
  values: Partial<Record<keyof typeof options, string | boolean>>,
  env: Readonly<Record<string, string | undefined>>,
): ConnectFlags {
  const pick = (flag: keyof typeof options, variable: string): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') return value;
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const flags = {
    server: typeof values.server === 'string' ? values.server : undefined,
    creds: pick('creds', 'NATS_CREDS'),
    user: pick('user', 'NATS_USER'),
    password: pick('password', 'NATS_PASSWORD'),
    token: pick('token', 'NATS_TOKEN'),
    tlscert: pick('tlscert', 'NATS_CERT'),
    tlskey: pick('tlskey', 'NATS_KEY'),
    tlsca: pick('tlsca', 'NATS_CA'),
  };
  const timeout = pick('timeout', 'NATS_TIMEOUT');
  const ways = [flags.creds, flags.user, flags.token].filter((v) => v !== undefined).length;
  if (ways > 1) throw usageError('Give one of --creds, --user/--password and --token');
  if (flags.password !== undefined && flags.user === undefined) {
    throw usageError('--password needs --user');
  }
  if ((flags.tlscert === undefined) !== (flags.tlskey === undefined)) {
    throw usageError('--tlscert and --tlskey go together');
  }
  return {
    ...flags,
    timeoutMs: timeout === undefined ? 5000 : parseDuration('timeout', timeout, { maxMs: 600_000 }),
  };
}
