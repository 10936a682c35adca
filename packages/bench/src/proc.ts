import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Resolves with the first match of `pattern` in what `child` prints from now on. */
export function waitForOutput(
  child: import('node:child_process').ChildProcess,
  pattern: RegExp,
  timeoutMs = 120_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.stdout?.off('data', onData);
      reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: string): void => {
      buffer += chunk;
      const match = pattern.exec(buffer);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(match);
    };
    child.stdout?.on('data', onData);
  });
}

/**
 * CPU time (user + system, ms) used so far by the nats-server listening on `port`, read from
 * /proc (Linux); `undefined` elsewhere. Resolution: the kernel's clock tick (10 ms).
 */
export function natsServerCpuMs(port: number): number | undefined {
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const args = cmdline.split('\0');
      if (!args[0]?.endsWith('nats-server') || !args.includes(String(port))) continue;
      // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
