import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of a script in packages/bench/fixtures. */
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Runs `node script` to completion; returns its wall time and stdout. */
export function runNode(
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}

/**
 * Starts `node script`, waits until it prints a line containing `readyText`, sends `signal`
 * and returns the milliseconds from the signal to the exit, with the exit code.
 */
export function signalToExit(
  script: string,
  options: {
    env?: NodeJS.ProcessEnv;
    readyText?: string;
    signal?: NodeJS.Signals;
    timeoutMs?: number;
  } = {},
): Promise<{ ms: number; code: number | null }> {
  const { env = {}, readyText = 'ready', signal = 'SIGTERM', timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let sentAt: bigint | undefined;
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      if (sentAt === undefined && buffer.includes(readyText)) {
        sentAt = process.hrtime.bigint();
        child.kill(signal);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (sentAt === undefined)
        return reject(new Error(`${script} exited (${code}) before it was ready`));
      resolve({ ms: Number(process.hrtime.bigint() - sentAt) / 1e6, code });
    });
  });
}

/** A child started with {@link startNode}: resolves once it printed `readyText`. */
export interface Started {
  readonly child: import('node:child_process').ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<{ ms: number; code: number | null }>;
}

/** Starts `node script`, resolving when it prints `readyText`; `stop()` times signal → exit. */
export function startNode(
  script: string,
  env: NodeJS.ProcessEnv = {},
  readyText = 'ready',
): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    child.once('exit', (code) =>
      reject(new Error(`${script} exited (${code}) before it was ready`)),
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      if (!buffer.includes(readyText)) return;
      child.removeAllListeners('exit');
      buffer = '';
      resolve({
        child,
        stop: (signal = 'SIGTERM') =>
          new Promise((done) => {
            const sentAt = process.hrtime.bigint();
            child.once('exit', (code) =>
              done({ ms: Number(process.hrtime.bigint() - sentAt) / 1e6, code }),
            );
            child.kill(signal);
          }),
      });
    });
  });
}
