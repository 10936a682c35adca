import { constants } from 'node:os';
import type { ProcessPort } from './options.js';

/** What the worker does with process-level events. */
export interface ProcessHandlers {
  onSignal(signal: NodeJS.Signals): void;
  onFatal(reason: 'uncaughtException' | 'unhandledRejection', error: unknown): void;
}

/**
 * Installs the signal handlers, and the fatal-error handlers when the worker owns the process.
 * A handler installed for a signal also makes it work for PID 1, which the kernel otherwise
 * shields from default signal actions. Returns a function that removes every handler.
 */
export function wireProcess(
  proc: ProcessPort,
  signals: readonly NodeJS.Signals[],
  ownsProcess: boolean,
  handlers: ProcessHandlers,
): () => void {
  const installed: [string, (...args: unknown[]) => void][] = [];
  for (const signal of signals) {
    installed.push([signal, () => handlers.onSignal(signal)]);
  }
  if (ownsProcess) {
    installed.push([
      'uncaughtException',
      (error: unknown) => handlers.onFatal('uncaughtException', error),
    ]);
    installed.push([
      'unhandledRejection',
      (reason: unknown) => handlers.onFatal('unhandledRejection', reason),
    ]);
  }
  for (const [event, listener] of installed) proc.on(event, listener);
  return () => {
    for (const [event, listener] of installed) proc.off(event, listener);
  };
}

/** The conventional exit code of a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: string): number {
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? 1 : 128 + number;
}

/** What a handled signal does: the policy of docs/lifecycle.md ("Signals and exit codes"). */
export type SignalAction = 'drain' | 'exit-now' | 'ignore';

/**
 * The first handled signal starts the drain; while stopping, SIGINT (a second Ctrl-C) exits at
 * once and any other signal is logged and ignored (a platform resending SIGTERM).
 */
export function signalAction(signal: NodeJS.Signals, stopping: boolean): SignalAction {
  if (!stopping) return 'drain';
  return signal === 'SIGINT' ? 'exit-now' : 'ignore';
}
