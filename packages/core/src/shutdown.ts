import { type Clock, Deadline, sleep } from './clock.js';
import type { Timing } from './config.js';
import { describeError, HandoverError, TaskAbortedError } from './errors.js';
import { type Hook, runShutdownHooks, runWithTimeout } from './hooks.js';
import type { Logger } from './logger.js';
import type { BrokerPort, DrainNotice, ServerPort } from './ports.js';
import type { TaskInfo, TaskTracker } from './tasks.js';

/** What the shutdown needs from the worker. */
export interface ShutdownContext {
  readonly clock: Clock;
  readonly timing: Timing;
  readonly logger: Logger;
  readonly tasks: TaskTracker;
  readonly brokers: readonly BrokerPort[];
  readonly servers: readonly ServerPort[];
  readonly shutdownHooks: readonly Hook[];
  /** The brokers' registration, if it was still running when the stop began. */
  readonly registration?: Promise<void> | undefined;
  stopHeartbeat(): void;
}

export interface ShutdownOutcome {
  readonly abandoned: readonly TaskInfo[];
  readonly failedHooks: readonly string[];
}

/** Resolves `true` if `promise` settles before `signal` fires, else `false`. */
function settlesBefore(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
    );
  });
}

/**
 * One run of the shutdown sequence (DESIGN.md, "Lifecycle"), from the stop signal to the
 * moment the worker may exit:
 *
 * announce draining and stop intake → drain delay → close servers → wait for in-flight work
 * (cut off at the drain deadline) → deregister → shutdown hooks → close brokers.
 *
 * The drain deadline is `gracePeriodMs - shutdownReserveMs` after the start; the hard deadline
 * (`hardDeadline`) is the end of the grace period. A failure moves both earlier.
 */
export class Shutdown {
  readonly startedAt: number;
  readonly reason: string;
  readonly wasReady: boolean;
  readonly drainDeadline: Deadline;
  readonly hardDeadline: Deadline;
  #failed: boolean;
  #error: unknown;
  readonly #ctx: ShutdownContext;
  readonly #cutDelay = new AbortController();
  /** Set once deregistration begins: nothing is announced to the brokers after that. */
  #deregistering = false;

  constructor(
    ctx: ShutdownContext,
    init: { reason: string; wasReady: boolean; failed: boolean; error?: unknown },
  ) {
    this.#ctx = ctx;
    const { clock, timing } = ctx;
    this.startedAt = clock.now();
    this.reason = init.reason;
    this.wasReady = init.wasReady;
    this.#failed = init.failed;
    this.#error = init.error;
    const drainMs = init.failed
      ? Math.min(timing.failureDrainMs, timing.gracePeriodMs - timing.shutdownReserveMs)
      : timing.gracePeriodMs - timing.shutdownReserveMs;
    this.drainDeadline = new Deadline(clock, this.startedAt + drainMs, () =>
      deadlineError('drain'),
    );
    this.hardDeadline = new Deadline(
      clock,
      this.startedAt + Math.min(timing.gracePeriodMs, drainMs + timing.shutdownReserveMs),
      () => deadlineError('grace period'),
    );
    if (init.failed) this.#cutDelay.abort();
  }

  get failed(): boolean {
    return this.#failed;
  }

  get error(): unknown {
    return this.#error;
  }

  /**
   * A fatal error during the shutdown: cut the drain delay, move the deadlines earlier and
   * announce the failure.
   */
  markFailed(error: unknown, reason: string): void {
    const { clock, timing, brokers } = this.#ctx;
    this.#failed = true;
    this.#error ??= error;
    this.#cutDelay.abort();
    const now = clock.now();
    this.drainDeadline.shorten(now + timing.failureDrainMs, () => deadlineError('drain'));
    this.hardDeadline.shorten(now + timing.failureDrainMs + timing.shutdownReserveMs, () =>
      deadlineError('grace period'),
    );
    if (!this.wasReady || this.#deregistering) return;
    for (const broker of brokers) {
      void this.#step(broker.name, 'markDraining', () =>
        broker.markDraining({ reason, failed: true }),
      );
    }
  }

