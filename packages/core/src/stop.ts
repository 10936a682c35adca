import type { AttachedPorts } from './attached.js';
import type { Clock } from './clock.js';
import type { Timing } from './config.js';
import type { Heartbeat } from './heartbeat.js';
import type { Hook } from './hooks.js';
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import type { ProcessPort } from './options.js';
import { signalAction } from './process.js';
import { Shutdown, type ShutdownOutcome } from './shutdown.js';
import { stopResult } from './stop-result.js';
import type { TaskTracker } from './tasks.js';
import type { StopResult } from './types.js';

export interface StopDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly tasks: TaskTracker;
  readonly ports: AttachedPorts;
  readonly heartbeat: Heartbeat;
  readonly shutdownHooks: readonly Hook[];
  readonly timing: () => Timing;
  readonly process: ProcessPort;
  readonly signals: readonly NodeJS.Signals[];
  /** Whether the worker owns the process (calls `process.exit`). */
  readonly exit: boolean;
  readonly exitCodeFromSignal: boolean;
  /** Called once, when the worker has stopped (before the process exits). */
  readonly onStopped: (result: StopResult) => void;
}

/**
 * How the worker stops: begins the shutdown once, turns signals and fatal errors into stops
 * (the signal policy), forces the exit when the grace period runs out, and settles `stopped`
 * with the exit code.
 */
export class StopControl {
  readonly stopped: Promise<StopResult>;
  readonly #deps: StopDeps;
  #shutdown: Shutdown | undefined;
  #resolve!: (result: StopResult) => void;

  constructor(deps: StopDeps) {
    this.#deps = deps;
    this.stopped = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Begins the stop (once: later calls change nothing); resolves when the worker has stopped. */
  begin(
    reason: string,
    how: { failed: boolean; fatal: boolean; error?: unknown },
  ): Promise<StopResult> {
    const { lifecycle } = this.#deps;
    if (lifecycle.stop !== undefined) return this.stopped;
    const fromCreated = lifecycle.state === 'created';
    const begun = lifecycle.beginStop(reason, how);
    if (fromCreated) {
      this.#finish({ abandoned: [], failedHooks: [] }, { forced: false });
      return this.stopped;
    }
    const shutdown = new Shutdown({ ...this.#deps, timing: this.#deps.timing() }, begun);
    this.#shutdown = shutdown;
    shutdown.hardDeadline.signal.addEventListener('abort', () => this.#forceExit(), { once: true });
    // A zero budget (failureDrainMs and shutdownReserveMs both 0) fires before the listener.
    if (shutdown.hardDeadline.signal.aborted) queueMicrotask(() => this.#forceExit());
    shutdown.run().then(
      (outcome) => this.#finish(outcome, { forced: false }),
      (error: unknown) => {
        this.#deps.logger.error({ err: error, state: lifecycle.state }, 'shutdown sequence threw');
        this.#finish({ abandoned: this.#deps.tasks.list(), failedHooks: [] }, { forced: true });
      },
    );
    return this.stopped;
  }

  /** A handled signal: the first one drains, a SIGINT while stopping exits at once. */
  onSignal(signal: NodeJS.Signals): void {
    const { logger, lifecycle, tasks } = this.#deps;
    const state = lifecycle.state;
    switch (signalAction(signal, lifecycle.stop !== undefined)) {
      case 'drain':
        logger.info({ signal, state }, 'signal received: stopping');
        void this.begin(signal, { failed: false, fatal: false });
        return;
      case 'exit-now':
        logger.warn({ signal, state }, 'SIGINT while stopping: exiting at once');
        this.#finish({ abandoned: tasks.list(), failedHooks: [] }, { forced: true, exitCode: 130 });
        // Everything still running is cut off now (task signals fire, servers destroy their
        // connections) and the rest of the sequence runs on empty budgets: with `exit: false`
        // nothing is left hanging.
        this.#shutdown?.force();
        return;
      case 'ignore':
        logger.warn({ signal, state }, 'signal received while stopping: ignored');
    }
  }

  /** A fatal error: a failed stop (or, during one, an earlier deadline and `failed`). */
  fail(reason: string, error: unknown): void {
    const { lifecycle, logger } = this.#deps;
    const state = lifecycle.state;
    logger.error({ err: error, reason, state }, 'fatal error');
    if (state === 'created' || state === 'failed' || state === 'stopped') return;
    const shutdown = this.#shutdown;
    if (shutdown === undefined) {
      void this.begin(reason, { failed: true, fatal: true, error });
      return;
    }
    lifecycle.failDuringStop(reason, error);
    shutdown.onFailure(reason);
  }

  #forceExit(): void {
    const { lifecycle, logger, tasks } = this.#deps;
    if (lifecycle.finished) return;
    const unfinished = tasks.list();
    logger.error(
      {
        state: lifecycle.state,
        unfinished: unfinished.length,
        gracePeriodMs: this.#deps.timing().gracePeriodMs,
      },
      'grace period over before the shutdown finished: forcing exit',
    );
    for (const task of unfinished) logger.error({ task }, 'unfinished at forced exit');
    this.#finish({ abandoned: unfinished, failedHooks: [] }, { forced: true });
  }

  #finish(outcome: ShutdownOutcome, how: { forced: boolean; exitCode?: number }): void {
    const deps = this.#deps;
    const { lifecycle, logger } = deps;
    const begun = lifecycle.stop;
    if (lifecycle.finished) return;
    this.#shutdown?.dispose();
    deps.heartbeat.stop();
    deps.tasks.close('the worker has stopped');
    const reason = begun?.reason ?? 'deadline';
    lifecycle.finish(reason);
    const { clean, ...result } = stopResult({
      ...outcome,
      ...how,
      reason,
      wasReady: begun?.wasReady ?? false,
      failed: lifecycle.failed,
      drainMs: begun ? deps.clock.now() - begun.at : 0,
      error: lifecycle.error,
      signals: deps.signals,
      exitCodeFromSignal: deps.exitCodeFromSignal,
    });
    const fields = {
      state: 'stopped',
      exitCode: result.exitCode,
      reason: result.reason,
      drainMs: result.drainMs,
      abandoned: result.abandoned.length,
    };
    if (clean) logger.info(fields, 'stopped');
    else {
      const { failed, forced, failedHooks } = result;
      logger.warn({ ...fields, failed, forced, failedHooks }, 'stopped');
    }
    deps.onStopped(result);
    this.#resolve(result);
    // One turn of the event loop first, so code awaiting `stopped` still runs (and logs flush).
    if (deps.exit) setImmediate(() => deps.process.exit(result.exitCode));
  }
}
