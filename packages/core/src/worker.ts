import { type Clock, Deadline, systemClock } from './clock.js';
import { resolveSettings, resolveTiming, type Timing, type WorkerSettings } from './config.js';
import { TypedEmitter } from './emitter.js';
import { HandoverError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { type Hook, type HookFn, type HookOptions, runWarmupHooks, toHook } from './hooks.js';
import { newInstanceId } from './instance.js';
import { createDefaultLogger, type Logger } from './logger.js';
import type { ProcessPort, WorkerIdentity, WorkerOptions } from './options.js';
import type { BrokerPort, Port, ServerPort } from './ports.js';
import { wireProcess } from './process.js';
import { Shutdown, type ShutdownOutcome } from './shutdown.js';
import { StateMachine, type WorkerState } from './state.js';
import { stopResult } from './stop-result.js';
import {
  type TaskFn,
  type TaskHandle,
  type TaskInfo,
  type TaskMeta,
  TaskTracker,
} from './tasks.js';
import type { StopResult, Worker, WorkerEvents, WorkerSnapshot } from './types.js';
import { expectOption, received } from './validate.js';

/**
 * Creates a worker: the lifecycle of one process, from warm-up through readiness to a drain
 * that finishes in-flight work before the platform's SIGKILL. Attach adapters with
 * {@link Worker.use} (or the adapters' helpers), then call {@link Worker.start}.
 *
 * @example
 * ```ts
 * const worker = createWorker({ service: 'orders', identity: await readIdentity() });
 * worker.warmup('cache', (signal) => cache.load({ signal }));
 * worker.onShutdown('db', () => db.end());
 * await worker.start();
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  return new HandoverWorker(options);
}

class HandoverWorker implements Worker {
  readonly service: string;
  readonly id: string;
  readonly instance = newInstanceId();
  readonly version: string;
  readonly identity: WorkerIdentity;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly stopped: Promise<StopResult>;

  readonly #options: WorkerOptions;
  readonly #settings: WorkerSettings;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #clock: Clock;
  readonly #process: ProcessPort;
  readonly #machine: StateMachine;
  readonly #tasks: TaskTracker;
  readonly #events: TypedEmitter<WorkerEvents>;
  readonly #warmups: Hook[] = [];
  readonly #shutdownHooks: Hook[] = [];
  readonly #brokers: BrokerPort[] = [];
  readonly #servers: ServerPort[] = [];
  readonly #health = new Map<string, string | undefined>();
  readonly #warmupAbort = new AbortController();
  readonly #stopSignal = new AbortController();
  #timing: Timing | undefined;
  #starting: Promise<void> | undefined;
  #registration: Promise<void> | undefined;
  #stopping: Promise<StopResult> | undefined;
  #shutdown: Shutdown | undefined;
  #unwire: (() => void) | undefined;
  readonly #heartbeat: Heartbeat;
  #startedAt: number | undefined;
  #readyAt: number | undefined;
  #lastReady = false;
  #finished = false;
  #resolveStopped!: (result: StopResult) => void;

  constructor(options: WorkerOptions) {
    this.#settings = resolveSettings(options);
    this.#options = options;
    this.#env = options.env ?? process.env;
    resolveTiming(options, this.#env, false);
    this.#clock = options.clock ?? systemClock;
    this.#process = options.process ?? process;
    this.service = this.#settings.service;
    this.id = this.#settings.id;
    this.version = this.#settings.version;
    this.metadata = this.#settings.metadata;
    this.concurrency = this.#settings.concurrency;
    this.identity = options.identity;
    this.logger = (options.logger ?? createDefaultLogger(this.#env)).child({
      service: this.service,
      id: this.id,
      instance: this.instance,
    });
    this.#events = new TypedEmitter((error, event) =>
      this.logger.error({ err: error, event, state: this.state }, 'event listener threw'),
    );
    this.#machine = new StateMachine(
      () => this.#clock.now(),
      (change) => {
        this.logger.info(
          { state: change.to, from: change.from, reason: change.reason },
          'state changed',
        );
        this.#events.emit('state', change);
        this.#checkReadiness(`state:${change.to}`);
      },
    );
    this.#tasks = new TaskTracker(this.concurrency, () => this.#clock.now());
    this.#heartbeat = new Heartbeat(this.#clock, this.#brokers, this.logger);
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  get stopping(): AbortSignal {
    return this.#stopSignal.signal;
  }

  get state(): WorkerState {
    return this.#machine.state;
  }

  get ready(): boolean {
    return this.state === 'ready' && this.#health.size === 0;
  }

  get started(): boolean {
    return this.#readyAt !== undefined;
  }

  get timing(): Timing {
    return this.#timing ?? resolveTiming(this.#options, this.#env, this.#servers.length > 0);
  }

  get inflight(): number {
    return this.#tasks.size;
  }

  get freeSlots(): number {
    return this.#tasks.free;
  }

  whenSlotFree(): Promise<void> {
    return this.#tasks.whenSlotFree();
  }

  warmup(name: string, fn: HookFn, options?: HookOptions): this {
    this.#expectState(['created'], 'add a warm-up hook');
    this.#warmups.push(toHook('warmup', name, fn, options));
    return this;
  }

  onShutdown(name: string, fn: HookFn, options?: HookOptions): this {
    this.#expectState(['created', 'warming', 'ready'], 'add a shutdown hook');
    this.#shutdownHooks.push(toHook('onShutdown', name, fn, options));
    return this;
  }

  use(port: Port): this {
    this.#expectState(['created'], 'attach an adapter');
    expectOption(
      typeof port === 'object' &&
        port !== null &&
        (port.kind === 'broker' || port.kind === 'server'),
      `Expected \`use()\` to get a broker or server port, got ${received(port)}`,
    );
    if (port.kind === 'broker') this.#brokers.push(port);
    else this.#servers.push(port);
    port.attach(this);
    return this;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  drain(reason = 'api'): Promise<StopResult> {
    this.#stopping ??= this.#beginStop(reason, { failed: false, fatal: false });
    return this.#stopping;
  }

  run<T>(fn: TaskFn<T>, meta?: TaskMeta): Promise<T> {
    return this.#tasks.run(fn, meta);
  }

  track(meta?: TaskMeta): TaskHandle {
    return this.#tasks.track(meta);
  }

  tasks(): TaskInfo[] {
    return this.#tasks.list();
  }

  setHealth(component: string, healthy: boolean, detail?: string): void {
    if (healthy) this.#health.delete(component);
    else this.#health.set(component, detail);
    this.#checkReadiness(
      healthy ? `${component}: healthy` : `${component}: ${detail ?? 'unhealthy'}`,
    );
  }

  snapshot(): WorkerSnapshot {
    return {
      service: this.service,
      id: this.id,
      instance: this.instance,
      version: this.version,
      hostname: this.identity.hostname,
      addresses: this.identity.addresses,
      pid: this.#process.pid,
      metadata: this.metadata,
      state: this.state,
      startedAt: this.#startedAt,
      readyAt: this.#readyAt,
      inflight: this.#tasks.size,
      concurrency: this.concurrency,
      http: this.#servers.map((s) => s.url()).find((url) => url !== undefined),
    };
  }

  on<E extends keyof WorkerEvents & string>(
    event: E,
    listener: (value: WorkerEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  async #start(): Promise<void> {
    this.#expectState(['created'], 'start');
    const timing = resolveTiming(this.#options, this.#env, this.#servers.length > 0);
    this.#timing = timing;
    this.#unwire = wireProcess(this.#process, this.#settings.signals, this.#settings.exit, {
      onSignal: (signal) => this.#onSignal(signal),
      onFatal: (reason, error) => this.#fail(reason, error),
    });
    this.#startedAt = this.#clock.now();
    this.logger.info({ state: 'warming', timing }, 'starting');
    this.#machine.transition('warming', 'start');

    const warmupTimeout = new Deadline(
      this.#clock,
      this.#startedAt + timing.warmupTimeoutMs,
      () =>
        new HandoverError(
          'HANDOVER_E_WARMUP_TIMEOUT',
          `warm-up did not finish within warmupTimeoutMs (${timing.warmupTimeoutMs} ms)`,
        ),
    );
    const stopSignal = this.#warmupAbort.signal;
    try {
      await Promise.all([
        runWarmupHooks(
          this.#warmups,
          this.#clock,
          AbortSignal.any([warmupTimeout.signal, stopSignal]),
          this.logger,
        ),
        ...this.#brokers.map((broker) => broker.connect(stopSignal)),
      ]);
      if (stopSignal.aborted) throw stopSignal.reason;
    } catch (error) {
      return this.#notReady(error);
    } finally {
      warmupTimeout.cancel();
    }

    this.#readyAt = this.#clock.now();
    this.#machine.transition('ready', 'warmed-up');
    // A drain that starts meanwhile waits for this before it announces anything.
    this.#registration = (async () => {
      for (const broker of this.#brokers) await broker.register();
    })();
    try {
      await this.#registration;
    } catch (error) {
      this.#fail('registration-failed', error);
      return this.#notReady(error);
    }
    if (this.state !== 'ready') return;
    this.#heartbeat.start(timing.heartbeatMs);
    this.logger.info({ state: this.state, warmupMs: this.#readyAt - this.#startedAt }, 'ready');
  }

  /** The worker will not (or no longer) be ready: wait for the stop, then settle start(). */
  async #notReady(error: unknown): Promise<never> {
    if (this.#stopping === undefined) {
      this.logger.error({ err: error, state: this.state }, 'warm-up failed');
      this.#stopping = this.#beginStop('warm-up-failed', { failed: true, fatal: false, error });
    }
    const result = await this.#stopping;
    if (this.#settings.exit) return new Promise<never>(() => {});
    if (result.failed) throw result.error ?? error;
    throw new HandoverError(
      'HANDOVER_E_STOPPED_BEFORE_READY',
      `the worker stopped before it was ready (${result.reason})`,
    );
  }

  #beginStop(
    reason: string,
    init: { failed: boolean; fatal: boolean; error?: unknown },
  ): Promise<StopResult> {
    const from = this.state;
    this.#stopSignal.abort(reason);
    if (from === 'created') {
      this.#machine.transition('stopped', reason);
      this.#finish({ abandoned: [], failedHooks: [] }, { reason, wasReady: false });
      return this.stopped;
    }
    const wasReady = from === 'ready';
    if (from === 'warming') {
      this.#warmupAbort.abort(
        new HandoverError('HANDOVER_E_STOPPED_BEFORE_READY', `stopped during warm-up (${reason})`),
      );
    }
    this.#machine.transition(init.fatal ? 'failed' : wasReady ? 'draining' : 'stopping', reason);
    const shutdown = new Shutdown(
      {
        clock: this.#clock,
        timing: this.timing,
        logger: this.logger,
        tasks: this.#tasks,
        brokers: this.#brokers,
        servers: this.#servers,
        shutdownHooks: this.#shutdownHooks,
        stopHeartbeat: () => this.#heartbeat.stop(),
        registration: this.#registration,
      },
      { reason, wasReady, failed: init.failed, error: init.error },
    );
    this.#shutdown = shutdown;
    shutdown.hardDeadline.signal.addEventListener('abort', () => this.#forceExit(), { once: true });
    // A zero budget (failureDrainMs and shutdownReserveMs both 0) fires before the listener.
    if (shutdown.hardDeadline.signal.aborted) queueMicrotask(() => this.#forceExit());
    shutdown.run().then(
      (outcome) => this.#finish(outcome, { reason, wasReady }),
      (error: unknown) => {
        this.logger.error({ err: error, state: this.state }, 'shutdown sequence threw');
        this.#finish(
          { abandoned: this.#tasks.list(), failedHooks: [] },
          { reason, wasReady, forced: true },
        );
      },
    );
    return this.stopped;
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (this.#stopping === undefined) {
      this.logger.info({ signal, state: this.state }, 'signal received: stopping');
      void this.drain(signal);
    } else if (signal === 'SIGINT') {
      this.logger.warn({ signal, state: this.state }, 'SIGINT while stopping: exiting at once');
      this.#finish(
        { abandoned: this.#tasks.list(), failedHooks: [] },
        {
          reason: this.#shutdown?.reason ?? signal,
          wasReady: this.started,
          forced: true,
          exitCode: 130,
        },
      );
    } else {
      this.logger.warn({ signal, state: this.state }, 'signal received while stopping: ignored');
    }
  }

  #fail(reason: string, error: unknown): void {
    const state = this.state;
    this.logger.error({ err: error, reason, state }, 'fatal error');
    if (state === 'created' || state === 'failed' || state === 'stopped') return;
    const shutdown = this.#shutdown;
    if (shutdown === undefined) {
      this.#stopping = this.#beginStop(reason, { failed: true, fatal: true, error });
      return;
    }
    this.#machine.transition('failed', reason);
    shutdown.markFailed(error, reason);
  }

  #forceExit(): void {
    if (this.#finished) return;
    const unfinished = this.#tasks.list();
    this.logger.error(
      {
        state: this.state,
        unfinished: unfinished.length,
        gracePeriodMs: this.timing.gracePeriodMs,
      },
      'grace period over before the shutdown finished: forcing exit',
    );
    for (const task of unfinished) this.logger.error({ task }, 'unfinished at forced exit');
    this.#finish(
      { abandoned: unfinished, failedHooks: [] },
      { reason: this.#shutdown?.reason ?? 'deadline', wasReady: this.started, forced: true },
    );
  }

  #finish(
    outcome: ShutdownOutcome,
    how: { reason: string; wasReady: boolean; forced?: boolean; exitCode?: number },
  ): void {
    if (this.#finished) return;
    this.#finished = true;
    const shutdown = this.#shutdown;
    shutdown?.dispose();
    this.#heartbeat.stop();
    this.#tasks.close('the worker has stopped');
    if (this.state !== 'stopped') this.#machine.transition('stopped', how.reason);
    this.#unwire?.();
    const { clean, ...result } = stopResult({
      ...outcome,
      ...how,
      failed: shutdown?.failed ?? false,
      forced: how.forced ?? false,
      drainMs: shutdown ? this.#clock.now() - shutdown.startedAt : 0,
      error: shutdown?.error,
      signals: this.#settings.signals,
      exitCodeFromSignal: this.#settings.exitCodeFromSignal,
    });
    const fields = {
      state: 'stopped',
      exitCode: result.exitCode,
      reason: result.reason,
      drainMs: result.drainMs,
      abandoned: result.abandoned.length,
    };
    if (clean) this.logger.info(fields, 'stopped');
    else {
      const { failed, forced, failedHooks } = result;
      this.logger.warn({ ...fields, failed, forced, failedHooks }, 'stopped');
    }
    this.#events.emit('stopped', result);
    this.#resolveStopped(result);
    // One turn of the event loop first, so code awaiting `stopped` still runs (and logs flush).
    if (this.#settings.exit) setImmediate(() => this.#process.exit(result.exitCode));
  }

  #checkReadiness(reason: string): void {
    const ready = this.ready;
    if (ready === this.#lastReady) return;
    this.#lastReady = ready;
    this.#events.emit('readiness', { ready, reason });
  }

  #expectState(allowed: readonly WorkerState[], action: string): void {
    if (!allowed.includes(this.state)) {
      throw new HandoverError(
        'HANDOVER_E_INVALID_STATE',
        `cannot ${action} in state ${this.state} (allowed in: ${allowed.join(', ')})`,
      );
    }
  }
}
