import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { getStablePort } from './stable-port.js';

/** Finds a `nats-server` binary: `NATS_SERVER_BIN`, then `PATH`, then Debian's `/usr/sbin`. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findBinary(
    'nats-server',
    'NATS_SERVER_BIN',
    ['/usr/sbin/nats-server', '/usr/local/bin/nats-server'],
    env,
  );
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Enable JetStream (store in the server's temporary directory). @default true */
  readonly jetstream?: boolean;
  /** Content of a configuration file (auth, TLS, limits), passed with `-c`. */
  readonly config?: string;
  /** Extra command-line arguments. */
  readonly args?: readonly string[];
  /** How long to wait for "Server is ready". @default 10000 */
  readonly startTimeoutMs?: number;
}

/** A private nats-server on a free port, which a test can stop, kill and restart. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Temporary directory holding the JetStream store and config; removed by `dispose()`. */
  readonly dir: string;
  readonly running: boolean;
  /** Graceful stop (SIGTERM); resolves when the process has exited. */
  stop(): Promise<void>;
  /** Crash (SIGKILL); resolves when the process has exited. */
  kill(): Promise<void>;
  /**
   * Starts again on the same port, with the same store, or with an empty one when `fresh`
   * (a broker that lost its JetStream state).
   */
  restart(options?: { readonly fresh?: boolean }): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
  /** Everything the server has logged. */
  log(): string;
}

function waitReady(child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  // Only what this process logged counts: a restart appends to the same output.
  const from = output().length;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`nats-server not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (): void => {
      if (output().slice(from).includes('Server is ready')) done();
    };
    const onExit = (code: number | null): void =>
      fail(new Error(`nats-server exited with ${code}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    const done = (): void => {
      cleanup();
      resolve();
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(new Error(`${error.message}\n${output().slice(-2000)}`));
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    onData();
  });
}

/** Starts a private nats-server (JetStream on by default) on a free 127.0.0.1 port. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = findNatsServer();
  if (!bin)
    throw new Error(
      'nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN',
    );
  const dir = mkdtempSync(join(tmpdir(), 'handover-nats-'));
  // Below the ephemeral range: while the server is stopped for a fault test, no outgoing
  // connection (nor another file's getFreePort) can take its port, so it restarts on it.
  let port = await getStablePort();
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (options.jetstream ?? true) args.push('-js', '-sd', join(dir, 'store'));
  if (options.config !== undefined) {
    const file = join(dir, 'server.conf');
    writeFileSync(file, options.config);
    args.push('-c', file);
  }
  args.push(...(options.args ?? []));
  let child: ChildProcess | undefined;
  let output = '';

  let stopping = false;

  const launch = async (): Promise<void> => {
    stopping = false;
    // Only this launch's log, and only once it was up: a failed start is waitReady's to report.
    const from = output.length;
    let up = false;
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
        `[testkit] nats-server on port ${port} exited unexpectedly (${signal ?? `code ${code}`}):\n${excerpt}\n`,
      );
    });
    child = proc;
    await waitReady(proc, options.startTimeoutMs ?? 10_000, () => output);
    up = true;
  };
  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    stopping = true;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };

  // The port was free a moment ago; if something took it since, try another.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test((error as Error).message)) throw error;
      port = await getStablePort();
      args[args.indexOf('-p') + 1] = String(port);
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async (restartOptions = {}) => {
      await terminate('SIGTERM');
      if (restartOptions.fresh) rmSync(join(dir, 'store'), { recursive: true, force: true });
      await launch();
    },
    dispose: async () => {
      await terminate('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
