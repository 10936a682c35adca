import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type WaitOptions, waitFor, within } from './wait.js';

/** A JSON log line a child printed (pino format). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Epoch ms of the exit. */
  readonly at: number;
}

/** Options of {@link spawnNode}. */
export interface SpawnOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Run this instead of `node <script>` (e.g. `unshare`); the script and args follow. */
  readonly wrapper?: readonly string[];
}

/** A child Node process whose stdout is read as log lines. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Every stdout line that parsed as a JSON object. */
  readonly logs: readonly LogLine[];
  /** Everything written to stderr. */
  stderr(): string;
  /** Resolves with the first log line matching `match` (already printed or to come). */
  waitForLog(match: (line: LogLine) => boolean, options?: WaitOptions): Promise<LogLine>;
  /** Sends a signal. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process exits. */
  readonly exited: Promise<ChildExit>;
  /** Waits for the exit, failing after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<ChildExit>;
}

/** Children still running, for {@link reapChildren}. */
const running = new Set<ChildProcess>();

/**
 * Kills every child started by {@link spawnNode} that is still running. The test setup calls
 * it after each test file, so a test that fails half-way leaves no process behind.
 */
export function reapChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts `node script` with the given environment; stdout is parsed as JSON log lines. */
export function spawnNode(script: string, options: SpawnOptions = {}): Child {
  const env = { ...process.env, ...options.env };
  const nodeArgs = [script, ...(options.args ?? [])];
  const [command, ...rest] = options.wrapper
    ? [...options.wrapper, process.execPath, ...nodeArgs]
    : [process.execPath, ...nodeArgs];
  const child = spawn(command as string, rest, {
    cwd: options.cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          logs.push(parsed as LogLine);
      } catch {}
    });
  }
  running.add(child);
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const describe = (): string =>
    `\n--- stdout (last 20 lines) ---\n${lines.slice(-20).join('\n')}\n--- stderr ---\n${stderr.slice(-2000)}`;
  return {
    process: child,
    pid: child.pid ?? -1,
    lines,
    logs,
    stderr: () => stderr,
    waitForLog: async (match, waitOptions) => {
      try {
        return await waitFor(() => logs.find(match), { what: 'a log line', ...waitOptions });
      } catch (error) {
        throw new Error(`${(error as Error).message}${describe()}`);
      }
    },
    signal: (signal) => {
      child.kill(signal);
    },
    exited,
    waitForExit: async (timeoutMs = 15_000) => {
      try {
        return await within(exited, timeoutMs, `process ${child.pid} to exit`);
      } catch (error) {
        child.kill('SIGKILL');
        throw new Error(`${(error as Error).message}${describe()}`);
      }
    },
  };
}