  /** Runs the sequence; resolves when the worker may exit. */
  async run(): Promise<ShutdownOutcome> {
    const { clock, timing, logger, tasks, brokers, servers } = this.#ctx;
    const notice = (): DrainNotice => ({ reason: this.reason, failed: this.#failed });

    // A registration still under way finishes first: announcing `draining` before it would
    // let a late `ready` overwrite it.
    const registration = this.#ctx.registration;
    if (this.wasReady && registration) {
      await this.#step('worker', 'registration', () => registration.catch(() => {}));
    }
    const brokersStopped = this.wasReady
      ? Promise.all(
          brokers.map(async (broker) => {
            await this.#step(broker.name, 'markDraining', () => broker.markDraining(notice()));
            await this.#step(broker.name, 'stopIntake', () => broker.stopIntake());
          }),
        )
      : Promise.resolve([]);
    if (this.wasReady) await sleep(clock, timing.drainDelayMs, this.#cutDelay.signal);

    const serversClosed = Promise.all(
      servers.map((server) =>
        server.close(this.drainDeadline.signal).catch((error: unknown) => {
          logger.error({ server: server.name, err: error }, 'server close failed');
        }),
      ),
    );
    const deadline = this.drainDeadline.signal;
    const drained =
      (await settlesBefore(Promise.all([brokersStopped, serversClosed]), deadline)) &&
      (await settlesBefore(tasks.whenIdle(), deadline));
    tasks.close(drained ? 'the worker has drained' : 'the drain deadline passed');

    let abandoned: TaskInfo[] = [];
    if (!drained) {
      abandoned = tasks.abortAll('task aborted: the drain deadline passed');
      for (const task of abandoned) {
        logger.warn({ task }, 'task cut off at the drain deadline');
      }
      // The servers saw the deadline too and are destroying what is left.
      await settlesBefore(serversClosed, this.hardDeadline.signal);
    }
    this.#ctx.stopHeartbeat();

    this.#deregistering = true;
    if (this.wasReady) {
      const summary = {
        ...notice(),
        drainMs: clock.now() - this.startedAt,
        abandoned: abandoned.length,
      };
      await Promise.all(
        brokers.map((broker) =>
          this.#step(broker.name, 'deregister', () => broker.deregister(summary)),
        ),
      );
    }
    const hooks = await runShutdownHooks(
      this.#ctx.shutdownHooks,
      clock,
      timing.hookTimeoutMs,
      () => this.hardDeadline.remaining(),
      logger,
    );
    await Promise.all(
      brokers.map((broker) => this.#step(broker.name, 'close', () => broker.close())),
    );
    return { abandoned, failedHooks: hooks.failed };
  }

  /** Stops the deadline timers (the sequence finished or was forced). */
  dispose(): void {
    this.drainDeadline.cancel();
    this.hardDeadline.cancel();
  }

  /** One adapter step, bounded by `hookTimeoutMs` and the hard deadline; failures are logged. */
  async #step(port: string, step: string, fn: () => Promise<void>): Promise<void> {
    const { clock, timing, logger } = this.#ctx;
    const ms = Math.max(1, Math.min(timing.hookTimeoutMs, this.hardDeadline.remaining()));
    try {
      await runWithTimeout(
        clock,
        ms,
        fn,
        () =>
          new HandoverError('HANDOVER_E_HOOK_TIMEOUT', `${port} ${step} timed out after ${ms} ms`),
      );
    } catch (error) {
      logger.warn(
        { port, step, error: describeError(error) },
        'adapter step failed; continuing the shutdown',
      );
    }
  }
}

function deadlineError(which: string): TaskAbortedError {
  return new TaskAbortedError(`the ${which} deadline passed`);
}
