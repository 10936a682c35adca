/** Where the command writes: a stream such as `process.stdout`, or a test's buffer. */
export interface Output {
  write(text: string): unknown;
  /** A terminal: `watch` redraws its table in place. */
  readonly isTTY?: boolean;
  /** The terminal's width; wider lines are cut when redrawing. */
  readonly columns?: number;
}

/** What a command runs with; the bin passes the process's own. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** The environment: `NATS_URL` and the other variables of the nats CLI. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The clock that ages and times are measured on. @default Date.now */
  readonly now?: () => number;
  /** Time zone of the times `watch` prints. @default the system's */
  readonly timeZone?: string;
  /** Ends a running `watch` (the bin fires it on SIGINT and SIGTERM); it then exits 0. */
  readonly signal?: AbortSignal;
}

/** What a command needs from {@link CliIo}, with the defaults applied. */
export interface Context {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
  readonly timeZone: string | undefined;
  readonly signal: AbortSignal;
}

/** {@link CliIo} with its defaults. */
export function contextOf(io: CliIo): Context {
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    now: io.now ?? Date.now,
    timeZone: io.timeZone,
    signal: io.signal ?? new AbortController().signal,
  };
}
