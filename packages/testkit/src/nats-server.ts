import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { natsProcess } from './nats-process.js';
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
  /** The process id while it runs. */
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM; nats-server 2.9 then exits with code 1); resolves on exit. */
  stop(): Promise<void>;
  /** Crash (SIGKILL); resolves when the process has exited. */
  kill(): Promise<void>;
  /**
   * Starts again on the same port, with the same store, or with an empty one when `fresh`
   * (a broker that lost its JetStream state).
   */
  restart(options?: { readonly fresh?: boolean }): Promise<void>;
  /**
   * Lame-duck mode (SIGUSR2, as `nats-server --signal ldm=<pid>`): the server stops accepting
   * clients, hands over its JetStream leaderships, tells its clients (INFO `ldm: true`), and
   * after its grace period closes them one by one and exits. Resolves once it has entered the
   * mode; `exited()` resolves at the end.
   */
  lameDuck(): Promise<void>;
  /** Resolves when the process has exited (at once if it is not running). */
  exited(): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
  /** Everything the server has logged. */
  log(): string;
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
  const server = natsProcess({
    bin,
    args: () => args,
    label: () => `nats-server on port ${port}`,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
  });
  // The port was free a moment ago; if something took it since, try another.
  await launchRetryingPort(server.launch, async () => {
    port = await getStablePort();
    args[args.indexOf('-p') + 1] = String(port);
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return server.running;
    },
    get pid() {
      return server.pid;
    },
    lameDuck: server.lameDuck,
    exited: server.exited,
    stop: () => server.terminate('SIGTERM'),
    kill: () => server.terminate('SIGKILL'),
    restart: async (restartOptions = {}) => {
      await server.terminate('SIGTERM');
      if (restartOptions.fresh) rmSync(join(dir, 'store'), { recursive: true, force: true });
      await server.launch();
    },
    dispose: async () => {
      await server.terminate('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    log: server.log,
  };
}

/**
 * Runs `launch`, and when it fails because its port was taken in the meantime (another test
 * file's server got it first), calls `repick` and tries again, up to 3 times in all.
 */
export async function launchRetryingPort(
  launch: () => Promise<void>,
  repick: () => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      return;
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test((error as Error).message)) throw error;
      await repick();
    }
  }
}
