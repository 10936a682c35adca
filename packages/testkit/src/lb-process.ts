import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { waitFor } from './wait.js';

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A load balancer process the test kit started, listening on `port`. */
export interface LbProcess {
  readonly port: number;
  /** Its working directory (config, logs), removed by `stop()`. */
  readonly dir: string;
  /** What it logged. */
  log(): string;
  /** Stops it (`signal`, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Waits until `child` (nginx, HAProxy) listens on `port`, or fails with what it logged if it
 * exits first or does not listen within 10 s (then it is killed).
 */
export async function whenListening(
  child: ChildProcess,
  what: { name: string; port: number; dir: string; log: () => string; stopSignal: NodeJS.Signals },
): Promise<LbProcess> {
  const { name, port, dir, log } = what;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitFor(() => accepts(port), { what: `${name} on port ${port}`, timeoutMs: 10_000 }),
      exited.then(() => {
        throw new Error(`${name} exited with ${child.exitCode}:\n${log()}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    dir,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(what.stopSignal);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
