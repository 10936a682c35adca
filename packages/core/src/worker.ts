import { AttachedPorts } from './attached.js';
import { type Clock, systemClock } from './clock.js';
import { resolveSettings, resolveTiming, type Timing, type WorkerSettings } from './config.js';
import { createPortContext } from './context.js';
import { TypedEmitter } from './emitter.js';
import { HandoverError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { type Hook, type HookFn, type HookOptions, toHook } from './hooks.js';
import { logIdentity, resolveIdentity } from './identity.js';
import { newInstanceId } from './instance.js';
import { Lifecycle } from './lifecycle.js';
import { createDefaultLogger, type Logger } from './logger.js';
import type { ProcessPort, WorkerIdentity, WorkerOptions } from './options.js';
import type { Port } from './ports.js';
import { wireProcess } from './process.js';
import { Readiness } from './readiness.js';
import { warmUp } from './startup.js';
import type { WorkerState } from './state.js';
import { Stats } from './stats.js';
import { StopControl } from './stop.js';
import { type TaskFn, type TaskInfo, type TaskMeta, TaskTracker } from './tasks.js';
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
export function createWorker(options?: WorkerOptions): Worker {
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
  readonly #lifecycle: Lifecycle;
  readonly #readiness: Readiness;
  readonly #tasks: TaskTracker;
  readonly #events: TypedEmitter<WorkerEvents>;
  readonly #warmups: Hook[] = [];
  readonly #shutdownHooks: Hook[] = [];
  readonly #ports = new AttachedPorts();
  readonly #heartbeat: Heartbeat;
  readonly #stop: StopControl;
  readonly #stats = new Stats();
  #timing: Timing | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: WorkerOptions = {}) {
    this.#env = (options as WorkerOptions | null)?.env ?? process.env;
    this.#settings = resolveSettings(options, this.#env);
    this.#options = options;
    resolveTiming(options, this.#env, false);
    this.#clock = options.clock ?? systemClock;
    this.#process = options.process ?? process;
    const resolved = resolveIdentity(options.identity, this.#env, this.#process.pid);
    this.service = this.#settings.service;
    this.identity = resolved.identity;
    this.id = this.identity.id;
    this.version = this.#settings.version;
    this.metadata = this.#settings.metadata;
    this.concurrency = this.#settings.concurrency;
    this.logger = (options.logger ?? createDefaultLogger(this.#env)).child({
      service: this.service,
      id: this.id,
      instance: this.instance,
    });
    logIdentity(this.logger, resolved);
    this.#events = new TypedEmitter((error, event) =>
      this.logger.error({ err: error, event, state: this.state }, 'event listener threw'),
    );
    this.#readiness = new Readiness(
      () => this.state === 'ready',
      (change) => this.#events.emit('readiness', change),
    );
    this.#lifecycle = new Lifecycle(
      () => this.#clock.now(),
      (change) => {
        this.logger.info(
          { state: change.to, from: change.from, reason: change.reason },
          'state changed',
        );
        this.#events.emit('state', change);
        this.#readiness.check(`state:${change.to}`);
      },
    );
    // Work starts (every HTTP request) are stamped with `Date.now` itself, not through the
    // clock's wrapper. It was read once per turn of the loop (a `setImmediate` to forget the
    // reading): that cost ~400 instructions a request more on Fastify's hello-world than a
    // reading each time (vDSO, ~40 ns here). docs/benchmarks.md.
    this.#tasks = new TaskTracker(
      this.concurrency,
      () => this.#clock.now(),
      this.#stats,
      this.#clock === systemClock ? Date.now : undefined,
    );
    this.#heartbeat = new Heartbeat(this.#clock, this.#ports.all, this.logger);
    this.#stop = new StopControl({
      clock: this.#clock,
      logger: this.logger,
      lifecycle: this.#lifecycle,
      tasks: this.#tasks,
      ports: this.#ports,
      heartbeat: this.#heartbeat,
      shutdownHooks: this.#shutdownHooks,
      timing: () => this.timing,
      process: this.#process,
      signals: this.#settings.signals,
      exit: this.#settings.exit,
      exitCodeFromSignal: this.#settings.exitCodeFromSignal,
      onStopped: (result) => this.#events.emit('stopped', result),
    });
    this.stopped = this.#stop.stopped;
  }

  get stopSignal(): AbortSignal {
    return this.#lifecycle.stopSignal;
  }

  get state(): WorkerState {
    return this.#lifecycle.state;
  }

  get ready(): boolean {
    return this.#readiness.ready;
  }

  get hasBeenReady(): boolean {
    return this.#lifecycle.hasBeenReady;
  }

  waitingFor(): Readonly<Record<string, string>> {
    return this.#readiness.waitingFor();
  }

  get timing(): Timing {
    return this.#timing ?? resolveTiming(this.#options, this.#env, this.#ports.hasServers);
  }

  get inflight(): number {
    return this.#tasks.size;
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
        ['broker', 'server', 'extension'].includes(port.kind) &&
        typeof port.attach === 'function',
      `Expected \`use()\` to get a port (a broker, server or extension adapter), got ${received(port)}`,
    );
    this.#ports.add(port);
    port.attach(
      createPortContext({
        worker: this,
        tasks: this.#tasks,
        lifecycle: this.#lifecycle,
        readiness: this.#readiness,
        snapshot: () => this.#snapshot(),
        env: this.#env,
        stats: this.#stats,
      }),
    );
    return this;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  drain(reason = 'api'): Promise<StopResult> {
    return this.#stop.begin(reason, { failed: false, fatal: false });
  }

  run<T>(fn: TaskFn<T>, meta?: TaskMeta): Promise<T> {
    return this.#tasks.run(fn, meta);
  }

  tasks(): TaskInfo[] {
    return this.#tasks.list();
  }

  on<E extends keyof WorkerEvents & string>(
    event: E,
    listener: (value: WorkerEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  async #start(): Promise<void> {
    this.#expectState(['created'], 'start');
    const timing = resolveTiming(this.#options, this.#env, this.#ports.hasServers);
    this.#timing = timing;
    const unwire = wireProcess(this.#process, this.#settings.signals, this.#settings.exit, {
      onSignal: (signal) => this.#stop.onSignal(signal),
      onFatal: (reason, error) => this.#stop.fail(reason, error),
    });
    void this.stopped.then(unwire);
    const lifecycle = this.#lifecycle;
    this.logger.info({ state: 'warming', timing }, 'starting');
    lifecycle.beginWarmup();
    const stopSignal = lifecycle.stopSignal;
    try {
      await warmUp({
        clock: this.#clock,
        timing,
        logger: this.logger,
        hooks: this.#warmups,
        ports: this.#ports,
        stopSignal,
        readiness: this.#readiness,
      });
    } catch (error) {
      return this.#notReady('warm-up-failed', error);
    }
    // Ready means ready everywhere: intake open and announced on every port first.
    lifecycle.beginAnnouncing();
    try {
      await this.#ports.open(stopSignal);
    } catch (error) {
      return this.#notReady('registration-failed', error);
    }
    if (stopSignal.aborted) return this.#notReady('stopped', stopSignal.reason);
    lifecycle.becomeReady();
    this.#heartbeat.start(timing.heartbeatMs);
    const { readyAt = 0, startedAt = 0 } = lifecycle;
    this.logger.info({ state: this.state, warmupMs: readyAt - startedAt }, 'ready');
  }

  /** The worker will not be ready: stop (unless already stopping), then settle start(). */
  async #notReady(reason: string, error: unknown): Promise<never> {
    if (this.#lifecycle.stop === undefined) {
      const message = reason === 'warm-up-failed' ? 'warm-up failed' : 'registration failed';
      this.logger.error({ err: error, state: this.state, reason }, message);
      void this.#stop.begin(reason, { failed: true, fatal: false, error });
    }
    const result = await this.stopped;
    if (this.#settings.exit) return new Promise<never>(() => {});
    if (result.failed) throw result.error ?? error;
    throw new HandoverError(
      'HANDOVER_E_STOPPED_BEFORE_READY',
      `the worker stopped before it was ready (${result.reason})`,
    );
  }

  #snapshot(): WorkerSnapshot {
    const { startedAt, announcedAt: readyAt } = this.#lifecycle;
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
      startedAt,
      readyAt,
      inflight: this.#tasks.size,
      concurrency: this.concurrency,
      http: this.#ports.url(),
    };
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
