import type { AttachedPorts } from './attached.js';
import { type Clock, Deadline, sleep } from './clock.js';
import type { Timing } from './config.js';
import { describeError, HandoverError, TaskAbortedError } from './errors.js';
import type { Heartbeat } from './heartbeat.js';
import { type Hook, runShutdownHooks, runWithTimeout } from './hooks.js';
import type { Lifecycle, StopBegun } from './lifecycle.js';
import type { Logger } from './logger.js';
import type { DrainNotice, Port } from './ports.js';
import type { TaskInfo, TaskTracker } from './tasks.js';

/** What the shutdown needs from the worker. */
export interface ShutdownContext {
  readonly clock: Clock;
  readonly timing: Timing;
  readonly logger: Logger;
  readonly tasks: TaskTracker;
  readonly lifecycle: Lifecycle;
  readonly ports: AttachedPorts;
  readonly shutdownHooks: readonly Hook[];
  readonly heartbeat: Heartbeat;
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
    const settled = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}

/**
 * One run of the shutdown sequence (docs/lifecycle.md), from the stop signal to the moment the
 * worker may exit:
 *
 * announce draining → brokers stop intake → drain delay → servers stop accepting → wait for
 * in-flight work (cut off at the drain deadline) → deregister → adapters' teardown and shutdown
 * hooks → close connections.
 *
 * The drain deadline is `gracePeriodMs - shutdownReserveMs` after the start; the hard deadline
 * (`hardDeadline`) is the end of the grace period. A failure moves both earlier.
 */
export class Shutdown {
  readonly drainDeadline: Deadline;
  readonly hardDeadline: Deadline;
  readonly #ctx: ShutdownContext;
  readonly #begun: StopBegun;
  readonly #cutDelay = new AbortController();
  /** The ports this drain goes through (fixed once the ports still opening have settled). */
  #draining: Port[] = [];

  constructor(ctx: ShutdownContext, begun: StopBegun) {
    this.#ctx = ctx;
    this.#begun = begun;
    const { clock, timing, lifecycle } = ctx;
    const drainMs = lifecycle.failed
      ? Math.min(timing.failureDrainMs, timing.gracePeriodMs - timing.shutdownReserveMs)
      : timing.gracePeriodMs - timing.shutdownReserveMs;
    this.drainDeadline = new Deadline(clock, begun.at + drainMs, () => deadlineError('drain'));
    this.hardDeadline = new Deadline(
      clock,
      begun.at + Math.min(timing.gracePeriodMs, drainMs + timing.shutdownReserveMs),
      () => deadlineError('grace period'),
    );
    if (lifecycle.failed) this.#cutDelay.abort();
  }

  /**
   * A fatal error during the shutdown: cut the drain delay, move the deadlines earlier and
   * announce the failure (unless deregistration has begun: then nothing more is announced).
   */
  onFailure(reason: string): void {
    const { clock, timing, lifecycle } = this.#ctx;
    this.#cutDelay.abort();
    const now = clock.now();
    this.drainDeadline.shorten(now + timing.failureDrainMs, () => deadlineError('drain'));
    this.hardDeadline.shorten(now + timing.failureDrainMs + timing.shutdownReserveMs, () =>
      deadlineError('grace period'),
    );
    if (lifecycle.deregistered) return;
    for (const port of this.#draining) {
      if (port.draining === undefined) continue;
      void this.#step(port.name, 'draining', () => port.draining?.({ reason, failed: true }));
    }
  }

  /** Ends the wait at once (a second SIGINT): both deadlines fire now. */
  force(): void {
    const now = this.#ctx.clock.now();
    this.drainDeadline.shorten(now, () => deadlineError('drain'));
    this.hardDeadline.shorten(now, () => deadlineError('grace period'));
  }

