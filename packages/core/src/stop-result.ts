import { signalExitCode } from './process.js';
import type { ShutdownOutcome } from './shutdown.js';
import type { StopResult } from './types.js';

/** Everything the exit code depends on. */
export interface StopFacts extends ShutdownOutcome {
  readonly reason: string;
  readonly wasReady: boolean;
  readonly failed: boolean;
  readonly forced: boolean;
  readonly drainMs: number;
  readonly error: unknown;
  /** A code decided elsewhere (130 for a second SIGINT). */
  readonly exitCode?: number;
  /** The signals the worker handles, and whether to exit with 128 + signal number after one. */
  readonly signals: readonly string[];
  readonly exitCodeFromSignal: boolean;
}

/**
 * The outcome of a stop and its exit code (docs/lifecycle.md): 0 for a clean stop (or 128 + signal
 * number with `exitCodeFromSignal`), 1 when anything was not clean (a failure, a forced exit,
 * work cut off, a failed shutdown hook), never 0 after a failure.
 */
export function stopResult(facts: StopFacts): StopResult & { readonly clean: boolean } {
  const clean =
    !facts.forced &&
    !facts.failed &&
    facts.abandoned.length === 0 &&
    facts.failedHooks.length === 0;
  const bySignal = facts.signals.includes(facts.reason);
  const exitCode =
    facts.exitCode ??
    (!clean ? 1 : bySignal && facts.exitCodeFromSignal ? signalExitCode(facts.reason) : 0);
  return {
    exitCode,
    clean,
    reason: facts.reason,
    failed: facts.failed,
    wasReady: facts.wasReady,
    drainMs: facts.drainMs,
    abandoned: facts.abandoned,
    failedHooks: facts.failedHooks,
    forced: facts.forced,
    ...(facts.error === undefined ? {} : { error: facts.error }),
  };
}
