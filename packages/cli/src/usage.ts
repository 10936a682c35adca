/** The commands of `handover`. */
export type CommandName = 'ls' | 'watch' | 'stats';

/** What each command takes besides the connection flags, for parsing and for `--help`. */
export const commands: Readonly<
  Record<
    CommandName,
    {
      readonly args: string;
      readonly service: 'optional' | 'required';
      readonly summary: string;
      readonly flags: readonly string[];
      readonly help: string;
    }
  >
> = {
  ls: {
    args: '[service]',
    service: 'optional',
    summary: 'list the workers of a service (or of every service) from the registry',
    flags: ['json'],
    help: `Lists the workers of <service> from its registry bucket handover_<service>: id, version,
state, tasks in flight / concurrency, heartbeat age (on this machine's clock, from the last
write the server stored), uptime, addresses and HTTP URL. Entries silent for 3 x their
heartbeat are marked stale; a registry whose every entry went silent at once is reported as
stalled, and the workers that answer $SRV.PING are shown alive. Without a service, lists
every handover_* bucket.

  --json    one JSON document instead of the table`,
  },
  watch: {
    args: '<service>',
    service: 'required',
    summary: 'follow the workers of a service live, with every transition',
    flags: ['json', 'prefix'],
    help: `Follows the workers of <service> live (registry and lifecycle events) and reports each
transition as it happens: ready, draining (with the reason), gone (with the drain time and
the number of tasks abandoned at the deadline, or stale). On a terminal the table is redrawn;
otherwise one line per transition. Ends with Ctrl-C (exit 0).

  --json           one JSON object per line (a transition or registry state)
  --prefix <p>     subject prefix of the workers' events (default: handover)`,
  },
  stats: {
    args: '<service>',
    service: 'required',
    summary: 'the $SRV STATS of every instance of a service',
    flags: ['json', 'wait'],
    help: `Asks every instance of <service> for its NATS service statistics ($SRV.STATS.<service>):
requests, errors, average processing time, lifecycle state and tasks in flight.

  --json           one JSON document instead of the table
  --wait <d>       how long to collect answers (default: 1s)`,
  },
};

const connectionHelp = `Connection (as the nats CLI takes it):
  -s, --server <urls>   NATS server URLs, comma-separated (env NATS_URL; default
                        nats://127.0.0.1:4222); nats://user:pass@host works too
  --creds <file>        a .creds file: JWT and NKey seed (env NATS_CREDS)
  --user <name>         user name (env NATS_USER), with --password (env NATS_PASSWORD)
  --token <token>       an authentication token (env NATS_TOKEN)
  --tlscert <file>      client certificate, with --tlskey <file> (env NATS_CERT, NATS_KEY)
  --tlsca <file>        CA certificate to trust (env NATS_CA)
  --timeout <d>         give up connecting after this long (env NATS_TIMEOUT; default: 5s)
Durations: 5s, 500ms, 1m (a bare number is seconds).`;

const exitHelp = `Exit codes: 0 done, 1 failed (broker unreachable, no such service), 2 usage error.`;

/** `handover --help`. */
export function mainUsage(): string {
  const list = (Object.keys(commands) as CommandName[])
    .map((name) => `  ${`${name} ${commands[name].args}`.padEnd(18)}${commands[name].summary}`)
    .join('\n');
  return `Usage: handover <command> [options]

Commands:
${list}
  help [command]    this text, or a command's

${connectionHelp}

  -h, --help            help
  --version             the version of @handover/cli

${exitHelp}
`;
}

/** `handover <command> --help`. */
export function commandUsage(name: CommandName): string {
  const command = commands[name];
  return `Usage: handover ${name} ${command.args} [options]

${command.help}

${connectionHelp}

${exitHelp}
`;
}