  /** Runs the sequence; resolves when the worker may exit. */
  async run(): Promise<ShutdownOutcome> {
    const { clock, timing, logger, tasks, lifecycle, ports } = this.#ctx;
    const notice = (): DrainNotice => ({ reason: this.#begun.reason, failed: lifecycle.failed });

    // Ports still opening were told to stop (`stopSignal`). What they did open is drained like
    // the rest, and only once they have settled, so that nothing is announced after `draining`.
    const opening = ports.opening;
    if (opening !== undefined) await this.#step('worker', 'open', () => opening);
    this.#draining = ports.toDrain();
    // Synchronous up to here when nothing was opening: readiness and `Connection: close`
    // change in the same turn as the signal.
    const announced = new Map(
      this.#draining.map((port) => [
        port,
        port.draining
          ? this.#step(port.name, 'draining', () => port.draining?.(notice()))
          : undefined,
      ]),
    );
    const deadline = this.drainDeadline.signal;
    const brokersStopped = Promise.all(
      this.#draining
        .filter((port) => port.kind === 'broker')
        .map(async (port) => {
          await announced.get(port);
          if (port.stopIntake)
            await this.#step(port.name, 'stopIntake', () => port.stopIntake?.(deadline));
        }),
    );
    if (this.#begun.wasReady) await sleep(clock, timing.drainDelayMs, this.#cutDelay.signal);

    // A server waits for its requests in flight: bounded by the drain deadline, not by
    // hookTimeoutMs (it destroys what is left when the deadline fires).
    const serversClosed = Promise.all(
      this.#draining
        .filter((port) => port.kind !== 'broker' && port.stopIntake !== undefined)
        .map((port) =>
          port.stopIntake?.(deadline).catch((error: unknown) => {
            logger.error({ port: port.name, err: error }, 'server close failed');
          }),
        ),
    );
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
    this.#ctx.heartbeat.stop();

    lifecycle.beginDeregistration();
    const summary = {
      ...notice(),
      drainMs: clock.now() - this.#begun.at,
      abandoned: abandoned.length,
    };
    await Promise.all(
      this.#draining.map((port) =>
        port.deregister
          ? this.#step(port.name, 'deregister', () => port.deregister?.(summary))
          : true,
      ),
    );
    const failedHooks = await this.#teardown();
    await Promise.all(
      ports.all.map((port) =>
        port.close ? this.#step(port.name, 'close', () => port.close?.()) : true,
      ),
    );
    return { abandoned, failedHooks };
  }

  /** Stops the deadline timers (the sequence finished or was forced). */
  dispose(): void {
    this.drainDeadline.cancel();
    this.hardDeadline.cancel();
  }

  /**
   * The user's teardown, after all work in flight of every port: adapters' teardowns (a
   * framework's close hooks), then the shutdown hooks, each in reverse order of registration.
   */
  async #teardown(): Promise<string[]> {
    const { clock, timing, logger, ports, shutdownHooks } = this.#ctx;
    const failed: string[] = [];
    for (const port of [...ports.all].reverse()) {
      const teardown = port.teardown?.bind(port);
      if (teardown && !(await this.#step(port.name, 'teardown', teardown))) {
        failed.push(`${port.name} teardown`);
      }
    }
    const hooks = await runShutdownHooks(
      shutdownHooks,
      clock,
      timing.hookTimeoutMs,
      () => this.hardDeadline.remaining(),
      logger,
    );
    return [...failed, ...hooks.failed];
  }

  /** One adapter step, bounded by `hookTimeoutMs` and the hard deadline; false if it failed. */
  async #step(name: string, step: string, fn: (signal: AbortSignal) => unknown): Promise<boolean> {
    const { clock, timing, logger } = this.#ctx;
    const ms = Math.max(1, Math.min(timing.hookTimeoutMs, this.hardDeadline.remaining()));
    try {
      await runWithTimeout(
        clock,
        ms,
        fn,
        () =>
          new HandoverError('HANDOVER_E_HOOK_TIMEOUT', `${name} ${step} timed out after ${ms} ms`),
      );
      return true;
    } catch (error) {
      logger.warn(
        { port: name, step, error: describeError(error) },
        'adapter step failed; continuing the shutdown',
      );
      return false;
    }
  }
}

function deadlineError(which: string): TaskAbortedError {
  return new TaskAbortedError(`the ${which} deadline passed`);
}
