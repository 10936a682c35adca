import { type ChildProcess, spawn } from 'node:child_process';

/** How one nats-server process is launched; `args` is read again at every launch. */
export interface NatsProcessSpec {
  readonly bin: string;
  readonly args: () => readonly string[];
  /** Names the server in messages, e.g. `nats-server on port 4222`. */
  readonly label: () => string;
  readonly startTimeoutMs: number;
}

/**
 * One nats-server process that can be launched again and again (same arguments, same store):
 * the part shared by the single server and every node of a cluster.
 */
export interface NatsProcess {
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Spawns the server; resolves when it logs "Server is ready", rejects with its log if not. */
  launch(): Promise<void>;
  /** Sends `signal` and resolves when the process has exited (at once if it is not running). */
  terminate(signal: NodeJS.Signals): Promise<void>;
  /**
   * Lame-duck mode (SIGUSR2, what `nats-server --signal ldm=<pid>` sends): resolves once the
   * server logs that it entered it; the process then exits on its own (see `exited`).
   */
  lameDuck(): Promise<void>;
  /** Resolves when the current process has exited (at once if none runs). */
  exited(): Promise<void>;
  /** Everything the server has logged, over all launches. */
  log(): string;
}

/** Resolves when `output()` gains `text` after `from`; rejects on exit or after `timeoutMs`. */
function waitForLog(
  child: ChildProcess,
  text: string,
  from: number,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`nats-server did not log "${text}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (): void => {
      if (output().slice(from).includes(text)) done();
    };
    // 'close' comes after the last of stderr: a line logged just before exiting counts.
    const onExit = (code: number | null): void => {
      if (output().slice(from).includes(text)) done();
      else fail(new Error(`nats-server exited with ${code}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('close', onExit);
    };
    const done = (): void => {
      cleanup();
      resolve();
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(new Error(`${error.message}\n${output().slice(from).slice(-2000)}`));
    };
    child.stderr?.on('data', onData);
    child.once('close', onExit);
    onData();
  });
}

const isRunning = (proc: ChildProcess | undefined): proc is ChildProcess =>
  proc !== undefined && proc.exitCode === null && proc.signalCode === null;

/** A nats-server process of `spec`, not started yet. */
export function natsProcess(spec: NatsProcessSpec): NatsProcess {
  let child: ChildProcess | undefined;
  let output = '';
  // Set when the test ends the process itself, so its exit is not reported as a crash.
  let stopping = false;

  const launch = async (): Promise<void> => {
    stopping = false;
    // Only this launch's log, and only once it was up: a failed start is reported by the
    // rejection below.
    const from = output.length;
    let up = false;
    const proc = spawn(spec.bin, [...spec.args()], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      output += chunk;
    });
    // A broker that dies under a test is the likeliest cause of what fails next: say so.
    proc.once('exit', (code, signal) => {
      if (stopping || !up) return;
      // A Go panic's first lines say what went wrong; otherwise the end of the log does.
      const log = output.slice(from);
      const panic = log.search(/^panic:|^fatal error:/m);
      const excerpt = panic >= 0 ? log.slice(panic, panic + 3000) : log.slice(-2000);
      process.stderr.write(
        `[testkit] ${spec.label()} exited unexpectedly (${signal ?? `code ${code}`}):\n${excerpt}\n`,
      );
    });
    child = proc;
    await waitForLog(proc, 'Server is ready', from, spec.startTimeoutMs, () => output);
    up = true;
  };

  const exited = (): Promise<void> => {
    const proc = child;
    if (!isRunning(proc)) return Promise.resolve();
    return new Promise((resolve) => proc.once('exit', () => resolve()));
  };

  return {
    get running() {
      return isRunning(child);
    },
    get pid() {
      return isRunning(child) ? child.pid : undefined;
    },
    launch,
    exited,
    terminate: async (signal) => {
      const proc = child;
      if (!isRunning(proc)) return;
      stopping = true;
      const done = exited();
      proc.kill(signal);
      await done;
    },
    lameDuck: async () => {
      const proc = child;
      if (!isRunning(proc)) throw new Error(`${spec.label()} is not running`);
      stopping = true;
      const entered = waitForLog(
        proc,
        'Entering lame duck mode',
        output.length,
        10_000,
        () => output,
      );
      proc.kill('SIGUSR2');
      await entered;
    },
    log: () => output,
  };
}
